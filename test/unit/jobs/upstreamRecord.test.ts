// A job's upstream record: typed per provider, read and filled in through upstreamOf, and tolerant of jobs stored by
// older versions (fields missing, or no record at all). Jobs go through the real store (SQLite in memory).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MjProvider } from '../../../src/jobs/mjProvider.js';
import { upstreamOf, type Job, type JobUpstream } from '../../../src/jobs/model.js';
import { createLogger } from '../../../src/log.js';
import { openKvStore, type KvStore } from '../../../src/store/keyvStore.js';
import { createRepositories, type Repositories } from '../../../src/store/repositories.js';

const logger = createLogger({ level: 'silent', pretty: false });
const now = Date.UTC(2025, 0, 1);

/** A job as an older version stored it: JSON, with whatever upstream record that version wrote (or none). */
function storedJob(id: string, provider: Job['provider'], upstream: Record<string, unknown> | undefined): Record<string, unknown> {
  const job: Record<string, unknown> = {
    id,
    provider,
    kind: provider === 'mj' ? 'action' : 'faceswap',
    upstreamId: `task-${id}`,
    owner: { userId: 'u', channelId: 'c', locale: 'en-US' },
    delivery: 'channel',
    status: 'modal',
    progress: 0,
    prompt: 'p',
    messages: { results: [] },
    attachmentLimit: 1,
    createdAt: now,
    updatedAt: now,
    deadlineAt: now + 60_000,
  };
  if (upstream) job.upstream = upstream;
  return job;
}

describe('Job.upstream', () => {
  let store: KvStore;
  let repos: Repositories;

  beforeEach(async () => {
    store = await openKvStore('sqlite://:memory:', logger);
    repos = createRepositories(store);
  });
  afterEach(async () => {
    await store.close();
  });

  it('reads a job stored without any upstream record as an empty one, and saves what is filled in', async () => {
    await store.namespace('jobs').set('old1', storedJob('old1', 'imgopen', undefined));
    const job = (await repos.jobs.get('old1'))!;
    expect(upstreamOf(job, 'imgopen')).toEqual({});
    upstreamOf(job, 'imgopen').businessTaskId = 'b-1';
    await repos.jobs.save(job, now);
    expect((await repos.jobs.get('old1'))!.upstream).toEqual({ businessTaskId: 'b-1' });
  });

  it('keeps what an older version stored under the same names: a waiting modal is still cancelled by its task', async () => {
    await store.namespace('jobs').set('old2', storedJob('old2', 'mj', { modalTaskId: 'modal-7', prefill: 'a cat --ar 2:3' }));
    const job = (await repos.jobs.get('old2'))!;
    expect(upstreamOf(job, 'mj')).toMatchObject({ modalTaskId: 'modal-7', prefill: 'a cat --ar 2:3' });
    const cancelled: string[] = [];
    const provider = new MjProvider(
      { fetchTasks: async () => [], fetchTask: async () => null, cancel: async (id) => void cancelled.push(id) },
      { flavor: 'trueai', logger },
    );
    await provider.abandon(job);
    expect(cancelled).toEqual(['modal-7']);
    delete upstreamOf(job, 'mj').modalTaskId; // no modal task: the job's own task is cancelled
    await provider.abandon(job);
    expect(cancelled).toEqual(['modal-7', 'task-old2']);
  });

  it("refuses to read one provider's job as another's", async () => {
    await store.namespace('jobs').set('pw', storedJob('pw', 'picwish', { tool: 'upscale', path: '/api/tasks/visual/scale' }));
    const job = (await repos.jobs.get('pw'))!;
    expect(upstreamOf(job, 'picwish').path).toBe('/api/tasks/visual/scale');
    expect(() => upstreamOf(job, 'imgopen')).toThrow(/picwish job, not imgopen/);
  });

  it("lets a record hold one provider's fields only (checked by the type checker)", () => {
    const proxySwap: JobUpstream = { engine: 'proxy' };
    const imgOpenSwap: JobUpstream = { engine: 'v2', fidelity: 0.5, toolCode: 'v2/roop' };
    // @ts-expect-error an Img Open tool code on a proxy swap mixes two providers
    const mixed: JobUpstream = { engine: 'proxy', toolCode: 'roop' };
    // @ts-expect-error a PicWish path on an Img Open record
    const mixed2: JobUpstream = { businessTaskId: 'b', path: '/api/tasks/visual/scale' };
    expect([proxySwap, imgOpenSwap, mixed, mixed2].map((u) => u.engine ?? u.path)).toEqual(['proxy', 'v2', 'proxy', '/api/tasks/visual/scale']);
  });
});
