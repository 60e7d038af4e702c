import type { Logger } from '../log.js';
import { ImageToolError } from '../upstream/imageToolError.js';
import { picwishTaskError, type CallOptions, type PicwishTask } from '../upstream/picwish.js';
import { describeImageToolError, toolErrorMessage } from './imgOpenProvider.js';
import { upstreamOf, type Job, type JobUpdate } from './model.js';
import type { ProviderAdapter } from './provider.js';

export { describeImageToolError, toolErrorMessage };

/** The part of the PicWish client the tracker needs (its queries go through the key's rate limiter). */
export interface PicwishTaskSource {
  query(path: string, taskId: string, opts?: CallOptions): Promise<PicwishTask>;
}

export interface PicwishProviderOptions {
  logger: Logger;
  /**
   * How long one poll() may wait for rate-limit slots (default 1500 ms). Jobs that get no slot in time
   * are skipped and go first next time (round robin), so a poll never holds the tracker for long and
   * each job's poll interval stretches to about inFlight / qps seconds.
   */
  pollBudgetMs?: number | undefined;
  now?: (() => number) | undefined;
}

/** Forget round-robin bookkeeping of jobs not seen for this long. */
const FORGET_AFTER_MS = 30 * 60_000;

/**
 * PicWish tasks as jobs. A job carries `upstreamId` (the task_id) and `upstream.path` (its create path).
 * Polls are issued oldest-polled first and share the key's limiter with creates.
 */
export class PicwishProvider implements ProviderAdapter {
  readonly provider = 'picwish' as const;
  /** jobId → when it was last polled (and last seen) */
  private readonly lastPolled = new Map<string, { at: number; seen: number }>();
  private readonly now: () => number;

  constructor(
    private readonly client: PicwishTaskSource,
    private readonly o: PicwishProviderOptions,
  ) {
    this.now = o.now ?? Date.now;
  }

  async poll(jobs: Job[]): Promise<Map<string, JobUpdate>> {
    const out = new Map<string, JobUpdate>();
    const now = this.now();
    const ready: { job: Job; path: string; taskId: string; at: number }[] = [];
    for (const job of jobs) {
      const { path: created } = upstreamOf(job, 'picwish');
      const path = typeof created === 'string' && created ? created : undefined;
      if (!job.upstreamId || !path) {
        this.o.logger.warn({ jobId: job.id }, 'picwish job without task id/path; giving up on it');
        out.set(job.id, { status: 'failed', error: { key: 'errors.tools.lostTrack' } });
        continue;
      }
      const rec = this.lastPolled.get(job.id) ?? { at: 0, seen: now };
      rec.seen = now;
      this.lastPolled.set(job.id, rec);
      ready.push({ job, path, taskId: job.upstreamId, at: rec.at });
    }
    ready.sort((a, b) => a.at - b.at);
    const budget = this.o.pollBudgetMs ?? 1500;
    await Promise.all(
      ready.map(async ({ job, path, taskId }) => {
        const u = await this.pollOne(job, path, taskId, budget);
        if (u) out.set(job.id, u);
      }),
    );
    for (const [id, u] of out) if (u.status === 'failed' || u.status === 'succeeded') this.lastPolled.delete(id);
    for (const [id, rec] of this.lastPolled) if (now - rec.seen > FORGET_AFTER_MS) this.lastPolled.delete(id);
    return out;
  }

  private async pollOne(job: Job, path: string, taskId: string, budgetMs: number): Promise<JobUpdate | undefined> {
    let task: PicwishTask;
    try {
      task = await this.client.query(path, taskId, { maxWaitMs: budgetMs });
    } catch (err) {
      return this.onError(job, err);
    }
    const rec = this.lastPolled.get(job.id);
    if (rec) rec.at = this.now();
    if (task.state === 1) {
      if (task.imageUrl) {
        return { status: 'succeeded', progress: 100, result: { imageUrl: task.imageUrl, width: task.width, height: task.height, buttons: [] } };
      }
      this.o.logger.warn({ jobId: job.id, taskId }, 'picwish task done without an image; waiting');
    } else if (task.state < 0) {
      const e = picwishTaskError(task);
      this.o.logger.info({ jobId: job.id, taskId, state: task.state, detail: task.stateDetail, kind: e.kind }, 'picwish task failed');
      return { status: 'failed', error: describeImageToolError(e) };
    }
    if (this.now() >= job.deadlineAt) {
      this.o.logger.warn({ jobId: job.id, taskId, state: task.state }, 'picwish task still pending at its deadline');
      return { status: 'failed', error: { key: 'errors.tools.timeout' } };
    }
    if (task.state === 0) return { status: 'queued', progress: 0 };
    return { status: 'running', progress: task.progress };
  }

  private onError(job: Job, err: unknown): JobUpdate | undefined {
    if (err instanceof ImageToolError) {
      if (err.notSent && err.kind === 'rate-limited') return undefined; // no slot this round: polled next time, first
      if (['auth', 'credit', 'not-found', 'rejected'].includes(err.kind)) {
        this.o.logger.warn({ jobId: job.id, err }, 'picwish query refused; failing the job');
        return { status: 'failed', error: describeImageToolError(err) };
      }
    }
    this.o.logger.debug({ jobId: job.id, err }, 'picwish query failed; will retry');
    if (this.now() >= job.deadlineAt) return { status: 'failed', error: { key: 'errors.tools.timeout' } };
    return undefined;
  }
}
