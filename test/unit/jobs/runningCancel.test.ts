import { describe, expect, it } from 'vitest';
import { cancelRunning, type RunningCancelDeps } from '../../../src/jobs/runningCancel.js';
import type { Job } from '../../../src/jobs/model.js';
import { MjError } from '../../../src/upstream/mjTypes.js';
import { makeJob, silentLogger } from '../../support/unitKit.js';

/** The deps with an upstream that answers the cancel as given; what was refunded and nudged is recorded. */
function deps(answer: () => Promise<void>, canCancel = true) {
  const seen = { cancelled: [] as string[], refunded: [] as string[], nudged: [] as string[] };
  const d: RunningCancelDeps = {
    canCancel: () => canCancel,
    cancelTask: async (id) => {
      seen.cancelled.push(id);
      await answer();
    },
    refund: async (job) => void seen.refunded.push(job.id),
    nudge: (job) => void seen.nudged.push(job.id),
    logger: silentLogger,
  };
  return { d, seen };
}
const job = (over: Partial<Job> = {}) => makeJob({ provider: 'mj', status: 'running', upstreamId: 'task-1', ...over });

describe('cancelRunning', () => {
  it('the upstream takes the cancel: the job is refunded once and its follower looks at the task now', async () => {
    const { d, seen } = deps(async () => undefined);
    const j = job();
    expect(await cancelRunning(j, d)).toBe('stopping');
    expect(seen).toEqual({ cancelled: ['task-1'], refunded: [j.id], nudged: [j.id] });
  });

  it('the task ended first (code 4 "task status error", or not found): over, nothing refunded', async () => {
    for (const err of [new MjError('validation', 'state', { code: 4 }), new MjError('not-found', 'gone', { code: 3, httpStatus: 404 })]) {
      const { d, seen } = deps(async () => Promise.reject(err));
      expect(await cancelRunning(job(), d)).toBe('over');
      expect(seen.refunded).toEqual([]);
    }
  });

  it('the upstream did not answer: failed, the job runs on, nothing refunded', async () => {
    const { d, seen } = deps(async () => Promise.reject(new MjError('unreachable', 'reset')));
    expect(await cancelRunning(job(), d)).toBe('failed');
    expect(seen.refunded).toEqual([]);
  });

  it('asks nothing where the upstream cannot stop a task, or when there is no task to stop', async () => {
    const none = deps(async () => undefined, false);
    expect(await cancelRunning(job(), none.d)).toBe('unsupported');
    const some = deps(async () => undefined);
    expect(await cancelRunning(job({ status: 'succeeded' }), some.d)).toBe('over');
    expect(await cancelRunning(job({ status: 'submitting', upstreamId: undefined }), some.d)).toBe('over');
    expect([...none.seen.cancelled, ...some.seen.cancelled]).toEqual([]);
  });
});
