// Helpers shared by the PicWish client/adapter tests (test/unit/picwish.test.ts) and the wall-clock QPS story
// (test/e2e/picwishQps.test.ts): a job for a created task, a fresh API key, and "this must reject with an
// ImageToolError".
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { Job } from '../../src/jobs/model.js';
import { ImageToolError } from '../../src/upstream/imageToolError.js';
import type { PicwishCreated } from '../../src/upstream/picwish.js';
import { makeJob } from './unitKit.js';

/** A fresh key per test, so no two tests ever meet at one limiter. */
export const newPicwishKey = (): string => `pw-key-${randomBytes(8).toString('hex')}`;

/** A stored-looking PicWish job following `created`. */
export function picwishJob(created: PicwishCreated, over: Partial<Job> = {}): Job {
  return makeJob({
    provider: 'picwish',
    kind: 'inpaint',
    upstreamId: created.taskId,
    status: 'queued',
    prompt: '',
    deadlineAt: Date.now() + 45_000,
    upstream: { path: created.path },
    ...over,
  });
}

/** The ImageToolError that `p` rejects with (fails the test if it resolves or rejects with anything else). */
export async function caughtImageToolError(p: Promise<unknown>): Promise<ImageToolError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ImageToolError);
    return e as ImageToolError;
  }
  throw new Error('expected a rejection');
}
