// Helpers shared by the PicWish client/adapter tests (test/unit/picwish.test.ts) and the wall-clock QPS story
// (test/e2e/picwishQps.test.ts): a job for a created task, a fresh API key, and "this must reject with an
// ImageToolError".
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { Job } from '../../src/jobs/model.js';
import { ImageToolError } from '../../src/upstream/imageToolError.js';
import type { Logger } from '../../src/log.js';
import { PicwishClient, type PicwishClientOptions, type PicwishCreated } from '../../src/upstream/picwish.js';
import { RateLimiter } from '../../src/upstream/rateLimiter.js';
import { startFakePicwish, type FakePicwish, type FakePicwishOptions } from '../fakes/picwish/index.js';
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

/**
 * Fakes and clients a test file starts, closed together after each test: `fake()` starts a vendor fake,
 * `fastPair()` a fake and a client that both allow 1000 req/s (only an explicit 429 slows anything down).
 */
export function picwishRig(logger: Logger) {
  const fakes: FakePicwish[] = [];
  const clients: PicwishClient[] = [];
  async function fake(opts: FakePicwishOptions = {}): Promise<FakePicwish> {
    const f = await startFakePicwish({ stepMs: 30, ...opts });
    fakes.push(f);
    return f;
  }
  async function fastPair(
    opts: FakePicwishOptions = {},
    copts: Partial<PicwishClientOptions> = {},
  ): Promise<{ f: FakePicwish; c: PicwishClient; key: string }> {
    const key = newPicwishKey();
    const f = await fake({ apiKeys: [key], qps: 1000, ...opts });
    const c = new PicwishClient({
      baseUrl: f.url,
      apiKey: key,
      logger,
      limiter: new RateLimiter({ perWindow: 1000, marginMs: 0 }),
      retryAfterDefaultMs: 50,
      ...copts,
    });
    clients.push(c);
    return { f, c, key };
  }
  return {
    fake,
    fastPair,
    /** close these clients with the rest after the test */
    track: (...cs: PicwishClient[]) => void clients.push(...cs),
    async closeAll(): Promise<void> {
      await Promise.all(clients.splice(0).map((c) => c.close()));
      await Promise.all(fakes.splice(0).map((f) => f.close()));
    },
  };
}
