import type { I18n } from '../i18n/index.js';
import { isFinal, type Job, type Msg } from '../jobs/model.js';
import type { JobSink } from '../jobs/tracker.js';
import type { Logger } from '../log.js';
import type { Repositories } from '../store/repositories.js';
import { jobFailureKind, submitFailureKind, type FailureKind } from './failureKinds.js';
import type { FailureCounts, FailureCountsByKind } from './failureLog.js';
import type { Requester } from './requester.js';
import { defaultRules, effectiveLimits, nextUtcMidnight, type Ban, type GuildRules, type GuildRulesRepo, type Limits } from './rules.js';

/** Discord renders `<t:unix:R>` as "in 3 hours" in each reader's own time zone and language. */
export const relativeTime = (ms: number) => `<t:${Math.ceil(ms / 1000)}:R>`;

const RULES_CACHE_MS = 5000;
/** how long a batch's admission (see admitBatch) stays usable; the batch starts its jobs at once */
const BATCH_GRANT_MS = 60_000;
/** Commands every member may use wherever they are (to see their own state, and for admins to fix rules). */
const ALWAYS_ALLOWED = new Set(['admin', 'info']);

export interface Usage {
  limits: Limits;
  running: number;
  today: number;
  serverToday: number;
  dailyServer: number;
  resetAt: number;
  cooldownUntil?: number | undefined;
  ban?: Ban | undefined;
}

/** Which of a member's counts a question needs read from the store. */
export interface UsageNeeds {
  running: boolean;
  cooldown: boolean;
  today: boolean;
  serverToday: boolean;
}

const EVERY_COUNT: UsageNeeds = { running: true, cooldown: true, today: true, serverToday: true };

export interface CommunityDeps {
  rules: GuildRulesRepo;
  repos: Repositories;
  i18n: I18n;
  logger: Logger;
  now: () => number;
  /** limits where no server rules apply (DMs) */
  defaultLimits?: Partial<Limits> | undefined;
  /** post a plain message to a channel (the log channel) */
  post(channelId: string, content: string): Promise<unknown>;
  /** failures per server and kind, kept in the store (shared by every process); without it they are only logged */
  failures?: FailureCounts | undefined;
}

/**
 * How a server runs the bot: its rules (channels, roles, bans), its limits (concurrency, cooldown, quotas),
 * and its log channel. Everything is persisted; checks happen before anything is sent upstream.
 */
export class Community {
  private cache = new Map<string, { rules: GuildRules; at: number }>();
  private loading = new Map<string, Promise<GuildRules>>();
  /** admissions granted ahead to a member's batch ("Imagine all"), by user id */
  private grants = new Map<string, { left: number; until: number }>();

  constructor(private d: CommunityDeps) {}

  /**
   * The server's rules. Every interaction reads them before it is acknowledged, so this must be cheap: a copy
   * younger than a few seconds is used as is; an older one is still used while a single refresh runs in the
   * background; only a server seen for the first time waits for the store (once, however many ask at once).
   */
  async rules(guildId: string | null | undefined): Promise<GuildRules | undefined> {
    if (!guildId) return undefined;
    const hit = this.cache.get(guildId);
    if (hit && this.d.now() - hit.at < RULES_CACHE_MS) return hit.rules;
    const refresh = this.loading.get(guildId) ?? this.load(guildId);
    return hit ? hit.rules : refresh;
  }

  private load(guildId: string): Promise<GuildRules> {
    const p = this.d.rules
      .get(guildId)
      .then((rules) => {
        this.cache.set(guildId, { rules, at: this.d.now() });
        return rules;
      })
      .finally(() => this.loading.delete(guildId));
    this.loading.set(guildId, p);
    p.catch(() => undefined);
    return p;
  }

  async update(guildId: string, mutate: (rules: GuildRules) => void): Promise<GuildRules> {
    const rules = await this.d.rules.update(guildId, mutate);
    this.cache.set(guildId, { rules, at: this.d.now() });
    return rules;
  }

  /** A ban in force (an expired one has lapsed). */
  activeBan(rules: GuildRules | undefined, userId: string): Ban | undefined {
    const ban = rules?.bans[userId];
    if (!ban) return undefined;
    return ban.until !== undefined && ban.until <= this.d.now() ? undefined : ban;
  }

  /**
   * Why this member may not use the bot here, if they may not: banned, a channel or role the server did not allow,
   * or an NSFW-only command outside an NSFW channel. Server managers are never refused.
   * In DMs `rules` are those of the server whose rules apply (a job's origin, or the home server): bans, roles and
   * NSFW-only commands hold there too (a DM has no roles and is not age-restricted); the channel rule does not, as
   * the job started in an allowed channel (or the operator turned DM commands on).
   */
  entryRefusal(who: Requester, rules: GuildRules | undefined, command: string | undefined): Msg | undefined {
    if (!rules) return undefined;
    if (command && ALWAYS_ALLOWED.has(command)) return undefined;
    const { inGuild, channel } = who;
    if (inGuild && who.isManager) return undefined;
    const ban = this.activeBan(rules, who.userId);
    if (ban) {
      const params = { reason: ban.reason, context: ban.reason ? 'reason' : '' }; // i18next context: `…_reason` says why
      return ban.until
        ? { key: 'community.refusal.bannedUntil', params: { ...params, when: relativeTime(ban.until) } }
        : { key: 'community.refusal.banned', params };
    }
    if (inGuild && rules.channels.length > 0 && !rules.channels.includes(channel.id) && !(channel.parentId && rules.channels.includes(channel.parentId))) {
      return { key: 'community.refusal.channel', params: { channels: rules.channels.map((c) => `<#${c}>`).join(', ') } };
    }
    if (rules.roles.length > 0 && !who.roleIds.some((r) => rules.roles.includes(r))) {
      return { key: 'community.refusal.role', params: { roles: rules.roles.map((r) => `<@&${r}>`).join(', ') } };
    }
    if (command && rules.nsfwOnly.includes(command) && !channel.nsfw) return { key: 'community.refusal.nsfw', params: { command: `/${command}` } };
    return undefined;
  }

  /**
   * Admit a batch of `count` jobs that start together ("Imagine all"), all or none, before any of them is sent: the
   * member's next `count` admissions are granted (the jobs themselves), so no job of the batch can be refused once
   * the upstream runs them. `endBatch` withdraws what is left of the grant.
   */
  async admitBatch(owner: Job['owner'], count: number, action: string): Promise<Msg | undefined> {
    const refusal = await this.admissionRefusal(owner, { count, action });
    if (!refusal) this.grants.set(owner.userId, { left: count, until: this.d.now() + BATCH_GRANT_MS });
    return refusal;
  }

  endBatch(owner: Job['owner']): void {
    this.grants.delete(owner.userId);
  }

  /** Whether a new job (or a batch of `count`) may start now for this member; the reason (and when to try again) if not. */
  /** `queued`: the job goes through its server's fair queue, which decides about running at once (it waits instead of being refused). */
  async admissionRefusal(owner: Job['owner'], batch?: { count: number; action: string }, opts: { queued?: boolean } = {}): Promise<Msg | undefined> {
    const grant = this.grants.get(owner.userId);
    if (!batch && grant && grant.left > 0 && grant.until > this.d.now()) {
      grant.left--;
      return undefined;
    }
    // only what this server's limits can refuse is read: a queued job under no cooldown or day limit reads nothing
    const u = await this.usage(owner.userId, owner.guildId, owner.roles ?? [], (limits, dailyServer) => ({
      running: (batch !== undefined || !opts.queued) && limits.concurrent > 0,
      cooldown: limits.cooldownSec > 0,
      today: limits.dailyPerUser > 0,
      serverToday: dailyServer > 0,
    }));
    const now = this.d.now();
    const when = relativeTime(u.resetAt);
    if (batch && batch.count > 1) return this.batchRefusal(u, batch, when);
    if (!opts.queued && u.limits.concurrent > 0 && u.running >= u.limits.concurrent)
      return { key: 'community.limit.concurrent', params: { count: u.limits.concurrent } };
    if (u.cooldownUntil && u.cooldownUntil > now) return { key: 'community.limit.cooldown', params: { when: relativeTime(u.cooldownUntil) } };
    if (u.limits.dailyPerUser > 0 && u.today >= u.limits.dailyPerUser) return { key: 'community.limit.daily', params: { count: u.limits.dailyPerUser, when } };
    if (u.dailyServer > 0 && u.serverToday >= u.dailyServer) return { key: 'community.limit.server', params: { count: u.dailyServer, when } };
    return undefined;
  }

  private batchRefusal(u: Usage, batch: { count: number; action: string }, when: string): Msg | undefined {
    const { count, action } = batch;
    const now = this.d.now();
    const max = u.limits.concurrent;
    if (max > 0 && count > max) return { key: 'community.batch.tooMany', params: { action, count, max } };
    if (max > 0 && u.running + count > max) return { key: 'community.batch.busy', params: { action, count, running: u.running, max } };
    if (u.cooldownUntil && u.cooldownUntil > now) return { key: 'community.limit.cooldown', params: { when: relativeTime(u.cooldownUntil) } };
    const daily = u.limits.dailyPerUser;
    if (daily > 0 && u.today >= daily) return { key: 'community.limit.daily', params: { count: daily, when } };
    if (daily > 0 && u.today + count > daily) return { key: 'community.batch.daily', params: { action, count, left: daily - u.today, when } };
    if (u.dailyServer > 0 && u.serverToday >= u.dailyServer) return { key: 'community.limit.server', params: { count: u.dailyServer, when } };
    if (u.dailyServer > 0 && u.serverToday + count > u.dailyServer)
      return { key: 'community.batch.server', params: { action, count, left: u.dailyServer - u.serverToday, when } };
    return undefined;
  }

  /** A member's limits and how much of them is used (for /info and the admission check). */
  /** `need` (default: everything) says which of the counts to read; one not read is 0. */
  async usage(
    userId: string,
    guildId: string | undefined,
    roles: readonly string[],
    need: (limits: Limits, dailyServer: number) => UsageNeeds = () => EVERY_COUNT,
  ): Promise<Usage> {
    const now = this.d.now();
    const rules = (await this.rules(guildId)) ?? defaultRules(this.d.defaultLimits);
    const limits = effectiveLimits(rules, roles);
    const wanted = need(limits, rules.dailyServer);
    const recent = wanted.running || wanted.cooldown ? await this.d.repos.jobs.recentForUser(userId, wanted.running ? 25 : 1) : [];
    const last = recent[0];
    return {
      limits,
      running: recent.filter((j) => !isFinal(j) && j.status !== 'waiting').length,
      today: wanted.today ? await this.d.repos.jobs.countToday(userId, now) : 0,
      serverToday: guildId && wanted.serverToday ? await this.d.rules.countToday(guildId, now) : 0,
      dailyServer: rules.dailyServer,
      resetAt: nextUtcMidnight(now),
      cooldownUntil: limits.cooldownSec > 0 && last ? last.createdAt + limits.cooldownSec * 1000 : undefined,
      ban: this.activeBan(rules, userId),
    };
  }

  /** Jobs the server started today (UTC). */
  async serverToday(guildId: string): Promise<number> {
    return this.d.rules.countToday(guildId, this.d.now());
  }

  /** Count a started job against the server's day (the member's own day count is kept with their jobs). */
  async started(job: Job): Promise<void> {
    if (job.owner.guildId) await this.d.rules.addToday(job.owner.guildId, job.createdAt, 1);
  }

  /** A job the upstream refused does not use up anyone's quota. */
  async refused(job: Job): Promise<void> {
    await this.d.repos.jobs.uncountToday(job);
    if (job.owner.guildId) await this.d.rules.addToday(job.owner.guildId, job.createdAt, -1);
  }

  /** Report to the server's log channel, if it has one (never throws). */
  async log(guildId: string | undefined, key: string, params: Record<string, string | number>): Promise<void> {
    if (!guildId) return;
    const rules = await this.rules(guildId);
    if (!rules?.logChannelId) return;
    const text = this.d.i18n.t(rules.locale ?? 'en-US', key, params);
    await this.d.post(rules.logChannelId, text).catch((err) => this.d.logger.warn({ err, guildId }, 'could not post to the log channel'));
  }

  /** The server's failures in the last hour by kind, counted by every process on the store. */
  async failuresLastHour(guildId: string): Promise<FailureCountsByKind> {
    return (await this.d.failures?.lastHour(guildId, this.d.now())) ?? {};
  }

  /** A submit the upstream refused: counted and logged, unless the refusal was the member's own doing (a banned prompt…). */
  async submitFailed(job: Job, err: unknown): Promise<void> {
    const kind = submitFailureKind(err);
    if (kind) await this.failure(job, kind, 'community.log.submitFailed');
  }

  /**
   * Wrap the tracker's sink: failures after the submit are counted and reported to the server's log channel, and so
   * is a result the sink could not deliver `giveUpAfter` times in a row (the tracker's delivery attempts).
   */
  loggingSink(inner: JobSink, opts: { giveUpAfter?: number | undefined } = {}): JobSink {
    const misses = new Map<string, number>();
    return {
      progress: (job) => inner.progress(job),
      finish: async (job) => {
        try {
          await inner.finish(job);
        } catch (err) {
          const n = (misses.get(job.id) ?? 0) + 1;
          misses.set(job.id, n);
          if (opts.giveUpAfter && n >= opts.giveUpAfter) {
            misses.delete(job.id);
            await this.failure(job, 'delivery', 'community.log.deliveryFailed', { count: n });
          }
          throw err;
        }
        misses.delete(job.id);
        const kind = jobFailureKind(job);
        if (kind) await this.failure(job, kind, 'community.log.jobFailed');
      },
    };
  }

  /** Count a job's failure in the store and, the first time it is counted, tell the server's log channel (never throws). */
  private async failure(job: Job, kind: FailureKind, logKey: string, extra: Record<string, number> = {}): Promise<void> {
    const guildId = job.owner.guildId;
    if (!guildId) return;
    try {
      if (this.d.failures && !(await this.d.failures.record({ guildId, jobId: job.id, kind, at: this.d.now() }))) return; // counted before
      const rules = await this.rules(guildId);
      if (!rules?.logChannelId) return;
      const locale = rules.locale ?? 'en-US';
      const reason = this.d.i18n.msg(locale, job.error ?? { key: 'errors.unknown' }).slice(0, 300);
      const text = this.d.i18n.t(locale, logKey, {
        ...extra,
        id: job.id,
        user: `<@${job.owner.userId}>`,
        kind: this.d.i18n.t(locale, `community.failure.kind.${kind}`),
        reason,
      });
      await this.d.post(rules.logChannelId, text);
    } catch (err) {
      this.d.logger.warn({ err, guildId, jobId: job.id, kind }, 'could not count or report a failure');
    }
  }
}
