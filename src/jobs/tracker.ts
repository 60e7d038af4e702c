import type { Logger } from '../log.js';
import type { Repositories } from '../store/repositories.js';
import { isFinal, type Job, type JobUpdate, type Provider } from './model.js';
import type { ProviderRegistry } from './provider.js';

/** The part of delivery the tracker drives. */
export interface JobSink {
  progress(job: Job): void;
  finish(job: Job): Promise<void>;
}

/**
 * Who polls and delivers a job when several bot processes share one store: the process that holds the job's lease.
 * The default (one process) owns everything.
 */
export interface JobOwnership {
  /** try to take (or keep) a job; false when another live process holds it */
  claim(jobId: string): Promise<boolean>;
  /** extend the leases of the jobs this process holds */
  renew(jobIds: string[]): Promise<void>;
  /** give a job up (it is finished and delivered) */
  release(jobId: string): Promise<void>;
}

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
  /** leases for running several processes on one store (default: this process owns every job) */
  ownership?: JobOwnership | undefined;
  /** how often leases are renewed and unowned jobs adopted (default 10 s) */
  ownershipIntervalMs?: number | undefined;
}

interface Tracked {
  job: Job;
  nextPollAt: number;
}

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
  private stopped = true;
  private finishing = new Set<Promise<void>>();
  private ownershipTimer: NodeJS.Timeout | null = null;
  private readonly ownership: JobOwnership;
  private readonly now: () => number;
  private readonly interval: number;
  readonly stats = { ticks: 0, polls: 0 };

  constructor(private o: TrackerOptions) {
    this.now = o.now ?? Date.now;
    this.interval = o.safetyPollMs ?? o.pollIntervalMs;
    this.ownership = o.ownership ?? SOLE_OWNER;
  }

  get size(): number {
    return this.tracked.size;
  }

  /** how often a job of this provider is polled: the safety interval only where callbacks drive updates */
  private intervalFor(provider: Provider): number {
    const hooked = this.o.callbackProviders?.has(provider) ?? true;
    return hooked ? this.interval : this.o.pollIntervalMs;
  }

  get webhookMode(): boolean {
    return this.o.safetyPollMs !== undefined;
  }

  /** Resume every unfinished job from the store; deliver finished-but-undelivered ones. */
  async start(): Promise<{ resumed: number; delivered: number; lost: number }> {
    this.stopped = false;
    const ids = await this.o.repos.jobs.inflightIds();
    const jobs = await this.o.repos.jobs.getMany(ids);
    let resumed = 0;
    let delivered = 0;
    let lost = 0;
    for (const job of jobs) {
      if (!(await this.ownership.claim(job.id))) continue; // another process has it
      if (isFinal(job)) {
        if (!job.deliveredAt) {
          this.deliver(job);
          delivered++;
        }
      } else if (job.status === 'submitting') {
        // the process stopped between asking the upstream and hearing back: we cannot know the task id
        job.status = 'failed';
        job.error = { key: 'errors.lostDuringRestart' };
        job.finishedAt = this.now();
        await this.o.repos.jobs.save(job, this.now());
        this.deliver(job);
        lost++;
      } else {
        this.track(job, true);
        resumed++;
      }
    }
    this.schedule(0);
    if (this.ownership !== SOLE_OWNER) this.startOwnershipLoop();
    return { resumed, delivered, lost };
  }

  /** Take a new job's lease before it is stored, so no other process adopts it meanwhile. */
  async claim(jobId: string): Promise<boolean> {
    return this.ownership.claim(jobId);
  }

  /** Start following a job (after submit, or on resume). */
  track(job: Job, pollNow = false): void {
    const interval = this.intervalFor(job.provider);
    this.tracked.set(job.id, { job, nextPollAt: pollNow ? this.now() : this.now() + interval });
    if (job.upstreamId) this.byUpstream.set(`${job.provider}:${job.upstreamId}`, job.id);
    if (!this.stopped) this.schedule(pollNow ? 0 : interval);
  }

  /** The job object the tracker holds (the live copy) */
  get(jobId: string): Job | undefined {
    return this.tracked.get(jobId)?.job;
  }

  /** Stop following a job without delivering it (its owner moved it elsewhere). */
  untrack(jobId: string): void {
    const t = this.tracked.get(jobId);
    if (!t) return;
    this.tracked.delete(jobId);
    if (t.job.upstreamId) this.byUpstream.delete(`${t.job.provider}:${t.job.upstreamId}`);
  }

  /** A hint (e.g. a webhook callback) that an upstream task changed: poll it soon. Unknown ids are ignored. */
  nudge(provider: Provider, upstreamId: string): boolean {
    const jobId = this.byUpstream.get(`${provider}:${upstreamId}`);
    if (!jobId || !this.tracked.has(jobId)) return false;
    this.nudged.add(jobId);
    this.schedule(25); // gather a burst of callbacks into one batched poll
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
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
    return (async () => {
      await this.ownership.renew([...this.tracked.keys()]);
      const ids = await this.o.repos.jobs.inflightIds();
      const orphans = ids.filter((id) => !this.tracked.has(id));
      if (orphans.length === 0) return;
      for (const job of await this.o.repos.jobs.getMany(orphans)) {
        if (this.stopped || this.tracked.has(job.id)) continue;
        if (isFinal(job) && job.deliveredAt) continue;
        if (!(await this.ownership.claim(job.id))) continue;
        this.o.logger.info({ jobId: job.id }, 'adopted a job whose owner went away');
        if (isFinal(job)) this.deliver(job);
        else if (job.status !== 'submitting') this.track(job, true);
      }
    })().catch((err) => this.o.logger.warn({ err }, 'ownership round failed'));
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    const at = this.now() + Math.max(0, delayMs);
    if (this.timer && at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      void this.tick();
    }, Math.max(0, delayMs));
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.stopped) {
      this.schedule(50);
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
        if (job.status === 'modal') continue; // waiting for the user, not for the upstream
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
    }
  }

  private scheduleNext(): void {
    let next = Infinity;
    for (const t of this.tracked.values()) {
      if (t.job.status === 'modal') next = Math.min(next, t.job.deadlineAt);
      else next = Math.min(next, t.nextPollAt, t.job.deadlineAt);
    }
    if (next !== Infinity) this.schedule(next - this.now());
  }

  private async pollProvider(provider: Provider, list: Tracked[]): Promise<void> {
    const adapter = this.o.providers.get(provider);
    const now = this.now();
    for (const t of list) t.nextPollAt = now + this.intervalFor(provider);
    if (!adapter) return;
    let updates: Map<string, JobUpdate>;
    try {
      this.o.logger.trace({ provider, jobs: list.length }, 'polling');
      this.stats.polls++;
      updates = await adapter.poll(list.map((t) => t.job));
    } catch (err) {
      // an upstream outage is not a job failure: keep the jobs, their deadlines still apply
      this.o.logger.warn({ err, provider, jobs: list.length }, 'poll failed; will retry');
      return;
    }
    for (const t of list) {
      const u = updates.get(t.job.id);
      if (u && this.tracked.get(t.job.id) === t) await this.apply(t, u);
    }
  }

  private async apply(t: Tracked, u: JobUpdate): Promise<void> {
    const job = t.job;
    const statusChanged = u.status !== job.status;
    const progressChanged = (u.progress !== undefined && u.progress !== job.progress) || (u.previewUrl !== undefined && u.previewUrl !== job.previewUrl) || u.queuePosition !== job.queuePosition;
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
      await this.o.repos.jobs.save(job, this.now()); // durable before Discord is told
      this.deliver(job);
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
      await this.o.providers.get(job.provider)?.abandon?.(job).catch(() => undefined);
    } else {
      job.status = 'failed';
      job.error = timeoutMessage(job.deadlineAt - job.createdAt);
    }
    job.finishedAt = this.now();
    await this.o.repos.jobs.save(job, this.now());
    this.deliver(job);
  }

  private deliver(job: Job): void {
    const p = this.o.sink
      .finish(job)
      .then(() => (job.deliveredAt ? this.ownership.release(job.id) : undefined))
      .catch((err) => this.o.logger.error({ err, jobId: job.id }, 'delivery failed'))
      .finally(() => this.finishing.delete(p));
    this.finishing.add(p);
  }
}

/** "took longer than 30 minutes" — in seconds when the limit is under a minute. */
export function timeoutMessage(ms: number): { key: string; params: Record<string, number> } {
  return ms >= 60_000 ? { key: 'errors.timeout', params: { minutes: Math.round(ms / 60_000) } } : { key: 'errors.timeoutSeconds', params: { seconds: Math.max(1, Math.round(ms / 1000)) } };
}
