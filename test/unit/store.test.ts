import { afterEach, describe, expect, it } from 'vitest';
import { openKvStore } from '../../src/store/keyvStore.js';
import { createRepositories } from '../../src/store/repositories.js';
import type { Job } from '../../src/jobs/model.js';
import { silentLogger, tempDir } from '../support/tmp.js';

function job(id: string, over: Partial<Job> = {}): Job {
  const now = Date.now();
  return {
    id, provider: 'mj', kind: 'imagine', owner: { userId: 'u1', channelId: 'c1', locale: 'en-US' }, delivery: 'channel',
    status: 'queued', progress: 0, prompt: 'a cat', messages: { results: [] }, attachmentLimit: 10 * 1024 * 1024,
    createdAt: now, updatedAt: now, deadlineAt: now + 60_000, upstream: {}, ...over,
  };
}

describe('store on SQLite', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

  async function open(dir: string) {
    const store = await openKvStore(`sqlite://${dir}/db.sqlite`, silentLogger);
    cleanups.push(() => store.close());
    return { store, repos: createRepositories(store) };
  }

  it('keeps jobs, the upstream index and the in-flight index across a reopen', async () => {
    const t = tempDir(); cleanups.push(t.cleanup);
    const a = await open(t.dir);
    await a.repos.jobs.save(job('j1', { upstreamId: '1730000000000123' }));
    await a.repos.jobs.save(job('j2', { upstreamId: '1730000000000124', status: 'succeeded', deliveredAt: Date.now() }));
    await a.store.close();

    const b = await open(t.dir);
    expect((await b.repos.jobs.get('j1'))?.prompt).toBe('a cat');
    expect((await b.repos.jobs.findByUpstream('mj', '1730000000000123'))?.id).toBe('j1');
    expect(await b.repos.jobs.inflightIds()).toEqual(['j1']);
  });

  it('drops a job from the in-flight index once it is final and delivered', async () => {
    const t = tempDir(); cleanups.push(t.cleanup);
    const { repos } = await open(t.dir);
    const j = await repos.jobs.save(job('j3'));
    expect(await repos.jobs.inflightIds()).toContain('j3');
    j.status = 'succeeded';
    await repos.jobs.save(j);
    expect(await repos.jobs.inflightIds()).toContain('j3'); // final but not yet delivered
    j.deliveredAt = Date.now();
    await repos.jobs.save(j);
    expect(await repos.jobs.inflightIds()).not.toContain('j3');
  });

  it('lists a user\'s recent jobs newest first, without duplicates', async () => {
    const t = tempDir(); cleanups.push(t.cleanup);
    const { repos } = await open(t.dir);
    for (const id of ['a1', 'a2', 'a3']) { const j = await repos.jobs.save(job(id)); await repos.jobs.addToUser(j); }
    await repos.jobs.addToUser(job('a1'));
    expect((await repos.jobs.recentForUser('u1')).map((j) => j.id)).toEqual(['a1', 'a3', 'a2']);
  });

  it('lets a button be claimed once per window and again after release', async () => {
    const t = tempDir(); cleanups.push(t.cleanup);
    const { repos } = await open(t.dir);
    expect(await repos.buttons.claim('k1', 5000)).toBe(true);
    expect(await repos.buttons.claim('k1', 5000)).toBe(false);
    await repos.buttons.release('k1');
    expect(await repos.buttons.claim('k1', 5000)).toBe(true);
  });

  it('merges user settings', async () => {
    const t = tempDir(); cleanups.push(t.cleanup);
    const { repos } = await open(t.dir);
    await repos.users.updateSettings('u9', { delivery: 'dm' });
    await repos.users.updateSettings('u9', { remix: true });
    expect(await repos.users.settings('u9')).toEqual({ delivery: 'dm', remix: true });
    expect(await repos.users.settings('nobody')).toEqual({});
  });
});
