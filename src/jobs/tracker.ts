import type { Logger } from '../log.js';
import type { Repositories } from '../store/repositories.js';
import { isFinal, upstreamOf, type Job, type JobUpdate, type Provider } from './model.js';
import type { ProviderAdapter, ProviderRegistry } from './provider.js';
import type { MjButton } from '../upstream/mjTypes.js';

/** What an authenticated callback carried besides naming its task (hints; the task is still re-fetched). */
export interface CallbackCarry {
  buttons?: MjButton[] | undefined;
}

/** The longest the tracker's timer sleeps before it looks at the clock again. */
const MAX_SLEEP_MS = 60_000;

/** Jobs read from the store per page when resuming or adopting (ids are listed first, then a page of jobs is read). */
export const DEFAULT_RESUME_PAGE = 500;
/** Jobs asked about per poll of one provider; a round goes batch after batch, each answer applied and let go first. */
export const DEFAULT_POLL_BATCH = 200;

/** The part of delivery the tracker drives. */
export interface JobSink {
  progress(job: Job): void;
  finish(job: Job): Promise<void>;
  /** The upstream says the job is over: called once, as soon as it is known, before the job is stored and finished. */
  ended?(job: Job): void;
}

/**
 * Who polls and delivers a job when several bot processes share one store: the process that holds the job's lease.
 * The default (one process) owns everything.
 */
export interface JobOwnership {
  /** try to take (or keep) a job; false when another live process holds it */
  claim(jobId: string): Promise<boolean>;
  /** extend the leases of the jobs this process holds; answers those it no longer holds (another process took them) */
  renew(jobIds: string[]): Promise<string[] | void>;
  /** give a job up (it is finished and delivered) */
  release(jobId: string): Promise<void>;
  /** take a job whoever holds it (a user acted on it in this process, e.g. submitted its modal) */
  take?(jobId: string): Promise<void>;
}

/** Final callbacks arriving within this long are re-fetched in one poll (each job's end is waited for only this long). */
const NUDGE_BATCH_MS = 5;

export const SOLE_OWNER: JobOwnership = {
  claim: async () => true,
  renew: async () => undefined,
  release: async () => undefined,
};

export interface TrackerOptions {
  repos: Repositories;
  providers: ProviderRegistry;
  sink: JobSink;
  logger: Logger;
  /** how often each running job is polled (polling mode) */
  pollIntervalMs: number;
  /** when set, callbacks drive updates and each job is polled only this often as a safety net (webhook mode) */
  safetyPollMs?: number | undefined;
  /** the providers whose updates arrive by callback: only they slow down to safetyPollMs in webhook mode (default: all) */
  callbackProviders?: ReadonlySet<Provider> | undefined;
  now?: () => number;
  /** observes every applied update (metrics) */
  onUpdate?: (job: Job, update: JobUpdate) => void;
  /** with callbacks: a progress-only callback refreshes a job at most this often (default 10 s); a final one at once */
  callbackRefreshMs?: number | undefined;
  /** leases for running several processes on one store (default: this process owns every job) */
  ownership?: JobOwnership | undefined;
  /** how often leases are renewed and unowned jobs adopted (default 10 s) */
  ownershipIntervalMs?: number | undefined;
  /** how a delivery that failed (Discord 5xx, network, store error) is tried again (default DEFAULT_DELIVERY_RETRY) */
  deliveryRetry?: DeliveryRetry | undefined;
  /** randomness for the retry jitter, 0 ≤ x < 1 (tests) */
  random?: () => number;
  /** jobs read from the store per page at start and when adopting (default DEFAULT_RESUME_PAGE) */
  resumePageSize?: number | undefined;
  /** most jobs of one provider asked about in one poll (default DEFAULT_POLL_BATCH): bounds what a round holds at once */
  pollBatchSize?: number | undefined;
}

/**
 * Retrying a delivery: attempt n + 1 waits a random time between half and all of firstMs · 2^(n-1), capped at maxMs.
 * After `attempts` failed attempts the process gives the job up for `pauseMs`: it releases the lease (another
 * process may deliver it) and tries again itself only after the pause, if the job is still undelivered then.
 */
export interface DeliveryRetry {
  firstMs: number;
  maxMs: number;
  attempts: number;
  pauseMs: number;
}

export const DEFAULT_DELIVERY_RETRY: DeliveryRetry = { firstMs: 1000, maxMs: 60_000, attempts: 8, pauseMs: 60_000 };

/**
 * The retry policy for a poll interval: the default at POLL_INTERVAL_MS ≥ 3 s, scaled down with faster polling
 * (as the test suite runs), so that retries keep the same pace relative to everything else.
 */
export function deliveryRetryFor(pollIntervalMs: number): DeliveryRetry {
  const f = Math.min(1, Math.max(0.01, pollIntervalMs / 3000));
  const d = DEFAULT_DELIVERY_RETRY;
  return { firstMs: d.firstMs * f, maxMs: d.maxMs * f, attempts: d.attempts, pauseMs: d.pauseMs * f };
}

/** How long to wait before attempt `attempt + 1` (attempt ≥ 1), jittered: a random point in the upper half of the step. */
export function retryDelay(policy: Pick<DeliveryRetry, 'firstMs' | 'maxMs'>, attempt: number, random: () => number = Math.random): number {
  const step = Math.min(policy.maxMs, policy.firstMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + (random() * step) / 2);
}

interface Tracked {
  job: Job;
  nextPollAt: number;
  lastPolledAt: number;
}

type Adoption = 'resumed' | 'delivered' | 'lost';

/**
 * One loop for every in-flight job of every provider. Each tick polls the jobs that are due in one batch
 * per provider, applies what changed, hands progress to delivery, and delivers finished jobs.
 * A single timer drives it all: there are no per-job timers.
 */
export class Tracker {
  private tracked = new Map<string, Tracked>();
  private byUpstream = new Map<string, string>();
  private nudged = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private ticking = false;
  /** a round was asked for while one was under way */
  private tickAgain = false;
  private stopped = true;
  private finishing = new Set<Promise<void>>();
  private ownershipTimer: NodeJS.Timeout | null = null;
  /** jobs whose lease this process holds: tracked, being submitted, or being delivered (renewed, never adopted as orphans) */
  private held = new Set<string>();
  /** jobs whose delivery is running here (never adopted again meanwhile, even if their lease lapsed) */
  private delivering = new Set<string>();
  private ownershipBusy = false;
  /** delivery retries waiting for their turn (cleared on stop: the job stays in the store for the next start) */
  private retryTimers = new Set<NodeJS.Timeout>();
  /** jobs this process gave up delivering, and until when it leaves them to other processes */
  private paused = new Map<string, number>();
  private readonly retry: DeliveryRetry;
  private readonly ownership: JobOwnership;
  private readonly now: () => number;
  private readonly interval: number;
  private readonly pageSize: number;
  private readonly batchSize: number;
  readonly stats = { ticks: 0, polls: 0 };

  constructor(private o: TrackerOptions) {
    this.now = o.now ?? Date.now;
    this.interval = o.safetyPollMs ?? o.pollIntervalMs;
    this.ownership = o.ownership ?? SOLE_OWNER;
    this.retry = o.deliveryRetry ?? DEFAULT_DELIVERY_RETRY;
    this.pageSize = Math.max(1, Math.floor(o.resumePageSize ?? DEFAULT_RESUME_PAGE));
    this.batchSize = Math.max(1, Math.floor(o.pollBatchSize ?? DEFAULT_POLL_BATCH));
  }

  get size(): number {
    return this.tracked.size;
  }

  /** how often a job of this provider is polled: the safety interval only where callbacks drive updates */
  private intervalFor(provider: Provider): number {
    const hooked = this.o.callbackProviders?.has(provider) ?? true;
    return hooked ? this.interval : this.o.pollIntervalMs;
  }

  /** Jobs followed right now, by provider and by status (for /admin status). */
  counts(): { byProvider: Record<string, number>; byStatus: Record<string, number> } {
    const byProvider: Record<string, number> = {};
    const byStatus: Record<string, number> = {};
    for (const { job } of this.tracked.values()) {
      byProvider[job.provider] = (byProvider[job.provider] ?? 0) + 1;
      byStatus[job.status] = (byStatus[job.status] ?? 0) + 1;
    }
    return { byProvider, byStatus };
  }

  get webhookMode(): boolean {
    return this.o.safetyPollMs !== undefined;
  }

  /**
   * Resume every unfinished job from the store; deliver finished-but-undelivered ones. The store is read a page at
   * a time (ids, then that page's jobs), so that many jobs are never all loaded at once.
   */
  async start(): Promise<{ resumed: number; delivered: number; lost: number }> {
    this.stopped = false;
    const counts = { resumed: 0, delivered: 0, lost: 0 };
    for await (const ids of this.o.repos.jobs.inflightIdPages(this.pageSize)) {
      for (const outcome of (await this.adoptPage(ids)).values()) counts[outcome]++;
    }
    this.schedule(0);
    if (this.ownership !== SOLE_OWNER) this.startOwnershipLoop();
    return counts;
  }

  /**
   * Take over unfinished jobs from the store (at start, or when their owner went away): claim their leases, then
   * read them again — an owner may have delivered one just before letting go — and resume, deliver or fail each.
   * `skip` is asked right before each claim (the ownership loop: jobs this process follows meanwhile).
   */
  private async adoptPage(ids: string[], skip?: (id: string) => boolean): Promise<Map<string, Adoption>> {
    const outcomes = new Map<string, Adoption>();
    const claimed: string[] = [];
    for (const id of ids) {
      if (this.stopped) break;
      if (skip?.(id)) continue;
      if (await this.claim(id)) claimed.push(id); // else another process has it
    }
    if (claimed.length === 0) return outcomes;
    const jobs = new Map((await this.o.repos.jobs.getMany(claimed)).map((j) => [j.id, j]));
    for (const id of claimed) {
      const outcome = await this.settleAdopted(id, jobs.get(id));
      jobs.delete(id); // let each job go once it is followed or delivered
      if (outcome) outcomes.set(id, outcome);
    }
    return outcomes;
  }

  private async adopt(id: string): Promise<Adoption | undefined> {
    return (await this.adoptPage([id])).get(id);
  }

  private async settleAdopted(id: string, job: Job | undefined): Promise<Adoption | undefined> {
    if (this.tracked.has(id) || this.delivering.has(id)) return undefined; // followed here meanwhile (a user acted on it)
    if (!job || (isFinal(job) && job.deliveredAt)) {
      await this.release(id);
      return undefined;
    }
    if (isFinal(job)) {
      this.deliver(job);
      return 'delivered';
    }
    if (job.status === 'submitting') {
      // the process stopped between asking the upstream and hearing back: we cannot know the task id
      job.status = 'failed';
      job.error = { key: 'errors.lostDuringRestart' };
      job.finishedAt = this.now();
      await this.o.repos.jobs.save(job, this.now());
      this.deliver(job);
      return 'lost';
    }
    this.track(job, true);
    return 'resumed';
  }

  /** Take a new job's lease before it is stored, so no other process adopts it meanwhile. */
  async claim(jobId: string): Promise<boolean> {
    const ok = await this.ownership.claim(jobId);
    if (ok) this.held.add(jobId);
    return ok;
  }

  /** Make a job this process's whoever held it (a user's action on it arrived here). */
  async take(jobId: string): Promise<void> {
    if (this.ownership.take) await this.ownership.take(jobId);
    else await this.ownership.claim(jobId);
    this.held.add(jobId);
  }

  /** Give a job's lease up (it is over and nothing is left to deliver). */
  async release(jobId: string): Promise<void> {
    this.held.delete(jobId);
    await this.ownership.release(jobId);
  }

  /** Start following a job (after submit, or on resume). */
  track(job: Job, pollNow = false): void {
    const interval = this.intervalFor(job.provider);
    this.tracked.set(job.id, { job, nextPollAt: pollNow ? this.now() : onGrid(this.now(), interval), lastPolledAt: this.now() });
    if (job.upstreamId) this.byUpstream.set(`${job.provider}:${job.upstreamId}`, job.id);
    if (!this.stopped) this.schedule(pollNow ? 0 : interval);
  }

  /** The job object the tracker holds (the live copy) */
  get(jobId: string): Job | undefined {
    return this.tracked.get(jobId)?.job;
  }

  /** A job that ended here, not upstream (refused when its turn came, cancelled while waiting): deliver it like any final job. */
  async finishNow(job: Job): Promise<void> {
    this.untrack(job.id);
    job.finishedAt ??= this.now();
    await this.saveBeforeDelivery(job);
    this.deliver(job);
  }

  /** Stop following a job without delivering it (its owner moved it elsewhere). */
  untrack(jobId: string): void {
    const t = this.tracked.get(jobId);
    if (!t) return;
    this.tracked.delete(jobId);
    if (t.job.upstreamId) this.byUpstream.delete(`${t.job.provider}:${t.job.upstreamId}`);
  }

  /**
   * A hint (a webhook callback) that an upstream task changed. Unknown ids are ignored. The task is re-fetched,
   * never trusted: at once (batched over NUDGE_BATCH_MS) when the callback claims the task is over, else at the next
   * refresh (`callbackRefreshMs`), so a stream of progress callbacks costs a few batched polls, not one each.
   */
  nudge(provider: Provider, upstreamId: string, final = true, carried?: CallbackCarry): boolean {
    const jobId = this.byUpstream.get(`${provider}:${upstreamId}`);
    const t = jobId ? this.tracked.get(jobId) : undefined;
    if (!jobId || !t) return false;
    // buttons an authenticated callback named for this task: kept beside the job, used only if the re-fetch has none
    if (carried?.buttons?.length && t.job.provider === 'mj') upstreamOf(t.job, 'mj').callbackButtons = carried.buttons;
    if (final) {
      this.nudged.add(jobId);
      this.schedule(NUDGE_BATCH_MS);
    } else {
      const every = this.o.callbackRefreshMs ?? 10_000;
      const refreshAt = Math.max(onGrid(this.now(), every, 0), onGrid(t.lastPolledAt, every));
      if (refreshAt < t.nextPollAt) {
        t.nextPollAt = refreshAt;
        this.schedule(refreshAt - this.now());
      }
    }
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.retryTimers) clearTimeout(t);
    this.retryTimers.clear();
    if (this.ownershipTimer) clearInterval(this.ownershipTimer);
    this.ownershipTimer = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
    await Promise.allSettled([...this.finishing]);
  }

  /** Wait until all deliveries started so far are done (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.finishing]);
  }

  /** Renew this process's leases and adopt unfinished jobs that no live process holds (failover). */
  private startOwnershipLoop(): void {
    const every = this.o.ownershipIntervalMs ?? 10_000;
    this.ownershipTimer = setInterval(() => void this.ownershipRound(), every);
    this.ownershipTimer.unref?.();
  }

  private ownershipRound(): Promise<void> {
    if (this.ownershipBusy) return Promise.resolve(); // the store is slow: do not pile rounds up
    this.ownershipBusy = true;
    return (async () => {
      const lost = (await this.ownership.renew([...this.held])) ?? [];
      for (const id of lost) {
        // another process holds it now (this one was cut off longer than the lease): stop following it
        this.held.delete(id);
        this.untrack(id);
      }
      const busyHere = (id: string): boolean => {
        if (this.held.has(id) || this.tracked.has(id) || this.delivering.has(id)) return true;
        if ((this.paused.get(id) ?? 0) > this.now()) return true; // we failed to deliver it lately: the others go first
        this.paused.delete(id);
        return false;
      };
      for await (const ids of this.o.repos.jobs.inflightIdPages(this.pageSize)) {
        if (this.stopped) return;
        for (const [id, outcome] of await this.adoptPage(ids, busyHere)) this.o.logger.info({ jobId: id, outcome }, 'adopted a job whose owner went away');
      }
    })()
      .catch((err) => this.o.logger.warn({ err }, 'ownership round failed'))
      .finally(() => {
        this.ownershipBusy = false;
      });
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    // never sleep longer than a minute: a wall clock that jumps (NTP, a resumed host) is re-read at least that often,
    // and setTimeout turns delays past 2^31 ms into 1 ms
    const delay = Math.min(MAX_SLEEP_MS, Math.max(0, delayMs));
    const at = this.now() + delay;
    if (this.timer && at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      void this.tick();
    }, delay);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    if (this.ticking) {
      this.tickAgain = true; // at once when this round is over: a final callback must not wait a round and more
      return;
    }
    this.ticking = true;
    try {
      this.stats.ticks++;
      const now = this.now();
      const due = new Map<Provider, Tracked[]>();
      for (const [id, t] of this.tracked) {
        const job = t.job;
        if (now >= job.deadlineAt) {
          await this.expire(t);
          continue;
        }
        if (job.status === 'modal' || job.status === 'waiting') continue; // waiting for the user or its turn, not for the upstream
        // the clock went back: a poll planned further ahead than one interval is due now
        if (t.nextPollAt > now + this.intervalFor(job.provider)) t.nextPollAt = now;
        if (this.nudged.has(id) || t.nextPollAt <= now) {
          const list = due.get(job.provider) ?? [];
          list.push(t);
          due.set(job.provider, list);
        }
      }
      this.nudged.clear();
      await Promise.all([...due].map(([provider, list]) => this.pollProvider(provider, list)));
    } catch (err) {
      this.o.logger.error({ err }, 'tracker tick failed');
    } finally {
      this.ticking = false;
      this.scheduleNext();
      if (this.tickAgain) {
        this.tickAgain = false;
        this.schedule(0);
      }
    }
  }

  private scheduleNext(): void {
    let next = Infinity;
    for (const t of this.tracked.values()) {
      if (t.job.status === 'modal' || t.job.status === 'waiting') next = Math.min(next, t.job.deadlineAt);
      else next = Math.min(next, t.nextPollAt, t.job.deadlineAt);
    }
    if (next !== Infinity) this.schedule(next - this.now());
  }

  /**
   * One provider's due jobs, in batches of at most `pollBatchSize`: each batch's answer is applied before the next
   * batch is asked for, so a round over many jobs holds one batch of upstream answers at a time.
   */
  private async pollProvider(provider: Provider, list: Tracked[]): Promise<void> {
    const adapter = this.o.providers.get(provider);
    const now = this.now();
    const next = onGrid(now, this.intervalFor(provider));
    for (const t of list) {
      t.nextPollAt = next;
      t.lastPolledAt = now;
    }
    if (!adapter) return;
    for (let i = 0; i < list.length && !this.stopped; i += this.batchSize) {
      await this.pollBatch(adapter, provider, list.slice(i, i + this.batchSize));
    }
  }

  private async pollBatch(adapter: ProviderAdapter, provider: Provider, batch: Tracked[]): Promise<void> {
    let updates: Map<string, JobUpdate>;
    try {
      this.o.logger.trace({ provider, jobs: batch.length }, 'polling');
      this.stats.polls++;
      updates = await adapter.poll(batch.map((t) => t.job));
    } catch (err) {
      // an upstream outage is not a job failure: keep the jobs, their deadlines still apply
      this.o.logger.warn({ err, provider, jobs: batch.length }, 'poll failed; will retry');
      return;
    }
    // one after another (200 saves and frames at once cost memory); a job that ended is not stored here: see apply
    for (const t of batch) {
      const u = updates.get(t.job.id);
      if (u && this.tracked.get(t.job.id) === t) await this.apply(t, u);
    }
  }

  private async apply(t: Tracked, u: JobUpdate): Promise<void> {
    const job = t.job;
    const statusChanged = u.status !== job.status;
    const progressChanged =
      (u.progress !== undefined && u.progress !== job.progress) ||
      (u.previewUrl !== undefined && u.previewUrl !== job.previewUrl) ||
      u.queuePosition !== job.queuePosition;
    if (!statusChanged && !progressChanged && !u.result) return;
    job.status = u.status;
    if (u.progress !== undefined) job.progress = u.progress;
    if (u.previewUrl !== undefined) job.previewUrl = u.previewUrl;
    job.queuePosition = u.queuePosition;
    if (u.result) job.result = u.result;
    if (u.error) job.error = u.error;
    this.o.onUpdate?.(job, u);
    if (isFinal(job)) {
      job.finishedAt = this.now();
      job.previewUrl = undefined;
      this.untrack(job.id);
      this.o.sink.ended?.(job);
      // stored, then delivered, without holding up this round: callbacks that arrive meanwhile are fetched at once
      const p = this.saveBeforeDelivery(job)
        .then(() => this.deliver(job))
        .finally(() => this.finishing.delete(p));
      this.finishing.add(p);
      return;
    }
    if (statusChanged) await this.o.repos.jobs.save(job, this.now());
    this.o.sink.progress(job);
  }

  private async expire(t: Tracked): Promise<void> {
    const job = t.job;
    this.untrack(job.id);
    if (job.status === 'modal') {
      job.status = 'cancelled';
      job.error = { key: 'errors.modalAbandoned' };
      await this.o.providers
        .get(job.provider)
        ?.abandon?.(job)
        .catch(() => undefined);
    } else if (job.status === 'waiting') {
      job.status = 'cancelled';
      job.error = { key: 'queue.waitedTooLong' };
    } else {
      job.status = 'failed';
      job.error = timeoutMessage(job.deadlineAt - job.createdAt);
    }
    job.finishedAt = this.now();
    await this.saveBeforeDelivery(job);
    this.deliver(job);
  }

  /**
   * A finished job is stored before Discord is told. Should the store fail now, the job is delivered all the same:
   * the delivery stores it too (and is retried while the store fails), so the job is not left until a restart.
   */
  private async saveBeforeDelivery(job: Job): Promise<void> {
    await this.o.repos.jobs
      .save(job, this.now())
      .catch((err) => this.o.logger.warn({ err, jobId: job.id }, 'could not store a finished job; delivering it anyway'));
  }

  /**
   * Post a finished job's result. A failure (Discord 5xx or unreachable, the store throwing) is tried again by this
   * process with a growing, jittered delay; after `attempts` failures the job is given up for a while (see DeliveryRetry).
   */
  private deliver(job: Job, attempt = 1): void {
    this.delivering.add(job.id);
    const p = this.o.sink
      .finish(job)
      .then(
        async () => {
          this.delivering.delete(job.id);
          if (job.deliveredAt) await this.release(job.id).catch((err) => this.o.logger.warn({ err, jobId: job.id }, 'could not release a delivered job'));
        },
        (err) => this.deliveryFailed(job, attempt, err),
      )
      .finally(() => this.finishing.delete(p));
    this.finishing.add(p);
  }

  private async deliveryFailed(job: Job, attempt: number, err: unknown): Promise<void> {
    if (this.stopped) {
      // the job stays undelivered in the store: the next start (or another process) delivers it
      this.delivering.delete(job.id);
      this.o.logger.warn({ err, jobId: job.id }, 'delivery failed while stopping; left for the next start');
      return;
    }
    if (attempt < this.retry.attempts) {
      const delayMs = retryDelay(this.retry, attempt, this.o.random);
      this.o.logger.warn({ err, jobId: job.id, attempt, retryInMs: delayMs }, 'delivery failed; will retry');
      const timer = setTimeout(() => {
        this.retryTimers.delete(timer);
        if (!this.stopped) this.deliver(job, attempt + 1);
      }, delayMs);
      this.retryTimers.add(timer);
      return; // still "delivering": the ownership loop keeps its lease alive and never adopts it meanwhile
    }
    // give up for now: free the lease so that another process can try, and look again after a pause
    this.o.logger.error({ err, jobId: job.id, attempts: attempt, pauseMs: this.retry.pauseMs }, 'delivery failed too often; giving the job up for a while');
    this.delivering.delete(job.id);
    this.paused.set(job.id, this.now() + this.retry.pauseMs);
    await this.release(job.id).catch((e) => this.o.logger.warn({ err: e, jobId: job.id }, 'could not release the lease of an undeliverable job'));
    if (this.ownership === SOLE_OWNER) {
      // no ownership loop to adopt it again: come back to it ourselves after the pause
      const timer = setTimeout(() => {
        this.retryTimers.delete(timer);
        this.paused.delete(job.id);
        if (!this.stopped && !this.delivering.has(job.id))
          void this.adopt(job.id).catch((e) => this.o.logger.warn({ err: e, jobId: job.id }, 'could not resume an undelivered job'));
      }, this.retry.pauseMs);
      this.retryTimers.add(timer);
    }
  }
}

/**
 * The first multiple of `interval` at least `min` ms after `now`. Due times on a shared grid make every job that
 * is due in an interval go out in the same batched poll, instead of one small batch per job's own phase.
 */
export function onGrid(now: number, interval: number, min = interval / 2): number {
  return Math.ceil((now + min) / interval) * interval;
}

/** "took longer than 30 minutes" — in seconds when the limit is under a minute. */
export function timeoutMessage(ms: number): { key: string; params: Record<string, number> } {
  return ms >= 60_000
    ? { key: 'errors.timeout', params: { minutes: Math.round(ms / 60_000) } }
    : { key: 'errors.timeoutSeconds', params: { seconds: Math.max(1, Math.round(ms / 1000)) } };
}
