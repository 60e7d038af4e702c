import type { Keyv } from 'keyv';
import type { DeliveryMode } from '../jobs/model.js';
import type { KvStore } from '../store/keyvStore.js';
import { KeyedMutex } from '../store/repositories.js';

/** What an admin sets per server with /admin; persisted in the store, read (cached) on every interaction. */

export interface Limits {
  /** jobs a member may have running at once (0 = no limit) */
  concurrent: number;
  /** seconds between two submissions of one member (0 = none) */
  cooldownSec: number;
  /** jobs a member may start per UTC day (0 = no limit) */
  dailyPerUser: number;
  /** jobs a member may have waiting in the server's queue beyond `concurrent` (0 = none: refused instead; unset = 3) */
  queued?: number | undefined;
  /** fast GPU minutes a member may use per UTC day before their jobs run in relax (0 = no limit; see fastBudget.ts) */
  fastMinutes?: number | undefined;
}

export interface GuildRules {
  limits: Limits;
  /** per-role overrides; a member gets the most generous value among their roles */
  roleLimits: Record<string, Partial<Limits>>;
  /** jobs the whole server may start per UTC day (0 = no limit) */
  dailyServer: number;
  /** Midjourney jobs the whole server may run at once; the rest wait in its fair queue (0 or unset = no cap) */
  maxRunning?: number | undefined;
  /** fast GPU minutes the whole server may use per UTC day before every job runs in relax (0 = no limit) */
  serverFastMinutes: number;
  /** channels where the bot may be used (empty = everywhere) */
  channels: string[];
  /** roles allowed to use the bot (empty = everyone) */
  roles: string[];
  /** who may press a job's buttons; unset = the deployment default (BUTTON_ACCESS) */
  buttons?: { access: 'owner' | 'anyone' | 'roles'; roles: string[] } | undefined;
  /** where results go when a member chose nothing */
  defaultDelivery?: DeliveryMode | undefined;
  /** commands usable only in age-restricted (NSFW) channels */
  nsfwOnly: string[];
  /** where the bot reports failures and moderation actions */
  logChannelId?: string | undefined;
  /** reply language for everyone in this server (else each member's Discord language) */
  locale?: 'en-US' | 'zh-CN' | undefined;
  bans: Record<string, Ban>;
}

export interface Ban {
  reason: string;
  by: string;
  at: number;
  /** ms epoch when the ban lapses; unset = until unbanned */
  until?: number | undefined;
}

/** jobs a member may have waiting when the server's admin set nothing */
export const DEFAULT_QUEUED = 3;

export const DEFAULT_LIMITS: Limits = { concurrent: 2, cooldownSec: 0, dailyPerUser: 0 };

export function defaultRules(limits: Partial<Limits> = {}): GuildRules {
  return { limits: { ...DEFAULT_LIMITS, ...limits }, roleLimits: {}, dailyServer: 0, serverFastMinutes: 0, channels: [], roles: [], nsfwOnly: [], bans: {} };
}

/** The limits that apply to a member: the server's, raised (or lifted, with 0) by any of their roles' overrides. */
export function effectiveLimits(rules: GuildRules, roleIds: readonly string[]): Limits {
  const out: Limits = { ...rules.limits };
  const generous = (a: number, b: number | undefined, lowerIsBetter = false): number => {
    if (b === undefined) return a;
    if (lowerIsBetter) return Math.min(a, b);
    if (a === 0 || b === 0) return 0; // 0 = unlimited
    return Math.max(a, b);
  };
  for (const role of roleIds) {
    const o = rules.roleLimits[role];
    if (!o) continue;
    out.concurrent = generous(out.concurrent, o.concurrent);
    out.dailyPerUser = generous(out.dailyPerUser, o.dailyPerUser);
    if (o.queued !== undefined) out.queued = Math.max(out.queued ?? DEFAULT_QUEUED, o.queued); // here 0 means none, not unlimited
    if (o.fastMinutes !== undefined) out.fastMinutes = generous(out.fastMinutes ?? 0, o.fastMinutes);
    out.cooldownSec = generous(out.cooldownSec, o.cooldownSec, true);
  }
  return out;
}

/** "30m", "12h", "7d", "90s", "1w" → ms; undefined for anything else. */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d{1,6})\s*(s|m|h|d|w)\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2]!.toLowerCase() as 's' | 'm' | 'h' | 'd' | 'w'];
  const ms = Number(m[1]) * unit;
  return ms > 0 ? ms : undefined;
}

/** The next UTC midnight after `now` (when daily counters reset). */
export function nextUtcMidnight(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
}

/** Rules per server, in the store's `guilds` namespace. */
export class GuildRulesRepo {
  private kv: Keyv;
  private mutex: KeyedMutex;

  /** `defaults`: the deployment's limits for servers whose admin set none */
  constructor(
    store: KvStore,
    private defaults: Partial<Limits> = {},
  ) {
    this.kv = store.namespace('guilds');
    this.mutex = new KeyedMutex(store.redis ? store : undefined);
  }

  async get(guildId: string): Promise<GuildRules> {
    const stored = (await this.kv.get(`rules:${guildId}`)) as Partial<GuildRules> | undefined;
    const base = defaultRules(this.defaults);
    return stored ? { ...base, ...stored, limits: { ...base.limits, ...(stored.limits ?? {}) } } : base;
  }

  async update(guildId: string, mutate: (rules: GuildRules) => void): Promise<GuildRules> {
    return this.mutex.run(`rules:${guildId}`, async () => {
      const rules = await this.get(guildId);
      mutate(rules);
      await this.kv.set(`rules:${guildId}`, rules);
      return rules;
    });
  }

  /** Jobs the server started on this UTC day. */
  async countToday(guildId: string, now: number): Promise<number> {
    return ((await this.kv.get(dayKey(guildId, now))) as number | undefined) ?? 0;
  }

  async addToday(guildId: string, now: number, delta: number): Promise<void> {
    await this.mutex.run(dayKey(guildId, now), async () => {
      const n = Math.max(0, (((await this.kv.get(dayKey(guildId, now))) as number | undefined) ?? 0) + delta);
      await this.kv.set(dayKey(guildId, now), n, 2 * 86_400_000);
    });
  }
}

const dayKey = (guildId: string, at: number) => `today:${guildId}:${new Date(at).toISOString().slice(0, 10)}`;
