import { afterEach, describe, expect, it } from 'vitest';
import type { Job } from '../../src/jobs/model.js';
import type { ProviderAdapter } from '../../src/jobs/provider.js';
import { Tracker } from '../../src/jobs/tracker.js';
import { createLogger } from '../../src/log.js';
import { openKvStore, type KvStore } from '../../src/store/keyvStore.js';
import { createRepositories } from '../../src/store/repositories.js';

/** The tracker against a wall clock that jumps (NTP corrections, a host resumed from sleep, tests that move the clock). */
describe('tracker and a clock that jumps back', () => {
  let store: KvStore | undefined;
  let tracker: Tracker | undefined;
  afterEach(async () => {
    await tracker?.stop();
    await store?.close();
  });

  function job(now: number): Job {
    return {
      id: 'j1',
      provider: 'mj',
      kind: 'imagine',
      upstreamId: 'u1',
      owner: { userId: 'u', channelId: 'c', locale: 'en-US' },
      delivery: 'channel',
      status: 'running',
      progress: 10,
      prompt: 'a cat',
      messages: { results: [] },
      attachmentLimit: 10 * 1024 * 1024,
      createdAt: now,
      updatedAt: now,
      deadlineAt: now + 60 * 60_000,
      upstream: {},
    } as Job;
  }

  it('keeps polling at its interval after the clock went back by weeks (no timer past 2^31 ms, no wait for the old time)', async () => {
    const logger = createLogger({ level: 'silent', secrets: [] });
    store = await openKvStore('sqlite://:memory:', logger);
    let offset = 0; // the wall clock as the bot reads it: real time moved by `offset`
    let polls = 0;
    const adapter: ProviderAdapter = {
      provider: 'mj',
      poll: async () => {
        polls++;
        return new Map();
      },
    };
    tracker = new Tracker({
      repos: createRepositories(store),
      providers: new Map([['mj', adapter]]),
      sink: { progress: () => undefined, finish: async () => undefined } as never,
      logger,
      pollIntervalMs: 50,
      now: () => Date.now() + offset,
    });
    await tracker.start();
    tracker.track(job(Date.now()));
    offset -= 29 * 24 * 3600_000; // the job's next poll is now 29 days "ahead"
    const started = Date.now();
    while (polls < 3 && Date.now() - started < 3000) await new Promise((r) => setTimeout(r, 20));
    expect(polls, `polls=${polls}`).toBeGreaterThanOrEqual(3);
  });
});
