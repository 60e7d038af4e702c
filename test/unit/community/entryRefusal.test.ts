// A server's entry rules (bans, channels, roles, NSFW-only commands) decided from plain facts about who asks and
// where: no Discord interaction is needed, only a Requester. Rules are set and read through the real store.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Community } from '../../../src/community/community.js';
import type { Requester } from '../../../src/community/requester.js';
import { GuildRulesRepo, type GuildRules } from '../../../src/community/rules.js';
import { createI18n } from '../../../src/i18n/index.js';
import { createLogger } from '../../../src/log.js';
import { openKvStore, type KvStore } from '../../../src/store/keyvStore.js';
import { createRepositories } from '../../../src/store/repositories.js';

const GUILD = 'g1';
const logger = createLogger({ level: 'silent', pretty: false });

/** A member of GUILD in an ordinary channel, with no roles and no Manage Server permission. */
function member(over: Partial<Requester> = {}): Requester {
  return { userId: 'u1', guildId: GUILD, inGuild: true, channel: { id: 'general', nsfw: false }, roleIds: [], isManager: false, locale: 'en-US', ...over };
}

/** The same member writing to the bot in a DM: no server, no roles, no permissions. */
function inDm(over: Partial<Requester> = {}): Requester {
  return { userId: 'u1', guildId: undefined, inGuild: false, channel: { id: 'dm1', nsfw: false }, roleIds: [], isManager: false, locale: 'en-US', ...over };
}

describe('Community.entryRefusal from plain facts', () => {
  let store: KvStore;
  let community: Community;
  let now: number;

  beforeEach(async () => {
    now = Date.UTC(2025, 0, 1, 12);
    store = await openKvStore('sqlite://:memory:', logger);
    community = new Community({
      rules: new GuildRulesRepo(store),
      repos: createRepositories(store),
      i18n: await createI18n(),
      logger,
      now: () => now,
      post: async () => undefined,
    });
  });
  afterEach(async () => {
    await store.close();
  });

  const rulesWith = (mutate: (r: GuildRules) => void) => community.update(GUILD, mutate);

  it('refuses no one where no server rules apply', () => {
    expect(community.entryRefusal(member(), undefined, 'imagine')).toBeUndefined();
    expect(community.entryRefusal(inDm(), undefined, 'imagine')).toBeUndefined();
  });

  it('refuses a banned member with the reason, and until when; the ban lapses at its end', async () => {
    const rules = await rulesWith((r) => {
      r.bans.u1 = { reason: 'spam', by: 'mod', at: now, until: now + 3_600_000 };
    });
    expect(community.entryRefusal(member(), rules, 'imagine')).toEqual({
      key: 'community.refusal.bannedUntil',
      params: { reason: 'spam', context: 'reason', when: `<t:${(now + 3_600_000) / 1000}:R>` }, // i18next context: the line with the reason
    });
    expect(community.entryRefusal(inDm(), rules, undefined)?.key).toBe('community.refusal.bannedUntil'); // a ban holds in DMs too
    expect(community.entryRefusal(member({ userId: 'u2' }), rules, 'imagine')).toBeUndefined();
    now += 3_600_000;
    expect(community.entryRefusal(member(), rules, 'imagine')).toBeUndefined();
  });

  it('never refuses a server manager there, nor anyone /admin and /info', async () => {
    const rules = await rulesWith((r) => {
      r.bans.u1 = { reason: '', by: 'mod', at: now };
      r.channels = ['bots'];
      r.roles = ['artists'];
    });
    expect(community.entryRefusal(member(), rules, 'imagine')).toEqual({ key: 'community.refusal.banned', params: { reason: '', context: '' } }); // no "Reason: —"
    expect(community.entryRefusal(member({ isManager: true }), rules, 'imagine')).toBeUndefined();
    expect(community.entryRefusal(member(), rules, 'admin')).toBeUndefined();
    expect(community.entryRefusal(member(), rules, 'info')).toBeUndefined();
    // Manage Server counts only where it was granted: in a DM the rules of the server still hold
    expect(community.entryRefusal(inDm({ isManager: true }), rules, 'imagine')?.key).toBe('community.refusal.banned');
  });

  it('keeps the bot to the allowed channels and their threads, but not in DMs', async () => {
    const rules = await rulesWith((r) => {
      r.channels = ['bots', 'art'];
    });
    expect(community.entryRefusal(member(), rules, 'imagine')).toEqual({ key: 'community.refusal.channel', params: { channels: '<#bots>, <#art>' } });
    expect(community.entryRefusal(member({ channel: { id: 'art', nsfw: false } }), rules, 'imagine')).toBeUndefined();
    expect(community.entryRefusal(member({ channel: { id: 'thread9', parentId: 'bots', nsfw: false } }), rules, undefined)).toBeUndefined();
    expect(community.entryRefusal(inDm(), rules, 'imagine')).toBeUndefined();
  });

  it('lets only members holding an allowed role in, and a DM has no roles', async () => {
    const rules = await rulesWith((r) => {
      r.roles = ['artists', 'mods'];
    });
    expect(community.entryRefusal(member({ roleIds: ['everyone'] }), rules, 'imagine')).toEqual({
      key: 'community.refusal.role',
      params: { roles: '<@&artists>, <@&mods>' },
    });
    expect(community.entryRefusal(member({ roleIds: ['everyone', 'mods'] }), rules, 'imagine')).toBeUndefined();
    expect(community.entryRefusal(inDm(), rules, undefined)?.key).toBe('community.refusal.role');
  });

  it('runs an NSFW-only command only in an age-restricted channel', async () => {
    const rules = await rulesWith((r) => {
      r.nsfwOnly = ['imagine'];
    });
    expect(community.entryRefusal(member(), rules, 'imagine')).toEqual({ key: 'community.refusal.nsfw', params: { command: '/imagine' } });
    expect(community.entryRefusal(member({ channel: { id: 'after-dark', nsfw: true } }), rules, 'imagine')).toBeUndefined();
    expect(community.entryRefusal(member(), rules, 'blend')).toBeUndefined();
    expect(community.entryRefusal(member(), rules, undefined)).toBeUndefined(); // a button or modal names no command
    expect(community.entryRefusal(inDm(), rules, 'imagine')?.key).toBe('community.refusal.nsfw');
  });
});
