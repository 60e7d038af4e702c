import type { Logger } from '../log.js';
import { KeyedMutex, type Repositories } from '../store/repositories.js';
import { MjError } from '../upstream/mjTypes.js';
import { record } from '../upstream/submitRecorder.js';
import { newId, upstreamOf, type DeliveryMode, type Job, type JobKind, type JobUpstream, type Msg, type Provider, type SpeedMode } from './model.js';
import type { Tracker } from './tracker.js';

/** What a submit function reports back. Failures are thrown (typed upstream errors). */
export type SubmitResult =
  { kind: 'accepted'; upstreamId: string; queuePosition?: number | undefined } | { kind: 'modal'; upstreamId: string; prefill: string };

export interface JobDraft {
  provider: Provider;
  kind: JobKind;
  prompt: string;
  owner: Job['owner'];
  delivery: DeliveryMode;
  mode?: SpeedMode | undefined;
  botType?: Job['botType'];
  parentJobId?: string | undefined;
  action?: Job['action'];
  interaction?: Job['interaction'];
  attachmentLimit?: number | undefined;
  upstream?: JobUpstream | undefined;
  /** a provider's own deadline (ms after creation), used when shorter than the global job timeout */
  timeoutMs?: number | undefined;
}

/** The part of delivery the job service drives. */
export interface JobStarter {
  begin(job: Job): Promise<void>;
  /** a new frame of a job's progress message (its place in the queue) */
  progress(job: Job): void;
}

export interface JobServiceOptions {
  repos: Repositories;
  tracker: Tracker;
  delivery: JobStarter;
  logger: Logger;
  timeoutMs: number;
  /** how long a job may wait for the user's modal input */
  modalTimeoutMs?: number;
  now?: () => number;
  /** turns a thrown submit error into a user message (provider-specific mapping lives with the provider) */
  describeError: (err: unknown) => Msg;
  /** observes every job the upstream refused at submit, with what the upstream threw (metrics, the server's failure log) */
  onSubmitFailed?: (job: Job, err: unknown) => void;
  /**
   * May this job start now? (a server's limits: concurrency, cooldown, quotas). Called under a per-user lock
   * together with storing the job, so two quick submits cannot both slip under a limit. A message = refused.
   */
  admit?: (owner: Job['owner'], opts: { queued: boolean }) => Promise<Msg | undefined>;
  /** counts a started job, and takes the count back when the upstream refuses it */
  counters?: { started(job: Job): Promise<void>; refused(job: Job): Promise<void> } | undefined;
  /** the servers' fair queues (Midjourney jobs in a server): start now, wait, or a refusal */
  queue?: JobQueue | undefined;
}

/** What JobService asks of the servers' fair queues (see QueueService). */
export interface JobQueue {
  /** Whether this job goes through a server's queue (a Midjourney job in a server). */
  applies(job: Job): boolean;
  /**
   * Under the member's lock, once the limits said yes: the job runs now (counted as running), waits its turn, or —
   * when it may not wait (its member's queue is full, or it is not a job that can wait) — the refusal.
   */
  enter(job: Job, canWait: boolean): Promise<'start' | 'wait' | Msg>;
  /** The job neither runs nor waits any more (over, refused, cancelled). */
  leave(job: Job): Promise<void>;
  /** The upstream's own queue was full: the job waits again, at its place, for a while. */
  backOff(job: Job): Promise<void>;
  /** A waiting job's place (1 = next). */
  position(job: Job): Promise<number | undefined>;
  /** Take a waiting job out of the queue (cancelled); false when it is no longer waiting (it started meanwhile). */
  withdraw(job: Job): Promise<boolean>;
  /** A waiting job is now held by this process (stored, with its recorded submit): it starts at once if its turn came meanwhile. */
  held(job: Job): void;
}

/** How long a job may wait in the bot's queue before it is given up. */
export const QUEUE_WAIT_MS = 6 * 3600_000;

/** Options of one job: whether it may wait in its server's queue when the member or the server is at the limit. */
export interface RunOptions {
  canWait?: boolean;
}

/** The job was not started: a limit or rule said no (nothing was sent upstream). */
export class JobRefused extends Error {
  constructor(readonly userMessage: Msg) {
    super(userMessage.key);
    this.name = 'JobRefused';
  }
}

export class SubmitFailed extends Error {
  constructor(
    readonly job: Job,
    readonly userMessage: Msg,
    readonly upstreamError: unknown,
  ) {
    super(userMessage.key);
    this.name = 'SubmitFailed';
  }
}

/**
 * The one path every job takes: record it, submit it upstream, record the outcome (durably), then show it
 * in Discord and hand it to the tracker. Provider-agnostic: the submit function does the provider's part.
 */
export class JobService {
  private now: () => number;
  private perUser = new KeyedMutex();

  constructor(private o: JobServiceOptions) {
    this.now = o.now ?? Date.now;
  }

  /**
   * Submit a new job. Throws JobRefused when a limit says no (before anything is sent), SubmitFailed when the
   * upstream refuses it; both carry the message for the user.
   */
  async run(draft: JobDraft, submit: (job: Job) => Promise<SubmitResult>, opts: RunOptions = {}): Promise<Job> {
    const job = await this.perUser.run(draft.owner.userId, () => this.admitAndStore(draft, opts.canWait === true));
    if (job.status === 'waiting') return this.park(job, submit);
    return this.submitAndTrack(job, submit);
  }

  private async admitAndStore(draft: JobDraft, canWait: boolean): Promise<Job> {
    const refusal = await this.o.admit?.(draft.owner, { queued: this.o.queue !== undefined && draft.provider === 'mj' && draft.owner.guildId !== undefined });
    if (refusal) throw new JobRefused(refusal);
    const now = this.now();
    const job: Job = {
      id: newId(10),
      provider: draft.provider,
      kind: draft.kind,
      parentJobId: draft.parentJobId,
      action: draft.action,
      owner: draft.owner,
      delivery: draft.delivery,
      status: 'submitting',
      progress: 0,
      prompt: draft.prompt,
      mode: draft.mode,
      botType: draft.botType,
      messages: { results: [] },
      interaction: draft.interaction,
      attachmentLimit: draft.attachmentLimit ?? 10 * 1024 * 1024,
      createdAt: now,
      updatedAt: now,
      deadlineAt: now + Math.min(this.o.timeoutMs, draft.timeoutMs ?? Infinity),
      upstream: draft.upstream ?? {},
    };
    if (this.o.queue?.applies(job)) {
      const decision = await this.o.queue.enter(job, canWait);
      if (typeof decision === 'object') throw new JobRefused(decision);
      if (decision === 'wait') job.status = 'waiting';
    }
    try {
      await this.o.tracker.claim(job.id); // ours from the start (several processes may share the store)
      // the job, its member's list and day count, the server's day count: separate records, written side by side
      await Promise.all([this.o.repos.jobs.save(job, now), this.o.repos.jobs.addToUser(job), this.o.counters?.started(job)]);
    } catch (err) {
      // not stored: it must not keep a place in the queue that nothing would ever start or end
      if (this.o.queue?.applies(job)) await this.o.queue.leave(job).catch(() => undefined);
      throw err;
    }
    return job;
  }

  /**
   * A job that waits its turn: its submit is recorded (not sent) and stored with it, so that whichever process's
   * turn comes sends it, even after a restart; the member sees its place and a Cancel button until then.
   */
  private async park(job: Job, submit: (job: Job) => Promise<SubmitResult>): Promise<Job> {
    const request = await record(() => submit(job)).catch((err: unknown) => {
      this.o.logger.warn({ err, jobId: job.id }, 'could not record a waiting job');
      return undefined;
    });
    if (!request) {
      // not a submit that can wait: it is refused as before the queue existed, and uses nothing up
      await this.o.queue?.leave(job);
      await this.drop(job);
      throw new JobRefused({ key: 'queue.cannotWait' });
    }
    job.queued = { request, at: this.now() };
    job.deadlineAt = this.now() + QUEUE_WAIT_MS;
    job.queuePosition = await this.o.queue?.position(job);
    await this.o.repos.jobs.save(job, this.now());
    this.o.tracker.track(job);
    this.o.queue?.held(job); // a slot that freed while it was being stored went to nobody: its turn may be now
    this.showProgress(job);
    return job;
  }

  /**
   * Cancel a job that waits in its server's queue (its Cancel button): out of the queue under the queue's lock, so it
   * cannot start meanwhile; it uses nothing of the member's quota, and its message says so.
   * 'cancelled', or 'started' when its turn came first, or 'not-waiting'.
   */
  async cancelWaiting(jobId: string): Promise<'cancelled' | 'started' | 'not-waiting'> {
    const stored = this.o.tracker.get(jobId) ?? (await this.o.repos.jobs.get(jobId));
    if (!stored || stored.status !== 'waiting' || !this.o.queue) return 'not-waiting';
    if (!(await this.o.queue.withdraw(stored))) return 'started';
    await this.o.tracker.take(jobId); // the process that held it lets it go; this one ends it
    const job = this.o.tracker.get(jobId) ?? stored;
    job.status = 'cancelled';
    job.error = { key: 'queue.cancelled' };
    job.queuePosition = undefined;
    await this.o.counters?.refused(job).catch(() => undefined);
    await this.o.tracker.finishNow(job);
    return 'cancelled';
  }

  /** Post the job's progress message (in the background: a busy channel must not hold up the member's reply), then store where it is. */
  private showProgress(job: Job): void {
    void this.o.delivery
      .begin(job)
      .then(() => (job.messages.progress ? this.o.repos.jobs.save(job, this.now()) : undefined))
      .catch((err) => this.o.logger.warn({ err, jobId: job.id }, 'could not post the progress message'));
  }

  /** A job refused after it was stored: nothing is left of it, and nothing of the member's quota is used. */
  private async drop(job: Job): Promise<void> {
    job.status = 'cancelled';
    job.finishedAt = this.now();
    job.deliveredAt = this.now();
    await this.o.repos.jobs.save(job, this.now()).catch(() => undefined);
    await this.o.tracker.release(job.id).catch(() => undefined);
    await this.o.counters?.refused(job).catch(() => undefined);
  }

  /**
   * A waiting job's turn has come (the queue marked it running): send its recorded submit and track it. A refusal is
   * told on its progress message (the member's reply said "queued" long ago); a full upstream queue puts it back.
   */
  async startWaiting(job: Job, send: () => Promise<SubmitResult>): Promise<void> {
    job.status = 'submitting';
    job.deadlineAt = this.now() + this.o.timeoutMs;
    job.queuePosition = undefined;
    await this.o.repos.jobs.save(job, this.now());
    await this.submitAndTrack(job, send, { told: 'on-its-message' }).catch((err: unknown) => {
      if (!(err instanceof SubmitFailed)) throw err;
    });
  }

  /** Continue a job that waited in a modal: submit the user's input, then track it like any job. */
  async resume(job: Job, submit: (job: Job) => Promise<SubmitResult>): Promise<Job> {
    this.o.tracker.untrack(job.id);
    await this.o.tracker.take(job.id); // the modal may have been opened while another process held the job
    job.status = 'submitting';
    job.deadlineAt = this.now() + this.o.timeoutMs;
    await this.o.repos.jobs.save(job, this.now());
    return this.submitAndTrack(job, submit);
  }

  private async submitAndTrack(job: Job, submit: (job: Job) => Promise<SubmitResult>, opts: { told?: 'in-the-reply' | 'on-its-message' } = {}): Promise<Job> {
    let outcome: SubmitResult;
    try {
      outcome = await submit(job);
    } catch (err) {
      if (err instanceof MjError && err.kind === 'queue-full' && this.o.queue?.applies(job)) {
        // the upstream's queue is full: the job waits in ours and is sent again later, it does not fail
        return this.waitAgain(job, submit, opts.told === 'on-its-message');
      }
      const msg = this.o.describeError(err);
      job.status = 'failed';
      job.error = msg;
      job.finishedAt = this.now();
      const onItsMessage = opts.told === 'on-its-message';
      if (!onItsMessage) job.deliveredAt = this.now(); // told in the interaction reply; nothing to post
      await this.o.repos.jobs.save(job, this.now());
      await this.o.queue?.leave(job).catch(() => undefined);
      if (onItsMessage) await this.o.tracker.finishNow(job);
      else await this.o.tracker.release(job.id).catch(() => undefined);
      await this.o.counters?.refused(job).catch(() => undefined);
      this.o.logger.info({ jobId: job.id, err, error: msg.key }, 'submit refused');
      this.o.onSubmitFailed?.(job, err);
      throw new SubmitFailed(job, msg, err);
    }
    job.upstreamId = outcome.upstreamId;
    if (outcome.kind === 'modal') {
      job.status = 'modal';
      Object.assign(upstreamOf(job, 'mj'), { modalTaskId: outcome.upstreamId, prefill: outcome.prefill }); // only the proxy answers with a modal
      job.deadlineAt = this.now() + (this.o.modalTimeoutMs ?? 15 * 60_000);
      await this.o.repos.jobs.save(job, this.now());
      this.o.tracker.track(job);
      return job;
    }
    job.status = 'queued';
    job.queuePosition = outcome.queuePosition;
    await this.o.repos.jobs.save(job, this.now()); // durable before Discord hears of it
    this.o.tracker.track(job);
    // the progress message may wait behind a busy channel's rate limit: the user's "accepted" must not
    this.showProgress(job);
    return job;
  }

  /** Back into the queue after the upstream said its queue was full (code 23): the same place, a while later. */
  private async waitAgain(job: Job, submit: (job: Job) => Promise<SubmitResult>, wasWaiting: boolean): Promise<Job> {
    this.o.logger.info({ jobId: job.id }, "the upstream's queue is full; the job waits in the bot's queue");
    await this.o.queue!.backOff(job);
    job.status = 'waiting';
    if (wasWaiting && job.queued) {
      job.deadlineAt = this.now() + QUEUE_WAIT_MS;
      job.queuePosition = await this.o.queue!.position(job);
      await this.o.repos.jobs.save(job, this.now());
      this.o.tracker.track(job);
      this.o.delivery.progress(job);
      return job;
    }
    return this.park(job, submit);
  }

  /** A waiting job's place in its server's queue now (1 = next). */
  async place(job: Job): Promise<number | undefined> {
    return job.status === 'waiting' ? this.o.queue?.position(job) : undefined;
  }

  /** Record a job that is over before it started (e.g. refused locally after it was drafted). */
  async get(id: string): Promise<Job | undefined> {
    return this.o.tracker.get(id) ?? (await this.o.repos.jobs.get(id));
  }
}
