// The fair queue's service on the real store (SQLite in memory): when a slot frees while the next job is still being
// stored it starts as soon as it is stored (not at the next look, seconds later); jobs wait in the order their members
// sent them (Discord's time), not in the order the bot got through a burst; a job's place is freed as soon as the
// upstream says it ended, once.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Job } from '../../../src/jobs/model.js';
import { QueueService, queueFreeingSink, type QueueServiceDeps } from '../../../src/jobs/queueService.js';
import { JobService } from '../../../src/jobs/service.js';
import { Tracker } from '../../../src/jobs/tracker.js';
import type { KvStore } from '../../../src/store/keyvStore.js';
import { QueueRepo } from '../../../src/store/queueRepo.js';
import { makeJob, memoryStore, silentLogger, until } from '../../support/unitKit.js';

const GUILD = 'g1';
const T0 = Date.now();

/** A Discord snowflake for a moment and an increment within its millisecond. */
const snowflake = (ms: number, increment: number) => String(((BigInt(ms) - 1420070400000n) << 22n) | BigInt(increment));

function queuedJob(id: string, userId: string, sentAt: number, increment = 0): Job {
  return makeJob({
    id,
    status: 'waiting',
    owner: { userId, channelId: 'c', guildId: GUILD, locale: 'en-US' },
    interaction: { id: snowflake(sentAt, increment), applicationId: 'app', token: `t-${id}`, issuedAt: sentAt },
    queued: { request: { op: 'imagine', route: '/mj/submit/imagine', json: { prompt: id } }, at: Date.now() },
  });
}

let store: KvStore;
let queue: QueueService;
let held: Map<string, Job>;
let started: string[];

/** A queue of one slot on the store, started; the jobs it starts are recorded in `started`. */
function startQueue(repo: QueueRepo, over: Partial<QueueServiceDeps> = {}): QueueService {
  const q = new QueueService({
    repo,
    limits: async () => ({ perMember: 0, maxWaiting: 10, serverCap: 1 }),
    serverCap: async () => 1,
    held: (id) => held.get(id),
    send: async () => ({ kind: 'accepted', upstreamId: 'task' }),
    showPlace: () => undefined,
    logger: silentLogger,
    now: Date.now,
    ...over,
  });
  const jobs = {
    startWaiting: async (job: Job) => {
      job.status = 'submitting';
      started.push(job.id);
    },
  } as unknown as JobService;
  q.start(jobs);
  return q;
}

beforeEach(async () => {
  ({ store } = await memoryStore());
  held = new Map();
  started = [];
  queue = startQueue(new QueueRepo(store));
});

afterEach(async () => {
  queue.stop();
  await queue.idle();
  await store.close();
});

describe('QueueService', () => {
  it('starts a job whose turn came while it was being stored as soon as it is stored, not at the next look', async () => {
    const running = queuedJob('a', 'u1', T0);
    expect(await queue.enter(running, true)).toBe('start');
    const next = queuedJob('b', 'u2', T0 + 1);
    expect(await queue.enter(next, true)).toBe('wait');
    // the running job ends before the waiting one is held here (its record and submit are still being stored)
    await queue.leave(running);
    await queue.idle();
    expect(started).toEqual([]);
    const storedAt = Date.now();
    held.set(next.id, next);
    queue.held(next);
    await until(() => started.length > 0, 'the waiting job to start');
    expect(started).toEqual(['b']);
    expect(Date.now() - storedAt).toBeLessThan(1000); // the next look is 2 s away
  });

  it('orders jobs by when their members sent them, to the increment within a millisecond', async () => {
    const running = queuedJob('r', 'u0', T0);
    await queue.enter(running, true);
    // entered in the opposite order of sending (a burst the bot got through out of order)
    const jobs = [queuedJob('third', 'u3', T0 + 5, 2), queuedJob('second', 'u2', T0 + 5, 1), queuedJob('first', 'u1', T0 + 4, 7)];
    for (const j of jobs) {
      expect(await queue.enter(j, true)).toBe('wait');
      held.set(j.id, j);
    }
    expect(await Promise.all(['first', 'second', 'third'].map((id) => queue.position(jobs.find((j) => j.id === id)!)))).toEqual([1, 2, 3]);
    await queue.leave(running);
    await until(() => started.length > 0, 'the next job to start');
    expect(started).toEqual(['first']);
  });

  it('drops what a crash left in the queue (a job entered but never stored, a slot of a job no longer followed), once the start is over', async () => {
    const repo = new QueueRepo(store);
    const before = Date.now() - 10_000;
    // left by a process killed between a job's entry and its store: no job holds these
    await repo.update(GUILD, (doc) => {
      doc.running.ghostRunning = { userId: 'u9', at: before };
      doc.waiting.push({ jobId: 'ghostWaiting', userId: 'u8', at: before, perMember: 0 });
    });
    const next = queuedJob('b', 'u2', before + 1);
    await repo.update(GUILD, (doc) => void doc.waiting.push({ jobId: next.id, userId: 'u2', at: before + 1, perMember: 0 }));
    held.set(next.id, next);
    const restarted = startQueue(repo, { onlyProcess: true, leftoversAfterMs: 50 });
    try {
      await until(() => started.length > 0, 'the held job to start');
      expect(started).toEqual(['b']);
      const doc = await repo.get(GUILD);
      expect(doc.waiting).toEqual([]);
      expect(Object.keys(doc.running)).toEqual(['b']);
    } finally {
      restarted.stop();
      await restarted.idle();
    }
  });

  it('a job that could not be stored after it entered the queue leaves it (its place is not held by nothing)', async () => {
    const { repos } = await memoryStore();
    const jobs = new JobService({
      repos: { ...repos, jobs: Object.assign(Object.create(repos.jobs) as typeof repos.jobs, { save: async () => Promise.reject(new Error('disk full')) }) },
      tracker: new Tracker({
        repos,
        providers: new Map(),
        sink: { progress: () => undefined, finish: async () => undefined },
        logger: silentLogger,
        pollIntervalMs: 1000,
      }),
      delivery: { begin: async () => undefined, progress: () => undefined },
      logger: silentLogger,
      timeoutMs: 60_000,
      describeError: () => ({ key: 'errors.internal' }),
      queue,
    });
    const owner = { userId: 'u1', channelId: 'c', guildId: GUILD, locale: 'en-US' };
    await expect(
      jobs.run({ provider: 'mj', kind: 'imagine', prompt: 'p', owner, delivery: 'channel' }, async () => ({ kind: 'accepted', upstreamId: 't' }), {
        canWait: true,
      }),
    ).rejects.toThrow('disk full');
    expect(await queue.overview(GUILD)).toMatchObject({ waiting: 0, running: 0 });
  });

  it("frees a job's place when the upstream says it ended, and only once", async () => {
    const a = queuedJob('a', 'u1', T0);
    await queue.enter(a, true);
    const b = queuedJob('b', 'u2', T0 + 1);
    await queue.enter(b, true);
    held.set(b.id, b);
    let leaves = 0;
    const counting = {
      ...queue,
      applies: (job: Job) => queue.applies(job),
      leave: async (job: Job) => {
        leaves++;
        await queue.leave(job);
      },
    } as unknown as QueueService;
    const finished: string[] = [];
    const sink = queueFreeingSink(() => counting, { progress: () => undefined, finish: async (job) => void finished.push(job.id) });
    sink.ended!(a);
    await until(() => started.length > 0, 'the next job to start');
    expect(started).toEqual(['b']); // before a's result was finished
    expect(finished).toEqual([]);
    await sink.finish(a);
    expect(finished).toEqual(['a']);
    expect(leaves).toBe(1);
  });
});
