import type { Msg } from '../jobs/model.js';

/**
 * Where the bot works and whose rules apply. A server outside the allow-list is refused outright. In a server, its
 * own rules apply. In the bot's DMs there are no server rules of their own: a button follows the rules of the server
 * its job came from, and a slash command (only when the operator turned DM commands on) those of the home server.
 */
export interface ReachSettings {
  /** servers the bot serves; undefined = every server */
  allowedGuilds: readonly string[] | undefined;
  /** the server whose rules DM commands follow (undefined = ambiguous: DM commands are refused) */
  homeGuildId: string | undefined;
  /** slash commands are served in DMs */
  dmCommands: boolean;
}

/** The server whose rules apply to an interaction (undefined: none apply), or why it is refused outright. */
export type Ruling = { guildId: string | undefined; refusal?: undefined } | { refusal: Msg; guildId?: undefined };

const NOT_SERVED: Msg = { key: 'community.reach.serverNotAllowed' };

export function servesGuild(s: ReachSettings, guildId: string): boolean {
  return !s.allowedGuilds || s.allowedGuilds.includes(guildId);
}

/**
 * A slash or context-menu command. `guildOnly` commands are left to say so themselves in DMs (their own message is
 * clearer); every other command in DMs is refused unless DM commands are on and the home server is known.
 */
export function commandRuling(s: ReachSettings, guildId: string | null, guildOnly: boolean): Ruling {
  if (guildId) return servesGuild(s, guildId) ? { guildId } : { refusal: NOT_SERVED };
  if (guildOnly) return { guildId: undefined };
  if (!s.dmCommands) return { refusal: { key: 'community.reach.dmCommandsOff' } };
  if (!s.homeGuildId) return { refusal: { key: 'community.reach.dmNoHome' } };
  return { guildId: s.homeGuildId };
}

/**
 * A button, modal or menu. In a server: that server. In DMs: the server its job came from (`originGuildId`), else
 * the home server; a job from a server the bot no longer serves is refused like that server.
 */
export function componentRuling(s: ReachSettings, guildId: string | null, originGuildId: string | undefined): Ruling {
  const ruling = guildId ?? originGuildId ?? s.homeGuildId;
  if (ruling && !servesGuild(s, ruling)) return { refusal: NOT_SERVED };
  return { guildId: ruling };
}

/** One line for the start log: which servers are served and what DMs may do. */
export function describeReach(s: ReachSettings): { servers: string; dmCommands: string } {
  return {
    servers: s.allowedGuilds ? s.allowedGuilds.join(', ') : 'every server the bot is added to (set DISCORD_ALLOWED_GUILDS to restrict)',
    dmCommands: !s.dmCommands
      ? 'off'
      : s.homeGuildId
        ? `on, with the rules of server ${s.homeGuildId}`
        : 'on, but refused: no single home server (set DISCORD_GUILD_ID)',
  };
}
