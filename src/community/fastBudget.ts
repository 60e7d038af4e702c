import type { Keyv } from 'keyv';
import type { Job } from '../jobs/model.js';
import type { JobSink } from '../jobs/tracker.js';
import type { Logger } from '../log.js';
import type { KvStore } from '../store/keyvStore.js';
import { KeyedMutex } from '../store/repositories.js';
import { fastMinutesOf, type TaskTimes } from './fastBudgetEstimate.js';
import { defaultRules, effectiveLimits, type GuildRules, type Limits } from './rules.js';

/**
 * Fast-time budgets: the fast GPU minutes each member and the whole server used on a UTC day, recorded when a job
 * finishes (estimated, see fastBudgetEstimate.ts) and kept in the store beside the other day counters. A member
 * whose day's budget (or whose server's) is spent is not refused: their next jobs run in relax mode.
 */

/** One server's fast minutes on one UTC day. */
export interface DayUsage {
  /** the whole server's minutes */
  total: number;
  /** minutes by member id */
  members: Record<string, number>;
}

/** Why a job runs in relax instead of fast: the member's own budget, or the server's, is spent for the day. */
export type FastFallback = 'member' | 'server';

/** Whose budget (if any) a new job of this member would go over: the member's first, then the server's. */
export function budgetFallback(usage: DayUsage, userId: string, memberBudget: number, serverBudget: number): FastFallback | undefined {
  if (memberBudget > 0 && (usage.members[userId] ?? 0) >= memberBudget) return 'member';
  if (serverBudget > 0 && usage.total >= serverBudget) return 'server';
  return undefined;
}

/** A day's usage as /admin usage shows it: the server against its budget, and its top members. */
export interface UsageReport {
  day: string;
  total: number;
  serverBudget: number;
  memberBudget: number;
  /** the members who used most, most first */
  top: { userId: string; minutes: number }[];
  /** members with any use that day */
  members: number;
}

export interface FastBudgetDeps {
  store: KvStore;
  /** the server's rules (cached by Community) */
  rules: (guildId: string) => Promise<GuildRules | undefined>;
  logger: Logger;
  now: () => number;
  /** what a finished job's upstream task reported about its timing (a fetch of the task); undefined when unknown */
  taskTimes?: ((job: Job) => Promise<TaskTimes | undefined>) | undefined;
  defaultLimits?: Partial<Limits> | undefined;
}

/** Day counters live two days (a day's keys are read on that day and for the report just after midnight). */
const DAY_TTL_MS = 2 * 86_400_000;

export class FastBudget {
  private kv: Keyv;
  private mutex: KeyedMutex;

  constructor(private d: FastBudgetDeps) {
    this.kv = d.store.namespace('guilds');
    this.mutex = new KeyedMutex(d.store.redis ? d.store : undefined);
  }

  /** The server's fast minutes on the UTC day of `at` (today by default). */
  async usage(guildId: string, at = this.d.now()): Promise<DayUsage> {
    const stored = (await this.kv.get(dayKey(guildId, at))) as DayUsage | undefined;
    return { total: stored?.total ?? 0, members: { ...(stored?.members ?? {}) } };
  }

  /** Add a member's minutes to their server's day (under the store's lock: several processes may add at once). */
  async add(guildId: string, userId: string, minutes: number, at = this.d.now()): Promise<void> {
    if (!(minutes > 0)) return;
    const key = dayKey(guildId, at);
    await this.mutex.run(key, async () => {
      const day = await this.usage(guildId, at);
      day.total += minutes;
      day.members[userId] = (day.members[userId] ?? 0) + minutes;
      await this.kv.set(key, day, DAY_TTL_MS);
    });
  }

  /** Whether this member's next job must run in relax, and because of whose budget; undefined = fast is fine. */
  async fallback(owner: Pick<Job['owner'], 'userId' | 'guildId' | 'roles'>): Promise<FastFallback | undefined> {
    if (!owner.guildId) return undefined;
    const rules = (await this.d.rules(owner.guildId)) ?? defaultRules(this.d.defaultLimits);
    const memberBudget = effectiveLimits(rules, owner.roles ?? []).fastMinutes ?? 0;
    const serverBudget = rules.serverFastMinutes ?? 0;
    if (memberBudget === 0 && serverBudget === 0) return undefined; // no budgets: nothing to read
    return budgetFallback(await this.usage(owner.guildId), owner.userId, memberBudget, serverBudget);
  }

  /** The day's report for /admin usage. */
  async report(guildId: string, topN = 10): Promise<UsageReport> {
    const now = this.d.now();
    const [usage, rules] = await Promise.all([this.usage(guildId, now), this.d.rules(guildId)]);
    const r = rules ?? defaultRules(this.d.defaultLimits);
    const ranked = Object.entries(usage.members)
      .map(([userId, minutes]) => ({ userId, minutes }))
      .sort((a, b) => b.minutes - a.minutes || a.userId.localeCompare(b.userId));
    return {
      day: dayOf(now),
      total: usage.total,
      serverBudget: r.serverFastMinutes ?? 0,
      memberBudget: r.limits.fastMinutes ?? 0,
      top: ranked.slice(0, topN),
      members: ranked.length,
    };
  }

  /** Count a finished job's fast minutes against its member and server. */
  async recordFinished(job: Job): Promise<number> {
    const guildId = job.owner.guildId;
    if (!guildId || fastMinutesOf(job) === 0) return 0; // relax, failed, text results, other providers: nothing to ask
    const times = await this.d.taskTimes?.(job).catch((err: unknown) => {
      this.d.logger.debug({ err, jobId: job.id }, 'could not read the task times; using the nominal estimate');
      return undefined;
    });
    const minutes = fastMinutesOf(job, times);
    await this.add(guildId, job.owner.userId, minutes);
    return minutes;
  }

  /**
   * Wrap the tracker's sink: once a job's result was delivered, its fast minutes are recorded (after the delivery,
   * so that a delivery tried again does not count twice). Recording never fails the delivery.
   */
  recordingSink(inner: JobSink): JobSink {
    return {
      progress: (job) => inner.progress(job),
      finish: async (job) => {
        await inner.finish(job);
        await this.recordFinished(job).catch((err: unknown) => this.d.logger.warn({ err, jobId: job.id }, 'could not record fast minutes'));
      },
    };
  }
}

const dayOf = (at: number) => new Date(at).toISOString().slice(0, 10);
const dayKey = (guildId: string, at: number) => `fast:${guildId}:${dayOf(at)}`;
