// The tracker: one timer for every job, one batched poll per provider per tick, deadlines, delivery retries and a
// wall clock that jumps. Real store (SQLite in memory), a scripted upstream adapter, a recording delivery sink,
// and a fake clock: nothing here waits in real time.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Job, JobUpdate, Provider } from '../../../src/jobs/model.js';
import type { ProviderAdapter } from '../../../src/jobs/provider.js';
import { Tracker, type DeliveryRetry, type TrackerOptions } from '../../../src/jobs/tracker.js';
import type { KvStore } from '../../../src/store/keyvStore.js';
import type { Repositories } from '../../../src/store/repositories.js';
import { advance, advanceUntil, makeJob, memoryStore, silentLogger, until, useFakeClock } from '../../support/unitKit.js';

const INTERVAL = 1000;

/** An upstream that answers each poll from a script (job id → the update to report next) and records every batch. */
class ScriptedUpstream implements ProviderAdapter {
  readonly batches: { at: number; ids: string[] }[] = [];
  readonly abandoned: string[] = [];
  readonly next = new Map<string, JobUpdate>();
  failNext = 0;
  /** called as each poll is asked for (before it is answered) */
  onPoll: (() => void) | undefined;
  constructor(readonly provider: Provider) {}
  async poll(jobs: Job[]): Promise<Map<string, JobUpdate>> {
    this.batches.push({ at: Date.now(), ids: jobs.map((j) => j.id) });
    this.onPoll?.();
    if (this.failNext > 0) {
      this.failNext--;
      throw Object.assign(new Error('upstream down'), { code: 'ECONNREFUSED' });
    }
    const out = new Map<string, JobUpdate>();
    for (const j of jobs) {
      const u = this.next.get(j.id);
      if (u) out.set(j.id, u);
      this.next.delete(j.id);
    }
    return out;
  }
  async abandon(job: Job): Promise<void> {
    this.abandoned.push(job.id);
  }
}

/** Delivery as the tracker sees it: records progress frames and finishes; a finish may be told to fail. */
class RecordingSink {
  readonly progress: { id: string; progress: number; status: string }[] = [];
  readonly finishes: { id: string; at: number; status: string; storedStatus?: string | undefined }[] = [];
  failFinishes = 0;
  constructor(private readonly repos: Repositories) {}
  readonly sink = {
    progress: (job: Job) => void this.progress.push({ id: job.id, progress: job.progress, status: job.status }),
    finish: async (job: Job) => {
      // recorded before any I/O, and a failure thrown before any I/O: the retry timer starts at `at` exactly
      const record: { id: string; at: number; status: string; storedStatus?: string | undefined } = { id: job.id, at: Date.now(), status: job.status };
      this.finishes.push(record);
      if (this.failFinishes > 0) {
        this.failFinishes--;
        throw Object.assign(new Error('Discord 503'), { status: 503 });
      }
      record.storedStatus = (await this.repos.jobs.get(job.id))?.status;
      job.deliveredAt = Date.now();
      await this.repos.jobs.save(job);
    },
  };
}

let store: KvStore;
let repos: Repositories;
let tracker: Tracker | undefined;
let mj: ScriptedUpstream;
let imgopen: ScriptedUpstream;
let sink: RecordingSink;

beforeEach(async () => {
  useFakeClock();
  ({ store, repos } = await memoryStore());
  mj = new ScriptedUpstream('mj');
  imgopen = new ScriptedUpstream('imgopen');
  sink = new RecordingSink(repos);
});

afterEach(async () => {
  await tracker?.stop();
  tracker = undefined;
  await store.close();
  vi.useRealTimers();
});

async function startTracker(over: Partial<TrackerOptions> = {}): Promise<Tracker> {
  tracker = new Tracker({
    repos,
    providers: new Map<Provider, ProviderAdapter>([
      ['mj', mj],
      ['imgopen', imgopen],
    ]),
    sink: sink.sink,
    logger: silentLogger,
    pollIntervalMs: INTERVAL,
    random: () => 0,
    ...over,
  });
  await tracker.start();
  return tracker;
}

/** A job stored and followed, as JobService leaves it after an accepted submit. */
async function follow(t: Tracker, over: Partial<Job> = {}): Promise<Job> {
  const job = makeJob(over);
  await repos.jobs.save(job);
  t.track(job);
  return job;
}

describe('Tracker: scheduling and batching', () => {
  it('polls every due job of a provider in one batch per tick, each provider apart, on a shared grid', async () => {
    const t = await startTracker();
    const a = await follow(t);
    await advance(300);
    const b = await follow(t);
    const c = await follow(t, { provider: 'imgopen' });
    await advance(2 * INTERVAL);
    // one batch per provider per tick: a and b (tracked 300 ms apart) share their polls
    const mjBatches = mj.batches.map((x) => x.ids);
    expect(mjBatches.length).toBeGreaterThanOrEqual(1);
    for (const ids of mjBatches) expect(ids.sort()).toEqual([a.id, b.id].sort());
    expect(imgopen.batches.map((x) => x.ids)).toEqual(imgopen.batches.map(() => [c.id]));
    // on the grid: every poll happens at a multiple of the interval
    for (const { at } of [...mj.batches, ...imgopen.batches]) expect(at % INTERVAL).toBe(0);
    expect(t.counts()).toEqual({ byProvider: { mj: 2, imgopen: 1 }, byStatus: { running: 3 } });
  });

  it('in webhook mode polls only as a safety net, and a final callback (nudge) re-fetches the task at once', async () => {
    const t = await startTracker({ safetyPollMs: 60_000 });
    const job = await follow(t);
    await advance(5 * INTERVAL);
    expect(mj.batches).toEqual([]);
    mj.next.set(job.id, { status: 'succeeded', progress: 100, result: { imageUrl: 'https://cdn.example/x.png', buttons: [] } });
    expect(t.nudge('mj', job.upstreamId!, true)).toBe(true);
    expect(t.nudge('mj', 'no-such-task', true)).toBe(false);
    await advanceUntil(() => sink.finishes.length === 1, 'the delivery', 1000);
    expect(mj.batches.length).toBe(1);
    expect(mj.batches[0]!.at).toBeLessThanOrEqual(Date.UTC(2025, 0, 1) + 5 * INTERVAL + 100);
    expect(sink.finishes[0]).toMatchObject({ id: job.id, status: 'succeeded' });
  });

  it('a final callback that arrives during a round is fetched as soon as that round is over; the queue hears of an end before it is stored', async () => {
    const order: string[] = [];
    const t = await startTracker({
      safetyPollMs: 60_000,
      sink: {
        ...sink.sink,
        ended: (job: Job) => void order.push(`ended ${job.id}`),
        finish: async (job: Job) => (order.push(`finish ${job.id}`), sink.sink.finish(job)),
      },
    });
    const a = await follow(t);
    const b = await follow(t);
    const done = { status: 'succeeded' as const, progress: 100, result: { imageUrl: 'https://cdn.example/x.png', buttons: [] } };
    mj.next.set(a.id, done);
    mj.onPoll = () => {
      mj.onPoll = undefined;
      mj.next.set(b.id, done);
      t.nudge('mj', b.upstreamId!, true); // b's callback arrives while a's round is under way
    };
    t.nudge('mj', a.upstreamId!, true);
    await advanceUntil(() => sink.finishes.length === 2, 'both deliveries', 1000, 1);
    expect(mj.batches.map((x) => x.ids)).toEqual([[a.id], [b.id]]);
    expect(mj.batches[1]!.at - mj.batches[0]!.at).toBeLessThan(20); // not a round and a pause later
    expect(order.indexOf(`ended ${a.id}`)).toBeLessThan(order.indexOf(`finish ${a.id}`));
    expect(sink.finishes.map((f) => f.storedStatus)).toEqual(['succeeded', 'succeeded']); // stored before delivered all the same
  });

  it('keeps the jobs through a failed poll (an outage is not a job failure) and polls them again', async () => {
    const t = await startTracker();
    const job = await follow(t);
    mj.failNext = 2;
    await advance(3 * INTERVAL);
    expect(mj.batches.length).toBeGreaterThanOrEqual(3);
    expect(t.get(job.id)?.status).toBe('running');
    mj.next.set(job.id, { status: 'running', progress: 40 });
    await advanceUntil(() => sink.progress.length > 0, 'a progress frame', 2 * INTERVAL);
    expect(sink.progress).toEqual([{ id: job.id, progress: 40, status: 'running' }]);
  });
});

describe('Tracker: updates', () => {
  it('hands progress to delivery and stores a status change; an unchanged answer is not passed on', async () => {
    const t = await startTracker();
    const job = await follow(t, { status: 'queued' });
    mj.next.set(job.id, { status: 'running', progress: 10 });
    await advanceUntil(() => sink.progress.length > 0, 'the first progress frame', 2 * INTERVAL);
    expect(sink.progress).toEqual([{ id: job.id, progress: 10, status: 'running' }]);
    expect((await repos.jobs.get(job.id))?.status).toBe('running'); // stored before the frame was handed on
    mj.next.set(job.id, { status: 'running', progress: 10 });
    const polls = mj.batches.length;
    await advanceUntil(() => mj.batches.length > polls, 'the next poll', 2 * INTERVAL);
    await advance(100);
    expect(mj.next.has(job.id)).toBe(false); // it was answered…
    expect(sink.progress.length).toBe(1); // …and nothing changed
  });

  it('stores a finished job before delivering it, stops following it, and releases nothing twice', async () => {
    const t = await startTracker();
    const job = await follow(t);
    mj.next.set(job.id, { status: 'succeeded', progress: 100, result: { imageUrl: 'https://cdn.example/r.png', buttons: [] } });
    await advanceUntil(() => sink.finishes.length === 1, 'the delivery', 2 * INTERVAL);
    await t.idle();
    expect(sink.finishes[0]).toMatchObject({ id: job.id, status: 'succeeded', storedStatus: 'succeeded' });
    expect(t.size).toBe(0);
    const stored = await repos.jobs.get(job.id);
    expect(stored).toMatchObject({ status: 'succeeded', progress: 100, finishedAt: Date.UTC(2025, 0, 1) + INTERVAL });
    expect(stored?.deliveredAt).toBeDefined();
    await advance(3 * INTERVAL);
    expect(mj.batches.length).toBe(1);
  });
});

describe('Tracker: deadlines', () => {
  it('fails a job whose upstream never finishes at its deadline, with the limit in the message', async () => {
    const t = await startTracker();
    const job = await follow(t, { deadlineAt: Date.now() + 45_000 });
    await advance(44_000, 500);
    expect(sink.finishes).toEqual([]);
    await advanceUntil(() => sink.finishes.length === 1, 'the timeout delivery', 5000, 250);
    expect(sink.finishes[0]!.at).toBeGreaterThanOrEqual(job.deadlineAt);
    const stored = await repos.jobs.get(job.id);
    expect(stored).toMatchObject({ status: 'failed', error: { key: 'errors.timeoutSeconds', params: { seconds: 45 } } });
    expect(t.size).toBe(0);
  });

  it('cancels a job left waiting in a modal at its deadline, abandons its upstream task, and never polls it', async () => {
    const t = await startTracker();
    const job = await follow(t, { status: 'modal', deadlineAt: Date.now() + 5000 });
    const other = await follow(t); // keeps the tracker ticking meanwhile
    await advance(4500, 250);
    expect(sink.finishes).toEqual([]);
    await advanceUntil(() => sink.finishes.length === 1, 'the delivery', 5000, 250);
    expect(mj.batches.length).toBeGreaterThanOrEqual(4);
    expect(mj.batches.every((b) => b.ids.join() === other.id)).toBe(true);
    expect(mj.abandoned).toEqual([job.id]);
    expect(await repos.jobs.get(job.id)).toMatchObject({ status: 'cancelled', error: { key: 'errors.modalAbandoned' } });
  });
});

describe('Tracker: delivery retry', () => {
  const retry: DeliveryRetry = { firstMs: 1000, maxMs: 4000, attempts: 3, pauseMs: 30_000 };

  it('retries a failed delivery after growing delays until it goes through', async () => {
    const t = await startTracker({ deliveryRetry: retry });
    const job = await follow(t);
    sink.failFinishes = 2;
    mj.next.set(job.id, { status: 'failed', error: { key: 'errors.mj.failed' } });
    await advanceUntil(() => sink.finishes.length === 3, 'three attempts', 10_000, 100);
    const [first, second, third] = sink.finishes.map((f) => f.at);
    // random() = 0: the lower end of each step, 500 ms then 1000 ms
    expect(second! - first!).toBe(500);
    expect(third! - second!).toBe(1000);
    await t.idle();
    expect((await repos.jobs.get(job.id))?.deliveredAt).toBeDefined();
  });

  it('gives a job up after `attempts` failures and comes back to it after the pause', async () => {
    const t = await startTracker({ deliveryRetry: retry });
    const job = await follow(t);
    sink.failFinishes = 3;
    mj.next.set(job.id, { status: 'succeeded', progress: 100, result: { imageUrl: 'https://cdn.example/r.png', buttons: [] } });
    await advanceUntil(() => sink.finishes.length === 4, 'the attempt after the pause', 60_000, 250);
    const at = sink.finishes.map((f) => f.at);
    expect([at[1]! - at[0]!, at[2]! - at[1]!]).toEqual([500, 1000]);
    expect(at[3]! - at[2]!).toBeGreaterThanOrEqual(retry.pauseMs); // left alone for the pause
    expect(at[3]! - at[2]!).toBeLessThan(retry.pauseMs + 5000);
    await t.idle();
    expect((await repos.jobs.get(job.id))?.deliveredAt).toBeDefined();
  });
});

describe('Tracker: start and the clock', () => {
  it('on start resumes running jobs, delivers finished-but-undelivered ones, and fails those lost while submitting', async () => {
    const running = makeJob({ status: 'running' });
    const finished = makeJob({ status: 'succeeded', progress: 100, result: { imageUrl: 'https://cdn.example/r.png', buttons: [] }, finishedAt: Date.now() });
    const submitting = makeJob({ status: 'submitting', upstreamId: undefined });
    for (const j of [running, finished, submitting]) await repos.jobs.save(j);
    const t = await startTracker();
    expect(await t.idle().then(() => t.size)).toBe(1);
    await until(() => sink.finishes.length === 2, 'two deliveries');
    expect(sink.finishes.map((f) => f.id).sort()).toEqual([finished.id, submitting.id].sort());
    expect(await repos.jobs.get(submitting.id)).toMatchObject({ status: 'failed', error: { key: 'errors.lostDuringRestart' } });
    await advanceUntil(() => mj.batches.length > 0, 'a poll', 100);
    expect(mj.batches[0]).toEqual({ at: Date.UTC(2025, 0, 1), ids: [running.id] }); // a resumed job is polled at once
  });

  it('keeps polling at its interval after the wall clock went back by weeks (no timer past 2^31 ms, no wait for the old time)', async () => {
    const t = await startTracker({ pollIntervalMs: 50 });
    await follow(t);
    await advance(100);
    const before = mj.batches.length;
    vi.setSystemTime(Date.now() - 29 * 24 * 3600_000); // the job's next poll is now 29 days "ahead"
    await advance(300);
    expect(mj.batches.length - before).toBeGreaterThanOrEqual(3);
  });
});

describe('Tracker: many jobs, bounded memory', () => {
  it('resumes more jobs than a page: every one once, the jobs read a page at a time (ids first)', async () => {
    const jobs = Array.from({ length: 25 }, () => makeJob({ status: 'running' }));
    for (const j of jobs) await repos.jobs.save(j);
    // watch the real repository's reads on their way through
    const pages: number[] = [];
    const getMany = repos.jobs.getMany.bind(repos.jobs);
    repos.jobs.getMany = async (ids: string[]) => {
      pages.push(ids.length);
      return getMany(ids);
    };
    const singleReads = vi.spyOn(repos.jobs, 'get');

    tracker = new Tracker({ repos, providers: new Map([['mj', mj]]), sink: sink.sink, logger: silentLogger, pollIntervalMs: INTERVAL, resumePageSize: 10 });
    const counts = await tracker.start();

    expect(counts).toEqual({ resumed: 25, delivered: 0, lost: 0 });
    expect(pages).toEqual([10, 10, 5]);
    expect(singleReads).not.toHaveBeenCalled();
    expect(tracker.size).toBe(25);
    await advanceUntil(() => mj.batches.length > 0, 'the first poll', 100);
    const polled = mj.batches.flatMap((b) => b.ids);
    expect(polled.length).toBe(25); // each once
    expect([...polled].sort()).toEqual(jobs.map((j) => j.id).sort());
  });

  it('polls a provider in batches of at most pollBatchSize, each answered and applied before the next is asked for', async () => {
    const t = await startTracker({ pollBatchSize: 10 });
    const jobs: Job[] = [];
    for (let i = 0; i < 25; i++) jobs.push(await follow(t));
    for (const j of jobs) mj.next.set(j.id, { status: 'running', progress: 50 });
    const framesWhenAsked: number[] = [];
    mj.onPoll = () => framesWhenAsked.push(sink.progress.length);

    await advanceUntil(() => sink.progress.length === 25, 'a progress frame for every job', 2 * INTERVAL);

    expect(mj.batches.map((b) => b.ids.length)).toEqual([10, 10, 5]);
    expect(new Set(mj.batches.map((b) => b.at)).size).toBe(1); // one round, one tick
    expect(framesWhenAsked).toEqual([0, 10, 20]); // the previous batch's answers were applied (and let go) first
    expect(
      mj.batches
        .flatMap((b) => b.ids)
        .slice()
        .sort(),
    ).toEqual(jobs.map((j) => j.id).sort());
  });
});
