import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { jobFailureKind, submitFailureKind } from '../../../src/community/failureKinds.js';
import { FailureCounts } from '../../../src/community/failureLog.js';
import { openKvStore, type KvStore } from '../../../src/store/keyvStore.js';
import { ImageToolError } from '../../../src/upstream/imageToolError.js';
import { MjError } from '../../../src/upstream/mjTypes.js';
import { startRedis, type TestRedis } from '../../support/redis.js';
import { memoryStore, silentLogger } from '../../support/unitKit.js';

const MINUTE = 60_000;

describe('failure kinds', () => {
  it('names what the upstream did at submit; a member’s own refusal is no failure', () => {
    const cases: [unknown, string | undefined][] = [
      [new MjError('bad-response', 'Midjourney Proxy imagine: server error (HTTP 502)', { httpStatus: 502 }), 'serverError'],
      [new MjError('failure', 'imagine rejected: 操作失败', { code: -1, httpStatus: 500 }), 'serverError'],
      [new MjError('bad-response', 'the proxy answered HTTP 200 with invalid JSON', { httpStatus: 200 }), 'badAnswer'],
      [new MjError('bad-response', 'Midjourney Proxy imagine: invalid JSON'), 'badAnswer'],
      [new MjError('unreachable', 'Midjourney Proxy imagine: timed out after 700 ms'), 'timeout'],
      [new MjError('unreachable', 'Midjourney Proxy imagine: connect ECONNREFUSED'), 'unreachable'],
      [new MjError('failure', 'imagine failed (code 9)', { code: 9, httpStatus: 200 }), 'refused'],
      [new MjError('queue-full', 'queue full', { code: 23 }), 'busy'],
      [new MjError('rate-limited', 'HTTP 429', { httpStatus: 429 }), 'busy'],
      [new MjError('no-account', 'no account', { code: 3 }), 'setup'],
      [new MjError('auth', 'credentials rejected', { httpStatus: 401 }), 'setup'],
      [new MjError('failure', 'video disabled', { code: 4, gate: 'disabled', feature: 'video' } as never), 'setup'],
      [new MjError('banned-prompt', 'banned', { code: 24 }), undefined],
      [new MjError('validation', 'bad --ar', { code: 4, httpStatus: 400 }), undefined],
      [new ImageToolError('picwish', 'unreachable', 'HTTP 503', { status: 503 }), 'serverError'],
      [new ImageToolError('imgopen', 'credit', 'out of credit'), 'setup'],
      [new ImageToolError('imgopen', 'no-face', 'no face'), undefined],
      [new ImageToolError('picwish', 'too-large', 'too large', { notSent: true }), undefined],
      [new Error('a bug'), 'other'],
    ];
    for (const [err, kind] of cases) expect(submitFailureKind(err), String((err as Error).message)).toBe(kind);
  });

  it('names how a job failed after its submit; a banned prompt found at run time is the member’s own', () => {
    const upstreamId = 'task1';
    expect(jobFailureKind({ status: 'failed', upstreamId, error: { key: 'errors.upstreamFailed', params: { reason: 'GPU on fire' } } })).toBe('failed');
    expect(jobFailureKind({ status: 'failed', upstreamId, error: { key: 'errors.timeout', params: { minutes: 30 } } })).toBe('timedOut');
    expect(jobFailureKind({ status: 'failed', error: { key: 'errors.timeout', params: { minutes: 30 } } })).toBe('timedOut'); // out of time in the bot's queue
    expect(jobFailureKind({ status: 'failed', error: { key: 'errors.lostDuringRestart' } })).toBe('lost');
    expect(jobFailureKind({ status: 'failed', upstreamId, error: { key: 'errors.bannedPrompt' } })).toBeUndefined();
    // a queued job's refused submit, told on its message: the submit path names it from what the upstream threw
    expect(jobFailureKind({ status: 'failed', error: { key: 'errors.badResponse' } })).toBeUndefined();
    expect(jobFailureKind({ status: 'cancelled', error: { key: 'errors.cancelled' } })).toBeUndefined();
    expect(jobFailureKind({ status: 'succeeded' })).toBeUndefined();
  });
});

describe('failure counts in the store (SQLite)', () => {
  let store: KvStore;
  beforeAll(async () => {
    store = (await memoryStore()).store;
  });
  afterAll(async () => {
    await store.close();
  });

  it('counts by kind and server, each job’s failure of a kind once, over the last hour only', async () => {
    const counts = new FailureCounts(store);
    const now = Date.now();
    expect(await counts.record({ guildId: 'g1', jobId: 'a', kind: 'timeout', at: now - 50 * MINUTE })).toBe(true);
    expect(await counts.record({ guildId: 'g1', jobId: 'b', kind: 'timeout', at: now - 10 * MINUTE })).toBe(true);
    expect(await counts.record({ guildId: 'g1', jobId: 'b', kind: 'timeout', at: now })).toBe(false); // told twice, counted once
    expect(await counts.record({ guildId: 'g1', jobId: 'b', kind: 'failed', at: now })).toBe(false); // the job failed once, whoever noticed
    expect(await counts.record({ guildId: 'g1', jobId: 'b', kind: 'delivery', at: now })).toBe(true); // and its result could not be posted
    expect(await counts.record({ guildId: 'g2', jobId: 'c', kind: 'serverError', at: now })).toBe(true);
    expect(await counts.record({ guildId: 'g1', jobId: 'd', kind: 'failed', at: now - 90 * MINUTE })).toBe(true);

    expect(await counts.lastHour('g1', now)).toEqual({ timeout: 2, delivery: 1 });
    expect(await counts.lastHour('g2', now)).toEqual({ serverError: 1 });
    expect(await counts.lastHour('g1', now + 40 * MINUTE)).toEqual({ delivery: 1, timeout: 1 }); // job a's is 90 minutes old by then
    expect(await counts.lastHour('g1', now + 2 * 60 * MINUTE)).toEqual({});
  });
});

describe('failure counts in the store (two processes on one Redis)', () => {
  let redis: TestRedis;
  const stores: KvStore[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  }, 20_000);
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    await redis.flush();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('both processes add to the same counts, and either one reads the server’s total', async () => {
    for (let i = 0; i < 2; i++) stores.push(await openKvStore(redis.url, silentLogger));
    const [a, b] = stores.map((s) => new FailureCounts(s)) as [FailureCounts, FailureCounts];
    const now = Date.now();
    const recorded = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => a.record({ guildId: 'g', jobId: `a${i}`, kind: 'serverError', at: now })),
      ...Array.from({ length: 10 }, (_, i) => b.record({ guildId: 'g', jobId: `b${i}`, kind: i % 2 ? 'timeout' : 'serverError', at: now })),
      // one job's failure seen by both processes (e.g. a delivery given up here, then there) counts once
      a.record({ guildId: 'g', jobId: 'shared', kind: 'delivery', at: now }),
      b.record({ guildId: 'g', jobId: 'shared', kind: 'delivery', at: now }),
    ]);
    expect(recorded.filter(Boolean)).toHaveLength(21);
    const expected = { serverError: 15, timeout: 5, delivery: 1 };
    expect(await a.lastHour('g', now)).toEqual(expected);
    expect(await b.lastHour('g', now)).toEqual(expected);
  });
});
