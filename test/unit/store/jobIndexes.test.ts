// A job is saved several times on its way (accepted, queued upstream, progress, final): its index entries (in flight,
// upstream id → job) are written when they change, not on every save, and stay right — on SQLite (in memory).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Keyv } from 'keyv';
import type { KvStore } from '../../../src/store/keyvStore.js';
import type { Repositories } from '../../../src/store/repositories.js';
import { makeJob, memoryStore } from '../../support/unitKit.js';

let store: KvStore;
let repos: Repositories;
let writes: string[];

function spy(namespace: string): void {
  const kv = store.namespace(namespace as never) as Keyv;
  const set = kv.set.bind(kv);
  const del = kv.delete.bind(kv);
  kv.set = (async (...a: Parameters<Keyv['set']>) => (writes.push(`set ${namespace}:${String(a[0])}`), set(...a))) as Keyv['set'];
  kv.delete = (async (...a: Parameters<Keyv['delete']>) => (writes.push(`delete ${namespace}:${String(a[0])}`), del(...a))) as Keyv['delete'];
}

beforeEach(async () => {
  ({ store, repos } = await memoryStore());
  writes = [];
  spy('inflight');
  spy('upstream');
});
afterEach(() => store.close());

describe('JobsRepo.save and its indexes', () => {
  it('writes the in-flight entry once and the upstream entry when the id appears; a final save clears them', async () => {
    const job = makeJob({ id: 'j1', status: 'submitting', upstreamId: undefined });
    await repos.jobs.save(job);
    await repos.jobs.save(job);
    expect(writes).toEqual(['set inflight:j1']);
    job.upstreamId = 't1';
    job.status = 'queued';
    await repos.jobs.save(job);
    job.progress = 50;
    await repos.jobs.save(job);
    expect(writes).toEqual(['set inflight:j1', 'set upstream:mj:t1']);
    expect(await repos.jobs.findByUpstream('mj', 't1')).toMatchObject({ id: 'j1', progress: 50 });
    expect(await repos.jobs.inflightIds()).toEqual(['j1']);

    job.status = 'succeeded';
    job.deliveredAt = Date.now();
    await repos.jobs.save(job);
    expect(writes.slice(2).sort()).toEqual(['delete inflight:j1', 'set upstream:mj:t1']); // kept for the retention
    expect(await repos.jobs.inflightIds()).toEqual([]);
    expect(await repos.jobs.findByUpstream('mj', 't1')).toMatchObject({ id: 'j1', status: 'succeeded' });
  });
});
