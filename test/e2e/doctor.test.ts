import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUIRED_PERMISSIONS } from '../../src/app.js';
import { runDoctor, type CheckResult } from '../../src/doctor/checks.js';
import { startFakeImgOpen, type FakeImgOpen } from '../fakes/imgOpen/index.js';
import { startFakePicwish, type FakePicwish } from '../fakes/picwish/index.js';
import { BOT_TOKEN, PROXY_SECRET, World } from '../support/world.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const IMGOPEN_ID = 'fake-imgopen-id';
const IMGOPEN_SECRET = 'fake-imgopen-secret';
const PICWISH_KEY = 'fake-picwish-key';
const WRONG_SECRET = 'wrong-proxy-secret-123';

/** `npx tsx scripts/doctor.ts` with exactly this environment (no .env), killed (whole process group) after 40 s. */
async function runCli(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const child = spawn('npx', ['tsx', 'scripts/doctor.ts', '--no-env-file'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const killAll = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const timer = setTimeout(killAll, 40_000);
  try {
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    return { code, out };
  } finally {
    clearTimeout(timer);
    killAll();
  }
}

const checkLines = (out: string) => out.split('\n').filter((l) => /^[✓✗–] /.test(l));
const byId = (results: CheckResult[], id: string) => results.find((r) => r.id === id)!;

describe('npm run doctor against the fakes', () => {
  let world: World;
  let imgOpen: FakeImgOpen;
  let picwish: FakePicwish;
  let env: () => Record<string, string>;

  beforeAll(async () => {
    imgOpen = await startFakeImgOpen({ accessKeyId: IMGOPEN_ID, accessKeySecret: IMGOPEN_SECRET });
    picwish = await startFakePicwish({ apiKeys: [PICWISH_KEY] });
    const imageApis = {
      IMGOPEN_BASE_URL: imgOpen.url,
      IMGOPEN_ACCESS_KEY_ID: IMGOPEN_ID,
      IMGOPEN_ACCESS_KEY_SECRET: IMGOPEN_SECRET,
      PICWISH_BASE_URL: picwish.url,
      PICWISH_API_KEY: PICWISH_KEY,
    };
    // the bot runs with the same configuration the doctor checks (so it registered the same commands)
    world = await World.start({ env: imageApis });
    env = () => ({ ...world.env(), PUBLIC_URL: `http://127.0.0.1:${world.app.httpPort}` });
  });
  afterAll(async () => {
    await world?.close();
    await imgOpen?.close();
    await picwish?.close();
  });

  it('all ✓ with the right configuration: exit 0, the invite URL, no secret printed, nothing started upstream', async () => {
    const { code, out } = await runCli(env());
    const lines = checkLines(out);
    expect(lines.filter((l) => !l.startsWith('✓ '))).toEqual([]);
    for (const title of [
      'Configuration valid',
      'Discord token',
      'Discord application',
      'Slash commands registered',
      'Bot in the server with the permissions it needs',
      'Midjourney Proxy reachable',
      'Midjourney Proxy auth accepted',
      'Midjourney Proxy dialect',
      'Img Open (face swap) reachable, keys accepted',
      'PicWish (inpaint, image tools) reachable, key accepted',
      'Store writable',
      'PUBLIC_URL reachable',
    ]) {
      expect(
        lines.some((l) => l.startsWith(`✓ ${title}`)),
        title,
      ).toBe(true);
    }
    expect(out).toContain('imagine');
    expect(out).toContain(`as MJ_FLAVOR=trueai expects`);
    expect(out).toContain(
      `Invite URL: https://discord.com/oauth2/authorize?client_id=${world.discord.applicationId}&scope=bot%20applications.commands&permissions=${REQUIRED_PERMISSIONS}`,
    );
    expect(out).toContain('All checks passed.');
    expect(code).toBe(0);
    for (const secret of [BOT_TOKEN, PROXY_SECRET, IMGOPEN_ID, IMGOPEN_SECRET, PICWISH_KEY]) expect(out).not.toContain(secret);
    // probes only: no job was started anywhere
    expect(world.proxy.tasks.size).toBe(0);
    expect(imgOpen.tasks.size).toBe(0);
  }, 60_000);

  it('with a wrong proxy secret the auth line is ✗ with its fix, and the exit code is 1', async () => {
    const { code, out } = await runCli({ ...env(), MJ_API_SECRET: WRONG_SECRET });
    const lines = out.split('\n');
    const i = lines.findIndex((l) => l.startsWith('✗ Midjourney Proxy auth accepted'));
    expect(i).toBeGreaterThanOrEqual(0);
    expect(lines[i]).toContain('HTTP 401');
    expect(lines[i + 1]).toMatch(/^ {4}fix: .*MJ_API_SECRET.*MJ_AUTH_HEADER/);
    // only that line failed; the dialect could not be probed without credentials
    expect(checkLines(out).filter((l) => l.startsWith('✗ '))).toHaveLength(1);
    expect(out).toContain('– Midjourney Proxy dialect');
    expect(out).toContain('1 check failed.');
    expect(code).toBe(1);
    expect(out).not.toContain(WRONG_SECRET);
    expect(out).not.toContain(BOT_TOKEN);
  }, 60_000);

  it('names the header style the proxy accepts when MJ_AUTH_HEADER is wrong', async () => {
    const report = await runDoctor({ ...env(), MJ_AUTH_HEADER: 'bearer' });
    const auth = byId(report.results, 'proxy-auth');
    expect(auth.status).toBe('fail');
    expect(auth.fix).toBe('set MJ_AUTH_HEADER=mj-api-secret (MJ_API_SECRET is right)');
    expect(report.ok).toBe(false);
  });

  it('tells which MJ_FLAVOR matches the routes the proxy answers', async () => {
    const report = await runDoctor({ ...env(), MJ_FLAVOR: 'task-form' });
    const dialect = byId(report.results, 'proxy-dialect');
    expect(dialect.status).toBe('fail');
    expect(dialect.detail).toContain('POST /mj/submit/action (JSON)');
    expect(dialect.fix).toBe('set MJ_FLAVOR=trueai (or plus)');
  });

  it('an unreachable proxy: ✗ reachable naming MJ_BASE_URL, the other proxy lines not run', async () => {
    const report = await runDoctor({ ...env(), MJ_BASE_URL: 'http://127.0.0.1:9' }, { timeoutMs: 3000 });
    expect(byId(report.results, 'proxy-reachable')).toMatchObject({ status: 'fail' });
    expect(byId(report.results, 'proxy-reachable').fix).toContain('MJ_BASE_URL');
    expect(byId(report.results, 'proxy-auth').status).toBe('skip');
  });

  it('wrong image API keys: ✗ naming the variables, and the keys the fakes echo back are not printed', async () => {
    const report = await runDoctor({ ...env(), IMGOPEN_ACCESS_KEY_SECRET: 'wrong-imgopen-secret', PICWISH_API_KEY: 'wrong-picwish-key' });
    const img = byId(report.results, 'imgopen');
    const pw = byId(report.results, 'picwish');
    expect(img.status).toBe('fail');
    expect(img.fix).toContain('IMGOPEN_ACCESS_KEY_ID and IMGOPEN_ACCESS_KEY_SECRET');
    expect(pw.status).toBe('fail');
    expect(pw.fix).toContain('PICWISH_API_KEY');
    const text = JSON.stringify(report.results);
    // the fakes put the presented keys into their error messages; the clients scrub them
    expect(text).not.toContain('wrong-imgopen-secret');
    expect(text).not.toContain('wrong-picwish-key');
  });

  it('a missing permission: ✗ listing it, with the fix', async () => {
    const { guild } = world.discord;
    const everyone = guild.roles.find((r) => r.id === guild.id)!;
    const botRole = guild.roles.find((r) => r.botId === world.discord.botUser.id)!;
    const saved = [everyone.permissions, botRole.permissions];
    const attachFiles = 1n << 15n;
    everyone.permissions = String(BigInt(everyone.permissions) & ~attachFiles);
    botRole.permissions = String(BigInt(botRole.permissions) & ~attachFiles);
    try {
      const perms = byId((await runDoctor(env())).results, 'permissions');
      expect(perms.status).toBe('fail');
      expect(perms.detail).toContain('missing: Attach Files');
      expect(perms.fix).toContain('Attach Files');
    } finally {
      [everyone.permissions, botRole.permissions] = saved as [typeof everyone.permissions, typeof botRole.permissions];
    }
  });

  it('commands expected globally but registered only in the server: ✗ naming what is missing', async () => {
    const e = env();
    delete e.DISCORD_GUILD_ID;
    const commands = byId((await runDoctor(e)).results, 'commands');
    expect(commands.status).toBe('fail');
    expect(commands.detail).toMatch(/^missing globally: .*imagine/);
    expect(commands.fix).toContain('npm start');
  });

  it('an invalid configuration: ✗ listing every problem, nothing else run', async () => {
    const report = await runDoctor({ MJ_BASE_URL: 'not a url', DISCORD_TOKEN: '' });
    expect(report.ok).toBe(false);
    const config = byId(report.results, 'config');
    expect(config.status).toBe('fail');
    expect(config.detail).toContain('DISCORD_TOKEN');
    expect(config.detail).toContain('MJ_BASE_URL');
    expect(report.results.filter((r) => r.status === 'pass')).toEqual([]);
  });
});
