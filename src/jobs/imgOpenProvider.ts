import type { Logger } from '../log.js';
import { ImageToolError, type ImageToolErrorKind } from '../upstream/imageToolError.js';
import type { ImgOpenTaskStatus } from '../upstream/imgOpen.js';
import { sanitizeReason } from './mjProvider.js';
import { upstreamOf, type Job, type JobUpdate, type Msg } from './model.js';
import type { ProviderAdapter } from './provider.js';

/** The part of the Img Open client the tracker needs. */
export interface ImgOpenTaskSource {
  query(toolCode: string, businessTaskId: string, signal?: AbortSignal): Promise<ImgOpenTaskStatus>;
}

const KIND_KEYS: Record<ImageToolErrorKind, string> = {
  auth: 'errors.tools.auth',
  credit: 'errors.tools.credit',
  rejected: 'errors.tools.rejected',
  'rate-limited': 'errors.tools.rateLimited',
  unreachable: 'errors.tools.unreachable',
  'bad-response': 'errors.tools.failed',
  'not-found': 'errors.tools.lostTrack',
  'too-large': 'errors.tools.tooLarge',
  'invalid-image': 'errors.tools.invalidImage',
  'download-failed': 'errors.tools.downloadFailed',
  timeout: 'errors.tools.timeout',
  failed: 'errors.tools.failed',
  moderation: 'errors.tools.moderation',
  'no-face': 'errors.tools.noFace',
};

/** An error kind → the message a user sees. */
export function toolErrorMessage(kind: ImageToolErrorKind, reason?: string): Msg {
  const key = KIND_KEYS[kind];
  if (kind === 'rejected') return { key, params: { reason: sanitizeReason(reason ?? '', 150) || '—' } };
  return { key };
}

/** Image-tool errors (Img Open, PicWish) → the message a user sees. For submit-time errors and polls alike. */
export function describeImageToolError(err: unknown): Msg {
  if (err instanceof ImageToolError) return toolErrorMessage(err.kind, err.reason);
  return { key: 'errors.tools.failed' };
}

export interface PollSchedule {
  /** first poll this long after the submit (default 3 s) */
  firstMs?: number | undefined;
  /** then every intervalMs… (default 3 s) */
  intervalMs?: number | undefined;
  /** …growing by this factor per poll (default 1.5)… */
  factor?: number | undefined;
  /** …up to this cap (default 15 s) */
  maxMs?: number | undefined;
}

/** Img Open's own schedule (3 s, ×1.5, capped at 15 s), scaled down when POLL_INTERVAL_MS is below its 3 s default (tests). */
export function imgOpenScheduleFor(pollIntervalMs: number): PollSchedule {
  const f = Math.min(1, pollIntervalMs / 3000);
  return { firstMs: 3000 * f, intervalMs: 3000 * f, maxMs: 15_000 * f };
}

export interface ImgOpenProviderOptions {
  logger: Logger;
  /** queries in flight at once (default 4) */
  concurrency?: number | undefined;
  schedule?: PollSchedule | undefined;
  /** consecutive queries answered with a code other than "200" before the job fails (default 3) */
  maxCodeFailures?: number | undefined;
  now?: (() => number) | undefined;
}

interface PollState {
  polls: number;
  nextAt: number;
  strikes: number;
  lastSeen: number;
  loggedUnknown: boolean;
}

/** Forget per-job bookkeeping of jobs the tracker has not shown us for this long. */
const FORGET_AFTER_MS = 30 * 60_000;

/**
 * Img Open tool tasks as jobs. A job carries `upstream.businessTaskId` (or `upstreamId`) and
 * `upstream.toolCode`; each is queried on its own back-off schedule, at most `concurrency` at a time.
 */
export class ImgOpenProvider implements ProviderAdapter {
  readonly provider = 'imgopen' as const;
  private readonly state = new Map<string, PollState>();
  private readonly now: () => number;
  private readonly sched: Required<PollSchedule>;

  constructor(
    private readonly client: ImgOpenTaskSource,
    private readonly o: ImgOpenProviderOptions,
  ) {
    this.now = o.now ?? Date.now;
    const s = o.schedule ?? {};
    this.sched = { firstMs: s.firstMs ?? 3_000, intervalMs: s.intervalMs ?? 3_000, factor: s.factor ?? 1.5, maxMs: s.maxMs ?? 15_000 };
  }

  async poll(jobs: Job[]): Promise<Map<string, JobUpdate>> {
    const out = new Map<string, JobUpdate>();
    const now = this.now();
    const due: { job: Job; toolCode: string; taskId: string; st: PollState }[] = [];
    for (const job of jobs) {
      const upstream = upstreamOf(job, 'imgopen');
      const taskId = str(upstream.businessTaskId) ?? job.upstreamId;
      const toolCode = str(upstream.toolCode);
      if (!taskId || !toolCode) {
        this.o.logger.warn({ jobId: job.id }, 'imgopen job without businessTaskId/toolCode; giving up on it');
        out.set(job.id, { status: 'failed', error: { key: 'errors.tools.lostTrack' } });
        continue;
      }
      const st = this.stateOf(job, now);
      st.lastSeen = now;
      if (now >= st.nextAt || now >= job.deadlineAt) due.push({ job, toolCode, taskId, st });
    }
    await eachLimited(due, Math.max(1, this.o.concurrency ?? 4), async ({ job, toolCode, taskId, st }) => {
      const u = await this.pollOne(job, toolCode, taskId, st);
      if (u) out.set(job.id, u);
    });
    for (const [id, u] of out) if (u.status === 'failed' || u.status === 'succeeded') this.state.delete(id);
    this.prune(now);
    return out;
  }

  private async pollOne(job: Job, toolCode: string, taskId: string, st: PollState): Promise<JobUpdate | undefined> {
    st.polls++;
    st.nextAt = this.now() + this.delayAfter(st.polls);
    let t: ImgOpenTaskStatus;
    try {
      t = await this.client.query(toolCode, taskId);
    } catch (err) {
      return this.onError(job, taskId, st, err);
    }
    st.strikes = 0;
    switch (t.state) {
      case 'success':
        return { status: 'succeeded', progress: 100, result: { imageUrl: t.resultUrl, buttons: [] } };
      case 'failure': {
        const kind = t.moderationBlocked ? 'moderation' : (t.failureKind ?? 'failed');
        this.o.logger.info({ jobId: job.id, businessTaskId: taskId, rawStatus: t.rawStatus, kind, reason: t.message }, 'imgopen task failed');
        return { status: 'failed', error: toolErrorMessage(kind, t.message) };
      }
      case 'running':
      case 'unknown': {
        if (this.now() >= job.deadlineAt) {
          this.o.logger.warn(
            { jobId: job.id, businessTaskId: taskId, rawStatus: t.rawStatus, state: t.state, body: t.state === 'unknown' ? t.data : undefined },
            t.state === 'unknown' ? 'imgopen task in an unknown state at its deadline' : 'imgopen task still running at its deadline',
          );
          return { status: 'failed', error: { key: 'errors.tools.timeout' } };
        }
        if (t.state === 'unknown' && !st.loggedUnknown) {
          st.loggedUnknown = true;
          this.o.logger.info({ jobId: job.id, businessTaskId: taskId, rawStatus: t.rawStatus }, 'imgopen task status not in the status map; waiting');
        }
        return { status: 'running', progress: t.progress };
      }
    }
  }

  private onError(job: Job, taskId: string, st: PollState, err: unknown): JobUpdate | undefined {
    const e = err instanceof ImageToolError ? err : undefined;
    if (e && e.kind === 'auth' && e.code === undefined) {
      // HTTP 401/403: the keys are wrong for every job; no point waiting
      this.o.logger.error({ jobId: job.id, err }, 'imgopen refused our credentials');
      return { status: 'failed', error: toolErrorMessage('auth') };
    }
    if (e && (e.code !== undefined || e.kind === 'bad-response' || e.kind === 'not-found')) {
      st.strikes++;
      this.o.logger.warn({ jobId: job.id, businessTaskId: taskId, strikes: st.strikes, err }, 'imgopen query answered with an error');
      const max = this.o.maxCodeFailures ?? 3;
      if (st.strikes >= max) return { status: 'failed', error: describeImageToolError(e) };
      return undefined;
    }
    // unreachable / rate-limited / anything else: silent, the deadline still applies
    this.o.logger.debug({ jobId: job.id, err }, 'imgopen query failed; will retry');
    if (this.now() >= job.deadlineAt) return { status: 'failed', error: { key: 'errors.tools.timeout' } };
    return undefined;
  }

  private delayAfter(polls: number): number {
    const { intervalMs, factor, maxMs } = this.sched;
    return Math.min(maxMs, intervalMs * factor ** Math.max(0, polls - 1));
  }

  private stateOf(job: Job, now: number): PollState {
    let st = this.state.get(job.id);
    if (!st) {
      const { submittedAt: sent } = upstreamOf(job, 'imgopen');
      const submittedAt = typeof sent === 'number' ? sent : job.createdAt;
      st = { polls: 0, nextAt: submittedAt + this.sched.firstMs, strikes: 0, lastSeen: now, loggedUnknown: false };
      this.state.set(job.id, st);
    }
    return st;
  }

  private prune(now: number): void {
    for (const [id, st] of this.state) if (now - st.lastSeen > FORGET_AFTER_MS) this.state.delete(id);
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}

/** Run fn over items with at most `limit` in flight. fn must not throw (errors are swallowed and logged by the caller). */
export async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item).catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
