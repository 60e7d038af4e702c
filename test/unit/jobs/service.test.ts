// JobService: admission before anything is stored or sent, the job durable before Discord hears of it, and every
// way a submit can end. Real parts throughout: the store (SQLite in memory), the Tracker (not started: it only
// holds what it follows), and Community as the admission check and the day counters, as createApp wires them.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Community } from '../../../src/community/community.js';
import { GuildRulesRepo } from '../../../src/community/rules.js';
import { createI18n } from '../../../src/i18n/index.js';
import type { Job, Msg } from '../../../src/jobs/model.js';
import { JobRefused, JobService, SubmitFailed, type JobDraft, type SubmitResult } from '../../../src/jobs/service.js';
import { Tracker } from '../../../src/jobs/tracker.js';
import type { KvStore } from '../../../src/store/keyvStore.js';
import type { Repositories } from '../../../src/store/repositories.js';
import { memoryStore, silentLogger, until } from '../../support/unitKit.js';

const T0 = Date.UTC(2025, 0, 1, 12);
const GUILD = 'g1';

let store: KvStore;
let repos: Repositories;
let rules: GuildRulesRepo;
let community: Community;
let tracker: Tracker;
let service: JobService;
let begun: { id: string; stored: Job | undefined }[];
let submitFailures: Job[];
let now: number;

beforeEach(async () => {
  now = T0;
  ({ store, repos } = await memoryStore());
  rules = new GuildRulesRepo(store);
  community = new Community({ rules, repos, i18n: await createI18n(), logger: silentLogger, now: () => now, post: async () => undefined });
  tracker = new Tracker({
    repos,
    providers: new Map(),
    sink: { progress: () => undefined, finish: async () => undefined },
    logger: silentLogger,
    pollIntervalMs: 1000,
    now: () => now,
  });
  begun = [];
  submitFailures = [];
  service = new JobService({
    repos,
    tracker,
    // what Delivery.begin would see: the job as stored at that moment
    delivery: { begin: async (job) => void begun.push({ id: job.id, stored: await repos.jobs.get(job.id) }), progress: () => undefined },
    logger: silentLogger,
    timeoutMs: 30 * 60_000,
    modalTimeoutMs: 15 * 60_000,
    now: () => now,
    describeError: (err): Msg => ({ key: 'errors.mj.refused', params: { reason: err instanceof Error ? err.message : String(err) } }),
    onSubmitFailed: (job) => void submitFailures.push(job),
    admit: (owner) => community.admissionRefusal(owner),
    counters: community,
  });
});

afterEach(async () => {
  await tracker.stop();
  await store.close();
});

function draft(over: Partial<JobDraft> = {}): JobDraft {
  return {
    provider: 'mj',
    kind: 'imagine',
    prompt: 'a lighthouse',
    owner: { userId: 'u1', channelId: 'c1', guildId: GUILD, locale: 'en-US' },
    delivery: 'channel',
    ...over,
  };
}

const accepted = (upstreamId: string, queuePosition?: number) => async (): Promise<SubmitResult> => ({ kind: 'accepted', upstreamId, queuePosition });

describe('JobService.run: an accepted job', () => {
  it('is stored as queued with its task id before delivery begins, followed by the tracker, and counted', async () => {
    const seenBySubmit: (Job | undefined)[] = [];
    const job = await service.run(draft({ timeoutMs: 45_000 }), async (j) => {
      seenBySubmit.push(await repos.jobs.get(j.id));
      return { kind: 'accepted', upstreamId: 'task-1', queuePosition: 3 };
    });
    // stored (as submitting) before the upstream was asked
    expect(seenBySubmit[0]).toMatchObject({ id: job.id, status: 'submitting' });
    expect(job).toMatchObject({ status: 'queued', upstreamId: 'task-1', queuePosition: 3, deadlineAt: T0 + 45_000 });
    await tracker.idle();
    await until(() => begun.length === 1, 'delivery.begin');
    expect(begun[0]!.stored).toMatchObject({ status: 'queued', upstreamId: 'task-1' });
    expect(tracker.get(job.id)).toBe(job);
    expect((await repos.jobs.findByUpstream('mj', 'task-1'))?.id).toBe(job.id);
    expect(await repos.jobs.countToday('u1', now)).toBe(1);
    expect(await rules.countToday(GUILD, now)).toBe(1);
  });

  it('gets the global timeout when the provider names none or a longer one', async () => {
    const a = await service.run(draft(), accepted('t-a'));
    const b = await service.run(draft({ timeoutMs: 3 * 60 * 60_000 }), accepted('t-b'));
    expect([a.deadlineAt, b.deadlineAt]).toEqual([T0 + 30 * 60_000, T0 + 30 * 60_000]);
  });
});

describe('JobService.run: admission', () => {
  it('refuses a job over the concurrency limit before storing or sending anything', async () => {
    await rules.update(GUILD, (r) => void (r.limits.concurrent = 1));
    await service.run(draft(), accepted('t1'));
    let submitted = 0;
    const err = await service.run(draft(), async () => (submitted++, { kind: 'accepted', upstreamId: 't2' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobRefused);
    expect((err as JobRefused).userMessage).toEqual({ key: 'community.limit.concurrent', params: { count: 1 } });
    expect(submitted).toBe(0);
    expect((await repos.jobs.recentForUser('u1')).length).toBe(1);
  });

  it('admits two quick submits of one member under the lock, so both cannot slip under a limit of one', async () => {
    await rules.update(GUILD, (r) => void (r.limits.concurrent = 1));
    const results = await Promise.allSettled([service.run(draft(), accepted('t1')), service.run(draft(), accepted('t2'))]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((await repos.jobs.recentForUser('u1')).length).toBe(1);
  });

  it('refuses by the daily quota and names the next UTC midnight', async () => {
    await rules.update(GUILD, (r) => void (r.limits.dailyPerUser = 2));
    for (const id of ['t1', 't2']) {
      const job = await service.run(draft(), accepted(id));
      await repos.jobs.update(job.id, (j) => void (j.status = 'succeeded'));
    }
    await expect(service.run(draft(), accepted('t3'))).rejects.toMatchObject({
      userMessage: { key: 'community.limit.daily', params: { count: 2, when: `<t:${Date.UTC(2025, 0, 2) / 1000}:R>` } },
    });
  });
});

describe('JobService.run: the upstream refuses', () => {
  it('stores the job failed and delivered (told in the reply), gives the quota back, lets the tracker go, and says why', async () => {
    const err = await service.run(draft(), async () => Promise.reject(new Error('banned prompt'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SubmitFailed);
    const failed = err as SubmitFailed;
    expect(failed.userMessage).toEqual({ key: 'errors.mj.refused', params: { reason: 'banned prompt' } });
    expect(await repos.jobs.get(failed.job.id)).toMatchObject({ status: 'failed', error: failed.userMessage, finishedAt: T0, deliveredAt: T0 });
    expect(tracker.get(failed.job.id)).toBeUndefined();
    expect(submitFailures.map((j) => j.id)).toEqual([failed.job.id]);
    expect(begun).toEqual([]);
    expect(await repos.jobs.countToday('u1', now)).toBe(0);
    expect(await rules.countToday(GUILD, now)).toBe(0);
  });

  it('a refused job does not hold a concurrency slot', async () => {
    await rules.update(GUILD, (r) => void (r.limits.concurrent = 1));
    await expect(service.run(draft(), async () => Promise.reject(new Error('down')))).rejects.toBeInstanceOf(SubmitFailed);
    await expect(service.run(draft(), accepted('t2'))).resolves.toMatchObject({ status: 'queued' });
  });
});

describe('JobService: a job that waits for the member in a modal', () => {
  it('waits as modal with the modal task and its prefill, then resumes to queued with a fresh deadline', async () => {
    const job = await service.run(draft(), async () => ({ kind: 'modal', upstreamId: 'modal-1', prefill: 'a lighthouse --ar 3:2' }));
    expect(job).toMatchObject({
      status: 'modal',
      upstreamId: 'modal-1',
      upstream: { modalTaskId: 'modal-1', prefill: 'a lighthouse --ar 3:2' },
      deadlineAt: T0 + 15 * 60_000,
    });
    expect((await repos.jobs.get(job.id))?.status).toBe('modal');
    expect(begun).toEqual([]);

    now = T0 + 60_000;
    const resumed = await service.resume(job, async (j) => ({ kind: 'accepted', upstreamId: `${(j.upstream as { modalTaskId?: string }).modalTaskId}-done` }));
    expect(resumed).toMatchObject({ status: 'queued', upstreamId: 'modal-1-done', deadlineAt: now + 30 * 60_000 });
    await until(() => begun.length === 1, 'delivery.begin');
    expect(await service.get(job.id)).toBe(tracker.get(job.id));
  });
});
