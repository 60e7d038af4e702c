import type { Logger } from '../log.js';
import { KeyedMutex, type Repositories } from '../store/repositories.js';
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
  /** observes every job the upstream refused at submit (metrics) */
  onSubmitFailed?: (job: Job) => void;
  /**
   * May this job start now? (a server's limits: concurrency, cooldown, quotas). Called under a per-user lock
   * together with storing the job, so two quick submits cannot both slip under a limit. A message = refused.
   */
  admit?: (owner: Job['owner']) => Promise<Msg | undefined>;
  /** counts a started job, and takes the count back when the upstream refuses it */
  counters?: { started(job: Job): Promise<void>; refused(job: Job): Promise<void> } | undefined;
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
  async run(draft: JobDraft, submit: (job: Job) => Promise<SubmitResult>): Promise<Job> {
    const job = await this.perUser.run(draft.owner.userId, () => this.admitAndStore(draft));
    return this.submitAndTrack(job, submit);
  }

  private async admitAndStore(draft: JobDraft): Promise<Job> {
    const refusal = await this.o.admit?.(draft.owner);
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
    await this.o.tracker.claim(job.id); // ours from the start (several processes may share the store)
    await this.o.repos.jobs.save(job, now);
    await this.o.repos.jobs.addToUser(job);
    await this.o.counters?.started(job);
    return job;
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

  private async submitAndTrack(job: Job, submit: (job: Job) => Promise<SubmitResult>): Promise<Job> {
    let outcome: SubmitResult;
    try {
      outcome = await submit(job);
    } catch (err) {
      const msg = this.o.describeError(err);
      job.status = 'failed';
      job.error = msg;
      job.finishedAt = this.now();
      job.deliveredAt = this.now(); // told in the interaction reply; nothing to post
      await this.o.repos.jobs.save(job, this.now());
      await this.o.tracker.release(job.id).catch(() => undefined);
      await this.o.counters?.refused(job).catch(() => undefined);
      this.o.logger.info({ jobId: job.id, err, error: msg.key }, 'submit refused');
      this.o.onSubmitFailed?.(job);
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
    void this.o.delivery
      .begin(job)
      .then(() => (job.messages.progress ? this.o.repos.jobs.save(job, this.now()) : undefined))
      .catch((err) => this.o.logger.warn({ err, jobId: job.id }, 'could not post the progress message'));
    return job;
  }

  /** Record a job that is over before it started (e.g. refused locally after it was drafted). */
  async get(id: string): Promise<Job | undefined> {
    return this.o.tracker.get(id) ?? (await this.o.repos.jobs.get(id));
  }
}
