// Listing the in-flight index a page at a time (what a restart resumes): ids only, every id once, pages no larger
// than asked, nothing of another namespace. On SQLite (a file) and on a real redis-server.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { KvStore } from '../../../src/store/keyvStore.js';
import { createRepositories } from '../../../src/store/repositories.js';
import { redisBackend, sqliteBackend } from '../../support/storeBackends.js';
import { makeJob } from '../../support/unitKit.js';

describe.each([sqliteBackend(), redisBackend()])('the in-flight index on $name, a page at a time', (backend) => {
  let store: KvStore | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });
  afterAll(() => backend.teardown());

  it('yields every in-flight id exactly once, in pages no larger than asked, and nothing of other namespaces', async () => {
    store = await backend.open();
    const repos = createRepositories(store);
    const ids = Array.from({ length: 130 }, (_, i) => `pg${String(i).padStart(3, '0')}`);
    for (const id of ids) await repos.jobs.save(makeJob({ id, status: 'running' }));
    // neighbours that must not be listed: a delivered job, and keys of other namespaces
    await repos.jobs.save(makeJob({ id: 'done1', status: 'succeeded', deliveredAt: Date.now() }));
    await repos.users.updateSettings('inflight', { remix: true });
    await repos.meta.set('inflight:zz', 1);

    const pages: string[][] = [];
    for await (const page of repos.jobs.inflightIdPages(25)) pages.push(page);

    expect(pages.every((p) => p.length > 0 && p.length <= 25)).toBe(true);
    expect(pages.length).toBeGreaterThanOrEqual(6);
    const seen = pages.flat();
    expect(seen.length).toBe(ids.length); // no id twice
    expect([...seen].sort()).toEqual(ids);
  });

  it('lists an empty index as no page at all, and lists the keys of any namespace the same way', async () => {
    store = await backend.open();
    const repos = createRepositories(store);
    const pages: string[][] = [];
    for await (const page of repos.jobs.inflightIdPages(10)) pages.push(page);
    expect(pages).toEqual([]);

    await repos.jobs.save(makeJob({ id: 'k1' }));
    const keys: string[][] = [];
    for await (const page of store.keyPages('jobs', 10)) keys.push(page);
    expect(keys).toEqual([['k1']]);
  });
});
