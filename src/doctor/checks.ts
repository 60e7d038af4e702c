// `npm run doctor`: every setup check in order, one ✓/✗ line each with a fix for each ✗. The CLI
// (scripts/doctor.ts) only loads .env, prints formatReport() and exits with the report's verdict.
import { pino } from 'pino';
import { inviteUrl } from '../discord/invite.js';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { scrub, type Logger } from '../log.js';
import { discordChecks } from './discordChecks.js';
import { featureChecks } from './featureChecks.js';
import { imgOpenCheck, picwishCheck, publicUrlCheck, storeCheck } from './otherChecks.js';
import { proxyChecks } from './proxyChecks.js';
import { fail, pass, skip, type CheckResult, type DoctorContext } from './types.js';

export type { CheckResult, CheckStatus } from './types.js';

export interface DoctorReport {
  /** true only when no check failed */
  ok: boolean;
  results: CheckResult[];
  /** the invite link, once the application id is known */
  inviteUrl?: string | undefined;
  /** values that must never be printed (from the configuration) */
  secrets: string[];
}

export interface DoctorOptions {
  /** bound on each network call (default 10 s) */
  timeoutMs?: number;
  logger?: Logger;
}

/** Run every check against the given environment. Never throws for a failing check; never includes a secret. */
export async function runDoctor(env: Record<string, string | undefined>, opts: DoctorOptions = {}): Promise<DoctorReport> {
  const ctx: DoctorContext = { logger: opts.logger ?? pino({ level: 'silent' }), timeoutMs: opts.timeoutMs ?? 10_000 };
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (e) {
    const problems = e instanceof ConfigError ? e.problems : [e instanceof Error ? e.message : String(e)];
    const results = [
      fail(
        'config',
        'Configuration valid',
        problems.join('\n'),
        'set these in the environment or in .env next to package.json (see .env.example and the README)',
      ),
      skip('rest', 'Discord, proxy, image API, store and PUBLIC_URL checks', 'not run: they need a valid configuration'),
    ];
    return { ok: false, results, secrets: secretValues(env) };
  }

  const results: CheckResult[] = [pass('config', 'Configuration valid', describeConfig(config))];
  const [discord, proxy, features, imgOpen, picwish, store, publicUrl] = await Promise.all([
    discordChecks(config, ctx),
    proxyChecks(config, ctx),
    featureChecks(config, ctx),
    imgOpenCheck(config, ctx),
    picwishCheck(config, ctx),
    storeCheck(config, ctx),
    publicUrlCheck(config, ctx),
  ]);
  // the feature probes only mean something once the proxy answered with accepted credentials
  const proxyAnswers = proxy.every((r) => r.status !== 'fail' || r.id === 'proxy-dialect');
  results.push(...discord.results, ...proxy, ...(proxyAnswers ? features : []), imgOpen, picwish, store, publicUrl);
  return {
    ok: results.every((r) => r.status !== 'fail'),
    results,
    inviteUrl: discord.applicationId ? inviteUrl(discord.applicationId) : undefined,
    secrets: [...config.secrets, ...secretValues(env)],
  };
}

const MARK = { pass: '✓', fail: '✗', skip: '–' } as const;

/** The report as text: one line per check, an indented fix under each ✗, the invite URL, a verdict. */
export function formatReport(report: DoctorReport): string {
  const lines = ['mj-relay doctor', ''];
  for (const r of report.results) {
    const [first = '', ...more] = (r.detail ?? '').split('\n');
    lines.push(`${MARK[r.status]} ${r.title}${first ? `: ${first}` : ''}`);
    for (const m of more) lines.push(`    ${m}`);
    if (r.status === 'fail' && r.fix) lines.push(`    fix: ${r.fix}`);
  }
  lines.push('');
  lines.push(report.inviteUrl ? `Invite URL: ${report.inviteUrl}` : 'Invite URL: unknown until the Discord token works');
  const failed = report.results.filter((r) => r.status === 'fail').length;
  lines.push(failed === 0 ? 'All checks passed.' : `${failed} check${failed === 1 ? '' : 's'} failed.`);
  return `${scrub(lines.join('\n'), report.secrets)}\n`;
}

function describeConfig(config: Config): string {
  const parts = [
    `MJ_FLAVOR=${config.mj.flavor}`,
    `MJ_AUTH_HEADER=${config.mj.authStyle}`,
    `commands ${config.discord.guildId ? `in server ${config.discord.guildId}` : 'global'}`,
  ];
  parts.push(`store ${config.storeUrl.slice(0, config.storeUrl.indexOf('://'))}`);
  return parts.join(', ');
}

/** Secret values straight from the environment (also when the config did not parse), and the store URL's password. */
function secretValues(env: Record<string, string | undefined>): string[] {
  const out = ['DISCORD_TOKEN', 'MJ_API_SECRET', 'IMGOPEN_ACCESS_KEY_ID', 'IMGOPEN_ACCESS_KEY_SECRET', 'PICWISH_API_KEY'].map((k) => env[k]?.trim() ?? '');
  try {
    const password = env.STORE_URL ? new URL(env.STORE_URL).password : '';
    if (password) out.push(password, decodeURIComponent(password));
  } catch {
    // not a URL: nothing to hide
  }
  return out.filter((s) => s.length >= 4);
}
