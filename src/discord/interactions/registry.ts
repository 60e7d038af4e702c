import { createHash } from 'node:crypto';
import type { REST } from '@discordjs/rest';
import { Routes, type RESTPostAPIApplicationCommandsJSONBody } from 'discord.js';
import type { I18n } from '../../i18n/index.js';
import type { Logger } from '../../log.js';
import type { MetaRepo } from '../../store/repositories.js';

/** Localized name/description pairs for command JSON, from the locale files (`commands.<path>.name|description`). */
export class CommandLocalizer {
  constructor(private i18n: I18n) {}

  /** `{ description, description_localizations }` for a key such as `commands.imagine.options.prompt` */
  describe(path: string): { description: string; description_localizations?: Record<string, string> } {
    const key = `${path}.description`;
    const loc = this.i18n.localizations(key);
    return { description: this.i18n.t('en-US', key).slice(0, 100), ...(Object.keys(loc).length ? { description_localizations: trimAll(loc, 100) } : {}) };
  }

  /** `{ name, name_localizations }`: the base name stays ASCII English (routing uses it); others come from the files. */
  name(path: string, base: string): { name: string; name_localizations?: Record<string, string> } {
    const loc = this.i18n.localizations(`${path}.name`);
    return { name: base, ...(Object.keys(loc).length ? { name_localizations: trimAll(loc, 32) } : {}) };
  }

  /** both of the above */
  both(path: string, base: string) {
    return { ...this.name(path, base), ...this.describe(path) };
  }

  /** a choice: `{ name, name_localizations, value }` with the display name from `<path>.name` */
  choice<V extends string | number>(path: string, value: V): { name: string; name_localizations?: Record<string, string>; value: V } {
    const loc = this.i18n.localizations(`${path}.name`);
    return { name: this.i18n.t('en-US', `${path}.name`).slice(0, 100), ...(Object.keys(loc).length ? { name_localizations: trimAll(loc, 100) } : {}), value };
  }
}

function trimAll(m: Record<string, string>, max: number): Record<string, string> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v.slice(0, max)]));
}

/** Stable hash of the command set and where it goes (key order normalised). */
export function commandsHash(commands: RESTPostAPIApplicationCommandsJSONBody[], scope: string): string {
  return createHash('sha256').update(scope).update(stableStringify(commands)).digest('hex');
}

export function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableStringify((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Discord's interaction contexts: in a server, in the bot's DMs. */
const GUILD_CONTEXT = 0;
const BOT_DM_CONTEXT = 1;

/**
 * The commands as registered: offered in the bot's DMs only when DM commands are on (DISCORD_DM_COMMANDS), else in
 * servers only; a command that is for servers only stays so.
 */
export function withDmContexts(commands: RESTPostAPIApplicationCommandsJSONBody[], dmCommands: boolean): RESTPostAPIApplicationCommandsJSONBody[] {
  return commands.map((c) => {
    const declared = c.contexts ?? [GUILD_CONTEXT, BOT_DM_CONTEXT];
    const contexts = dmCommands ? declared : declared.filter((x) => x !== BOT_DM_CONTEXT);
    return { ...c, contexts: contexts.length > 0 ? contexts : [GUILD_CONTEXT] };
  });
}

/**
 * Register the commands with one bulk overwrite, only when their JSON changed since the last successful
 * registration (the hash is kept in the store), so restarts never burn Discord's daily command-create budget.
 */
export async function registerCommands(o: {
  rest: REST;
  applicationId: string;
  guildId: string | undefined;
  commands: RESTPostAPIApplicationCommandsJSONBody[];
  meta: MetaRepo;
  logger: Logger;
  /** offer the commands in the bot's DMs (DISCORD_DM_COMMANDS); default: servers only */
  dmCommands?: boolean;
}): Promise<'registered' | 'unchanged'> {
  o = { ...o, commands: withDmContexts(o.commands, o.dmCommands === true) };
  const scope = o.guildId ? `guild:${o.guildId}` : 'global';
  const hash = commandsHash(o.commands, `${o.applicationId}|${scope}`);
  const key = `commands-hash:${scope}`;
  if ((await o.meta.get<string>(key)) === hash) {
    o.logger.info({ scope, commands: o.commands.length }, 'slash commands unchanged; not re-registering');
    return 'unchanged';
  }
  const route = o.guildId ? Routes.applicationGuildCommands(o.applicationId, o.guildId) : Routes.applicationCommands(o.applicationId);
  await o.rest.put(route, { body: o.commands });
  await o.meta.set(key, hash);
  o.logger.info({ scope, commands: o.commands.map((c) => c.name) }, 'slash commands registered');
  return 'registered';
}
