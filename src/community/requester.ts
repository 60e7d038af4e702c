/**
 * Who asks, and where: the plain facts a server's rules decide on. Built from a Discord interaction at the edge
 * (src/discord/interactions/requesterFacts.ts); the community code never sees the interaction itself.
 */
export interface Requester {
  userId: string;
  /** the server the request came from; undefined in a DM */
  guildId: string | undefined;
  /** true when sent from a server by one of its members; false in a DM (no roles, no permissions there) */
  inGuild: boolean;
  channel: RequesterChannel;
  /** the member's role ids in that server (empty in a DM) */
  roleIds: readonly string[];
  /** holds Manage Server there: the server's own rules never refuse them */
  isManager: boolean;
  /** the member's Discord language (e.g. en-US) */
  locale: string;
}

export interface RequesterChannel {
  id: string;
  /** the channel a thread belongs to (a rule naming a channel covers its threads) */
  parentId?: string | undefined;
  /** age-restricted */
  nsfw: boolean;
}
