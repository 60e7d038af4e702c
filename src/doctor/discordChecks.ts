// Discord side of the doctor: token, application, registered commands, the bot's permissions in the server.
import { DiscordAPIError, HTTPError, REST } from '@discordjs/rest';
import { PermissionsBitField, Routes } from 'discord.js';
import { allCommands } from '../../commands/index.js';
import { REQUIRED_PERMISSIONS } from '../discord/invite.js';
import type { Config } from '../config.js';
import { CommandLocalizer } from '../discord/interactions/registry.js';
import { createI18n } from '../i18n/index.js';
import type { Services } from '../services.js';
import { ImgOpenClient } from '../upstream/imgOpen.js';
import { mjClientOptionsFrom, MjProxyClient } from '../upstream/mjProxy.js';
import { PicwishClient } from '../upstream/picwish.js';
import { errorText, fail, pass, skip, type CheckResult, type DoctorContext } from './types.js';

const T = {
  token: 'Discord token',
  app: 'Discord application',
  commands: 'Slash commands registered',
  perms: 'Bot in the server with the permissions it needs',
} as const;

const INVITE_FIX = 'open the invite URL printed below (scopes bot + applications.commands, with the permissions the bot needs) and add the bot to your server';

export interface DiscordFindings {
  results: CheckResult[];
  applicationId?: string | undefined;
}

interface ApiUser {
  id: string;
  username: string;
  bot?: boolean;
}
interface ApiRole {
  id: string;
  name: string;
  permissions: string;
}

export async function discordChecks(config: Config, ctx: DoctorContext): Promise<DiscordFindings> {
  const results: CheckResult[] = [];
  const notChecked = (why: string) => {
    for (const [id, title] of [
      ['application', T.app],
      ['commands', T.commands],
      ['permissions', T.perms],
    ] as const) {
      if (!results.some((r) => r.id === id)) results.push(skip(id, title, why));
    }
  };

  const token = config.discord.token;
  if (/^(Bot|Bearer)\s/i.test(token)) {
    results.push(
      fail('token', T.token, 'DISCORD_TOKEN starts with "Bot " or "Bearer "', 'put only the token itself in DISCORD_TOKEN, without the "Bot " prefix'),
    );
    notChecked('needs a working token');
    return { results };
  }

  const rest = new REST({ api: config.discord.apiUrl, retries: 0, timeout: ctx.timeoutMs }).setToken(token);
  try {
    // 1. the token
    let me: ApiUser;
    try {
      me = (await rest.get(Routes.user())) as ApiUser;
    } catch (e) {
      results.push(tokenFailure(e, config));
      notChecked('needs a working token');
      return { results };
    }
    if (me.bot === false) {
      results.push(
        fail(
          'token',
          T.token,
          `the token belongs to the user account ${me.username}, not to a bot`,
          'use the token from Developer Portal → your application → Bot → Reset Token',
        ),
      );
      notChecked('needs a bot token');
      return { results };
    }
    results.push(pass('token', T.token, `logged in as ${me.username} (id ${me.id})`));

    // 2. the application
    let applicationId: string;
    try {
      const app = (await rest.get(Routes.currentApplication())) as { id: string; name: string };
      applicationId = app.id;
      results.push(pass('application', T.app, `${app.name} (application id ${app.id})`));
    } catch (e) {
      results.push(
        fail(
          'application',
          T.app,
          `GET /applications/@me failed: ${describe(e)}`,
          'check that DISCORD_TOKEN is the bot token of the application you mean (Developer Portal → your application → Bot)',
        ),
      );
      notChecked('needs the application id');
      return { results };
    }

    // 3. commands, 4. permissions
    results.push(await commandsCheck(rest, config, applicationId, ctx));
    results.push(await permissionsCheck(rest, config, me.id));
    return { results, applicationId };
  } finally {
    rest.clearHashSweeper();
    rest.clearHandlerSweeper();
  }
}

function tokenFailure(e: unknown, config: Config): CheckResult {
  if (e instanceof DiscordAPIError && e.status === 401) {
    return fail(
      'token',
      T.token,
      'Discord refused DISCORD_TOKEN (401 Unauthorized)',
      'copy a fresh bot token into DISCORD_TOKEN: Developer Portal → your application → Bot → Reset Token',
    );
  }
  if (e instanceof DiscordAPIError || e instanceof HTTPError) {
    return fail(
      'token',
      T.token,
      `GET /users/@me answered HTTP ${e.status}`,
      `check DISCORD_API_URL (${config.discord.apiUrl}); unset it to use https://discord.com/api`,
    );
  }
  return fail(
    'token',
    T.token,
    `cannot reach Discord at ${config.discord.apiUrl}: ${errorText(e)}`,
    'check this machine can reach Discord (network, firewall, HTTPS proxy); if DISCORD_API_URL is set, check it or unset it',
  );
}

/**
 * The command names the bot registers, built the way app.ts builds them: commands decide from the configured
 * upstream clients what they offer, so the same clients are made here (constructing them sends nothing).
 */
export async function expectedCommandNames(config: Config, ctx: DoctorContext): Promise<string[]> {
  const loc = new CommandLocalizer(await createI18n());
  const mj = new MjProxyClient({ ...mjClientOptionsFrom(config.mj), logger: ctx.logger });
  const imgOpen = config.imgOpen ? new ImgOpenClient({ ...config.imgOpen, logger: ctx.logger }) : undefined;
  const picwish = config.picwish ? new PicwishClient({ ...config.picwish, logger: ctx.logger }) : undefined;
  // only what commands read while being defined; anything else they touch fails loudly below
  const services = { config, mj, imgOpen, picwish } as Partial<Services> as Services;
  try {
    await mj.probeFeatures(ctx.timeoutMs); // as the bot does before registering: /video only where a video can start
    const names: string[] = [];
    for (const c of allCommands) {
      if (!(c.enabled?.(services) ?? true)) continue;
      names.push(c.data(loc, services).name);
    }
    return names.sort();
  } finally {
    await Promise.all([mj.close(), imgOpen?.close(), picwish?.close()]);
  }
}

async function commandsCheck(rest: REST, config: Config, applicationId: string, ctx: DoctorContext): Promise<CheckResult> {
  const guildId = config.discord.guildId;
  const where = guildId ? `in server ${guildId} (DISCORD_GUILD_ID)` : 'globally';
  let expected: string[];
  try {
    expected = await expectedCommandNames(config, ctx);
  } catch (e) {
    return fail(
      'commands',
      T.commands,
      `cannot build the bot's own command list: ${errorText(e)}`,
      'this is a bug in the doctor or a command definition: please report it with this line',
    );
  }
  let registered: string[];
  try {
    const list = (await rest.get(guildId ? Routes.applicationGuildCommands(applicationId, guildId) : Routes.applicationCommands(applicationId))) as {
      name: string;
    }[];
    registered = list.map((c) => c.name).sort();
  } catch (e) {
    if (guildId && e instanceof DiscordAPIError && (e.status === 403 || e.status === 404)) {
      return fail(
        'commands',
        T.commands,
        `cannot read the commands of server ${guildId}: ${describe(e)}`,
        `the bot is not in that server, or was invited without the applications.commands scope, or DISCORD_GUILD_ID is wrong: ${INVITE_FIX}`,
      );
    }
    return fail(
      'commands',
      T.commands,
      `cannot list the registered commands: ${describe(e)}`,
      'run the doctor again; if it persists, check DISCORD_TOKEN and DISCORD_API_URL',
    );
  }
  const missing = expected.filter((n) => !registered.includes(n));
  const extra = registered.filter((n) => !expected.includes(n));
  const extraNote = extra.length ? `; also registered but not the bot's: ${extra.join(', ')}` : '';
  if (missing.length) {
    return fail(
      'commands',
      T.commands,
      `missing ${where}: ${missing.join(', ')} (registered: ${registered.join(', ') || 'none'})${extraNote}`,
      `start the bot (npm start): it registers its commands ${where} when it starts. If it has started and they are still missing, they were deleted outside the bot: ` +
        `remove the entry "commands-hash:${guildId ? `guild:${guildId}` : 'global'}" from the store's meta namespace and restart it` +
        (guildId ? '' : ". Global commands can take a while to appear in Discord's clients; DISCORD_GUILD_ID registers them in one server at once"),
    );
  }
  return pass('commands', T.commands, `${where}: ${expected.join(', ')}${extraNote}`);
}

async function permissionsCheck(rest: REST, config: Config, botId: string): Promise<CheckResult> {
  const guildId = config.discord.guildId;
  if (!guildId) return guildsOverview(rest);
  let guild: { id: string; name: string; owner_id: string; roles: ApiRole[] };
  let member: { roles: string[] };
  try {
    guild = (await rest.get(Routes.guild(guildId))) as typeof guild;
    member = (await rest.get(Routes.guildMember(guildId, botId))) as typeof member;
  } catch (e) {
    if (e instanceof DiscordAPIError && (e.status === 403 || e.status === 404)) {
      return fail('permissions', T.perms, `the bot is not in server ${guildId} (${describe(e)})`, `${INVITE_FIX}; or correct DISCORD_GUILD_ID`);
    }
    return fail(
      'permissions',
      T.perms,
      `cannot read server ${guildId}: ${describe(e)}`,
      'run the doctor again; if it persists, check DISCORD_TOKEN and DISCORD_API_URL',
    );
  }
  const perms = guildPermissions(guild, member.roles, botId);
  const missing = REQUIRED_PERMISSIONS & ~perms;
  if (missing !== 0n) {
    const names = permissionNames(missing).join(', ');
    return fail(
      'permissions',
      T.perms,
      `in "${guild.name}" but missing: ${names}`,
      `give the bot's role (Server Settings → Roles) ${names}, or re-invite it with the URL below, which asks for every permission it needs`,
    );
  }
  return pass(
    'permissions',
    T.perms,
    `in "${guild.name}" with ${permissionNames(REQUIRED_PERMISSIONS).join(', ')} (channel overrides can still deny them in single channels)`,
  );
}

/** Without DISCORD_GUILD_ID: every server the bot is in, with the permissions Discord reports for it there. */
async function guildsOverview(rest: REST): Promise<CheckResult> {
  let guilds: { id: string; name: string; permissions?: string }[];
  try {
    guilds = (await rest.get(Routes.userGuilds())) as typeof guilds;
  } catch (e) {
    return skip(
      'permissions',
      T.perms,
      `DISCORD_GUILD_ID is not set and the server list is unavailable (${describe(e)}); set DISCORD_GUILD_ID to check one server`,
    );
  }
  if (guilds.length === 0) return fail('permissions', T.perms, 'the bot is in no server yet', INVITE_FIX);
  const lacking = guilds.filter((g) => g.permissions !== undefined && (REQUIRED_PERMISSIONS & ~BigInt(g.permissions)) !== 0n);
  if (lacking.length) {
    const list = lacking.slice(0, 5).map((g) => `"${g.name}" lacks ${permissionNames(REQUIRED_PERMISSIONS & ~BigInt(g.permissions ?? '0')).join(', ')}`);
    return fail(
      'permissions',
      T.perms,
      list.join('; '),
      "give the bot's role those permissions in each server (Server Settings → Roles), or re-invite it with the URL below",
    );
  }
  return pass('permissions', T.perms, `in ${guilds.length} server${guilds.length === 1 ? '' : 's'}, each with the permissions it needs`);
}

/** Guild-level permissions: @everyone plus the member's roles; the owner and Administrator have everything. */
export function guildPermissions(guild: { id: string; owner_id: string; roles: ApiRole[] }, memberRoles: string[], userId: string): bigint {
  const all = PermissionsBitField.All;
  if (guild.owner_id === userId) return all;
  let perms = 0n;
  for (const role of guild.roles) {
    if (role.id === guild.id || memberRoles.includes(role.id)) perms |= BigInt(role.permissions);
  }
  return (perms & PermissionsBitField.Flags.Administrator) !== 0n ? all : perms;
}

/** "ViewChannel" → "View Channel" */
export function permissionNames(bits: bigint): string[] {
  return new PermissionsBitField(bits).toArray().map((n) => n.replace(/([a-z])([A-Z])/g, '$1 $2'));
}

function describe(e: unknown): string {
  if (e instanceof DiscordAPIError) return `HTTP ${e.status}, code ${e.code}: ${e.message}`;
  if (e instanceof HTTPError) return `HTTP ${e.status}`;
  return errorText(e);
}
