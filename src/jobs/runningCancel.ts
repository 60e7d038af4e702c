import type { Logger } from '../log.js';
import { MjError } from '../upstream/mjTypes.js';
import type { Job } from './model.js';

/**
 * What came of a Cancel pressed on a job the upstream has accepted: 'stopping' (the upstream took the cancel; the
 * process following the job tells it as cancelled when its task ends), 'over' (the task ended first), 'unsupported'
 * (this upstream cannot stop a task for us), 'failed' (the upstream did not answer; the job runs on).
 */
export type RunningCancel = 'stopping' | 'over' | 'unsupported' | 'failed';

export interface RunningCancelDeps {
  /** whether the upstream can stop this job's task (Midjourney Proxy: plus only, see MjCapabilities.cancelRunning) */
  canCancel(job: Job): boolean;
  /** ask the upstream to stop the task; throws when it will not */
  cancelTask(taskId: string): Promise<void>;
  /** the job uses nothing of its member's or server's day */
  refund(job: Job): Promise<void>;
  /** look at the task now rather than at the next poll (whichever process follows it) */
  nudge(job: Job): void;
  logger: Logger;
}

/**
 * Stop a job that runs (or waits in the upstream's own queue). Counted back once: the upstream accepts one cancel
 * of a task (a second one finds it over), so whichever process's press it took refunds it, and no other.
 */
export async function cancelRunning(job: Job, d: RunningCancelDeps): Promise<RunningCancel> {
  if ((job.status !== 'queued' && job.status !== 'running') || !job.upstreamId) return 'over';
  if (!d.canCancel(job)) return 'unsupported';
  try {
    await d.cancelTask(job.upstreamId);
  } catch (err) {
    if (err instanceof MjError && (err.kind === 'validation' || err.kind === 'not-found')) return 'over'; // "task status error": it ended first
    d.logger.warn({ err, jobId: job.id }, 'the upstream did not take the cancel of a running job');
    return 'failed';
  }
  d.logger.info({ jobId: job.id, upstreamId: job.upstreamId }, 'a running job was cancelled upstream at its member’s request');
  await d.refund(job).catch((err: unknown) => d.logger.warn({ err, jobId: job.id }, 'could not take a cancelled job back from the day counts'));
  d.nudge(job);
  return 'stopping';
}
