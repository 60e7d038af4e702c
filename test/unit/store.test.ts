import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Job } from '../../src/jobs/model.js';
import { openKvStore, type KvStore } from '../../src/store/keyvStore.js';
import { RedisJobOwnership } from '../../src/store/leases.js';
import { createRepositories, type Repositories } from '../../src/store/repositories.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { silentLogger, tempDir } from '../support/tmp.js';
import { makeJob } from '../support/unitKit.js';

function job(id: string, over: Partial<Job> = {}): Job {
  return makeJob({
    id,
    upstreamId: undefined,
    owner: { userId: 'u1', channelId: 'c1', locale: 'en-US' },
    status: 'queued',
    deadlineAt: Date.now() + 60_000,
    ...over,
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Where a suite's store lives: a fresh SQLite file per test, or one redis-server flushed between tests. */
interface Backend {
  name: string;
  setup(): Promise<void>;
  /** a fresh, empty store address for the next test */
  fresh(): Promise<string>;
  teardown(): Promise<void>;
}

const sqlite = (): Backend => {
  const dirs: { cleanup(): void }[] = [];
  return {
    name: 'SQLite',
    setup: async () => undefined,
    async fresh() {
      const t = tempDir();
      dirs.push(t);
      return `sqlite://${t.dir}/db.sqlite`;
    },
    async teardown() {
      for (const d of dirs.splice(0)) d.cleanup();
    },
  };
};

const redis = (): Backend & { server(): TestRedis } => {
  let server: TestRedis | undefined;
  let failed: unknown;
  return {
    name: 'Redis',
    server: () => server!,
    async setup() {
      // no redis-server: every test of the suite fails with the reason (they are not skipped)
      server = await startRedis().catch((err: unknown) => {
        failed = err;
        return undefined;
      });
    },
    async fresh() {
      if (!server) throw failed;
      await server.flush();
      return server.url;
    },
    async teardown() {
      await server?.stop();
    },
  };
};

/** Opens stores on one address and closes them after each test. Two stores on one Redis are what two bot processes see. */
function stores(backend: Backend) {
  let url = '';
  const open: KvStore[] = [];
  beforeEach(async () => {
    url = await backend.fresh();
  });
  afterEach(async () => {
    for (const s of open.splice(0).reverse()) await s.close();
  });
  return {
    async open(): Promise<{ store: KvStore; repos: Repositories }> {
      const store = await openKvStore(url, silentLogger);
      open.push(store);
      return { store, repos: createRepositories(store) };
    },
  };
}

const BACKENDS = [sqlite(), redis()];

describe.each(BACKENDS)('store on $name', (backend) => {
  beforeAll(() => backend.setup(), 20_000);
  afterAll(() => backend.teardown());
  const s = stores(backend);

  it('keeps jobs, the upstream index and the in-flight index across a reopen', async () => {
    const a = await s.open();
    await a.repos.jobs.save(job('j1', { upstreamId: '1730000000000123' }));
    await a.repos.jobs.save(job('j2', { upstreamId: '1730000000000124', status: 'succeeded', deliveredAt: Date.now() }));
    await a.store.close();

    const b = await s.open();
    expect((await b.repos.jobs.get('j1'))?.prompt).toBe('a cat');
    expect((await b.repos.jobs.findByUpstream('mj', '1730000000000123'))?.id).toBe('j1');
    expect((await b.repos.jobs.findByUpstream('mj', '1730000000000124'))?.id).toBe('j2');
    expect(await b.repos.jobs.inflightIds()).toEqual(['j1']);
    expect((await b.repos.jobs.getMany(['j1', 'nope', 'j2'])).map((j) => j.id)).toEqual(['j1', 'j2']);
  });

  it('drops a job from the in-flight index once it is final and delivered', async () => {
    const { repos } = await s.open();
    const j = await repos.jobs.save(job('j3'));
    expect(await repos.jobs.inflightIds()).toContain('j3');
    j.status = 'succeeded';
    await repos.jobs.save(j);
    expect(await repos.jobs.inflightIds()).toContain('j3'); // final but not yet delivered
    j.deliveredAt = Date.now();
    await repos.jobs.save(j);
    expect(await repos.jobs.inflightIds()).not.toContain('j3');
  });

  it('lists every in-flight job of a large index, and only that namespace', async () => {
    const { store, repos } = await s.open();
    const ids = Array.from({ length: 120 }, (_, i) => `big${i}`);
    for (const id of ids) await repos.jobs.save(job(id, { upstreamId: `up-${id}` }));
    await repos.users.updateSettings('u1', { remix: true });
    expect((await repos.jobs.inflightIds()).sort()).toEqual([...ids].sort());
    const jobs: string[] = [];
    for await (const [key, value] of store.entries<Job>('jobs')) {
      expect(value.id).toBe(key);
      jobs.push(key);
    }
    expect(jobs.sort()).toEqual([...ids].sort());
  });

  it("lists a user's recent jobs newest first, without duplicates, and counts today's", async () => {
    const { repos } = await s.open();
    for (const id of ['a1', 'a2', 'a3']) await repos.jobs.addToUser(await repos.jobs.save(job(id)));
    await repos.jobs.addToUser(job('a1'));
    expect((await repos.jobs.recentForUser('u1')).map((j) => j.id)).toEqual(['a1', 'a3', 'a2']);
    expect(await repos.jobs.countToday('u1')).toBe(4);
    expect(await repos.jobs.countToday('someone-else')).toBe(0);
  });

  it('keeps concurrent updates of one job and one recent list (no lost writes)', async () => {
    const { repos } = await s.open();
    await repos.jobs.save(job('p1'));
    await Promise.all(Array.from({ length: 12 }, (_, i) => repos.jobs.update('p1', (j) => void (j.usedButtons = [...(j.usedButtons ?? []), `b${i}`]))));
    expect((await repos.jobs.get('p1'))?.usedButtons?.sort()).toEqual(Array.from({ length: 12 }, (_, i) => `b${i}`).sort());
    await Promise.all(Array.from({ length: 10 }, (_, i) => repos.jobs.addToUser(job(`r${i}`))));
    expect((await repos.jobs.recentForUser('u1', 25)).length).toBe(0); // not saved as jobs: the list holds ids only
    expect(await repos.jobs.countToday('u1')).toBe(10);
  });

  it('lets a button be claimed once per window, again after release or once the window passed', async () => {
    const { repos } = await s.open();
    expect(await repos.buttons.claim('k1', 5000)).toBe(true);
    expect(await repos.buttons.claim('k1', 5000)).toBe(false);
    await repos.buttons.release('k1');
    expect(await repos.buttons.claim('k1', 5000)).toBe(true);

    expect(await repos.buttons.claim('k2', 150)).toBe(true);
    expect(await repos.buttons.claim('k2', 150)).toBe(false);
    await sleep(250);
    expect(await repos.buttons.claim('k2', 150)).toBe(true);
  });

  it('gives one of many simultaneous presses of a button the claim', async () => {
    const { repos } = await s.open();
    const wins = await Promise.all(Array.from({ length: 20 }, () => repos.buttons.claim('k3', 5000)));
    expect(wins.filter(Boolean)).toHaveLength(1);
  });

  it('stores button records', async () => {
    const { repos } = await s.open();
    const rec = {
      key: 'bk1',
      jobId: 'j1',
      upstreamTaskId: 't1',
      customId: 'MJ::JOB::upsample::1::abc',
      kind: 'upscale',
      index: 1,
      ownerId: 'u1',
      createdAt: Date.now(),
    };
    await repos.buttons.putMany([rec, { ...rec, key: 'bk2', index: 2 }]);
    expect(await repos.buttons.get('bk1')).toEqual(rec);
    expect((await repos.buttons.get('bk2'))?.index).toBe(2);
    expect(await repos.buttons.get('nope')).toBeUndefined();
  });

  it('merges user settings and keeps meta values', async () => {
    const { repos } = await s.open();
    await repos.users.updateSettings('u9', { delivery: 'dm' });
    await repos.users.updateSettings('u9', { remix: true });
    expect(await repos.users.settings('u9')).toEqual({ delivery: 'dm', remix: true });
    expect(await repos.users.settings('nobody')).toEqual({});
    await repos.meta.set('hook-secret', 'abc');
    expect(await repos.meta.get('hook-secret')).toBe('abc');
  });

  it('answers its health check', async () => {
    const { store } = await s.open();
    expect(await store.check()).toBe(true);
  });
});

/** What only a shared store offers: two bot processes (two store connections) on one Redis. */
describe('Redis shared by two processes', () => {
  const backend = redis();
  beforeAll(() => backend.setup(), 20_000);
  afterAll(() => backend.teardown());
  const s = stores(backend);

  it("sees the other process's jobs, buttons and settings", async () => {
    const a = await s.open();
    const b = await s.open();
    await a.repos.jobs.save(job('x1', { upstreamId: 'up-x1' }));
    await a.repos.buttons.putMany([
      { key: 'bx', jobId: 'x1', upstreamTaskId: 'up-x1', customId: 'MJ::JOB::variation::2::x', kind: 'variation', ownerId: 'u1', createdAt: 1 },
    ]);
    await a.repos.users.updateSettings('u1', { delivery: 'both' });
    expect((await b.repos.jobs.findByUpstream('mj', 'up-x1'))?.id).toBe('x1');
    expect((await b.repos.buttons.get('bx'))?.customId).toBe('MJ::JOB::variation::2::x');
    expect(await b.repos.users.settings('u1')).toEqual({ delivery: 'both' });
    expect(await b.repos.jobs.inflightIds()).toEqual(['x1']);
  });

  it('gives a button pressed in both processes at once to exactly one (SET NX)', async () => {
    const a = await s.open();
    const b = await s.open();
    for (let round = 0; round < 10; round++) {
      const wins = await Promise.all([a, b, a, b].map((p) => p.repos.buttons.claim(`both-${round}`, 5000)));
      expect(wins.filter(Boolean)).toHaveLength(1);
    }
  });

  it('loses no update when both processes edit one job and one user at once', async () => {
    const a = await s.open();
    const b = await s.open();
    await a.repos.jobs.save(job('shared'));
    await Promise.all(
      Array.from({ length: 16 }, (_, i) => (i % 2 ? a : b).repos.jobs.update('shared', (j) => void (j.usedButtons = [...(j.usedButtons ?? []), `b${i}`]))),
    );
    expect((await b.repos.jobs.get('shared'))?.usedButtons).toHaveLength(16);
    await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).repos.jobs.addToUser(job(`q${i}`))));
    expect(await a.repos.jobs.countToday('u1')).toBe(12);
    await Promise.all(
      ['delivery', 'remix', 'speed', 'botType'].map((k, i) =>
        (i % 2 ? a : b).repos.users.updateSettings('u7', { [k]: k === 'remix' ? true : k === 'delivery' ? 'dm' : k === 'speed' ? 'relax' : 'NIJI_JOURNEY' }),
      ),
    );
    expect(await a.repos.users.settings('u7')).toEqual({ delivery: 'dm', remix: true, speed: 'relax', botType: 'NIJI_JOURNEY' });
  });

  it('job leases: one holder at a time; re-claim, renew and release only by the holder', async () => {
    const { store: sa } = await s.open();
    const { store: sb } = await s.open();
    const a = new RedisJobOwnership(sa.redis!, { ttlMs: 5000, owner: 'proc-a' });
    const b = new RedisJobOwnership(sb.redis!, { ttlMs: 5000, owner: 'proc-b' });
    expect(await a.claim('j1')).toBe(true);
    expect(await b.claim('j1')).toBe(false);
    expect(await a.claim('j1')).toBe(true); // its own job again
    expect(await sa.redis!.get(RedisJobOwnership.key('j1'))).toBe('proc-a');

    expect(await b.renew(['j1'])).toEqual(['j1']); // not b's: reported, not extended
    await b.release('j1'); // not b's: kept
    expect(await sa.redis!.get(RedisJobOwnership.key('j1'))).toBe('proc-a');

    await sa.redis!.pExpire(RedisJobOwnership.key('j1'), 1000);
    expect(await a.renew(['j1'])).toEqual([]);
    expect(await sa.redis!.pTTL(RedisJobOwnership.key('j1'))).toBeGreaterThan(4000);

    await a.release('j1');
    expect(await sa.redis!.get(RedisJobOwnership.key('j1'))).toBeNull();
    expect(await b.claim('j1')).toBe(true);
    expect(b.heldJobs).toEqual(['j1']);
  });

  it('job leases: an unrenewed lease expires and another process takes the job; the old holder learns it lost it', async () => {
    const { store: sa } = await s.open();
    const { store: sb } = await s.open();
    const a = new RedisJobOwnership(sa.redis!, { ttlMs: 300 });
    const b = new RedisJobOwnership(sb.redis!, { ttlMs: 300 });
    expect(a.owner).not.toBe(b.owner);
    expect(await a.claim('j2')).toBe(true);
    expect(await a.claim('j3')).toBe(true);
    await sleep(150);
    expect(await a.renew(['j3'])).toEqual([]); // j3 kept alive, j2 not
    await sleep(250);
    expect(await b.claim('j2')).toBe(true);
    expect(await b.claim('j3')).toBe(false);
    expect(await a.renew(['j2', 'j3'])).toEqual(['j2']);
    expect(a.heldJobs).toEqual(['j3']);
  });

  it('job leases: take moves a job here at once; releaseAll frees what a stopping process holds', async () => {
    const { store: sa } = await s.open();
    const { store: sb } = await s.open();
    const a = new RedisJobOwnership(sa.redis!, { ttlMs: 5000 });
    const b = new RedisJobOwnership(sb.redis!, { ttlMs: 5000 });
    expect(await a.claim('m1')).toBe(true);
    await b.take('m1');
    expect(await a.renew(['m1'])).toEqual(['m1']);
    expect(await a.claim('m1')).toBe(false);

    for (const id of ['r1', 'r2', 'r3']) expect(await a.claim(id)).toBe(true);
    await a.releaseAll();
    for (const id of ['r1', 'r2', 'r3']) expect(await b.claim(id)).toBe(true);
  });

  it('a Redis that does not answer stops the start with a clear error', async () => {
    const url = backend.server().url.replace(/:\d+$/, ':1'); // nothing listens on port 1
    await expect(openKvStore(url, silentLogger, { connectTimeoutMs: 1000 })).rejects.toThrow('Redis did not answer within 1 s');
  });
});

/** Nothing grows forever: finished jobs, buttons and recent lists expire after the retention; expired rows are deleted. */
describe('retention', () => {
  const DAY = 24 * 3600_000;
  const record = (key: string) => ({
    key,
    jobId: 'j1',
    upstreamTaskId: 'up-1',
    customId: 'MJ::JOB::upsample::1::x',
    kind: 'upscale',
    ownerId: 'u1',
    createdAt: Date.now(),
  });
  /** rows in the shared keyv table, all namespaces (SQLite) */
  const rows = async (store: KvStore) =>
    (await (store.namespace('meta').store as unknown as { query(sql: string): Promise<{ n: number }[]> }).query('SELECT count(*) AS n FROM keyv'))[0]!.n;

  describe('on SQLite', () => {
    const backend = sqlite();
    afterAll(() => backend.teardown());
    const s = stores(backend);

    it('deletes expired jobs, buttons, press locks and day counters in batches, and keeps what has no TTL', async () => {
      const { store } = await s.open();
      const repos = createRepositories(store, { retentionMs: 7 * DAY });
      await repos.users.updateSettings('u1', { delivery: 'dm' }); // settings are kept forever
      await repos.jobs.save(job('kept-in-flight')); // in flight: no TTL
      const finished = job('done1', { status: 'succeeded', deliveredAt: Date.now(), upstreamId: 'up-done1' });
      await repos.jobs.save(finished);
      await repos.jobs.addToUser(finished);
      await repos.buttons.putMany(Array.from({ length: 1203 }, (_, i) => record(`b${i}`)));
      expect(await repos.buttons.claim('b1', 5000)).toBe(true);
      const before = await rows(store);

      expect(await store.sweepExpired({ now: Date.now() + 60_000 })).toBe(1); // only the press lock has expired after a minute
      expect(await store.sweepExpired({ now: Date.now() + 3 * DAY })).toBe(1); // the day counter (2 days)
      // past the retention: the finished job, its upstream index entry, the recent list, every button — 500 rows a statement
      expect(await store.sweepExpired({ now: Date.now() + 8 * DAY, batchSize: 500, maxBatches: 2 })).toBe(1000);
      expect(await store.sweepExpired({ now: Date.now() + 8 * DAY, batchSize: 500 })).toBe(1203 + 3 - 1000);
      expect(await rows(store)).toBe(before - 2 - 1206);
      expect(await repos.users.settings('u1')).toEqual({ delivery: 'dm' });
      expect(await repos.jobs.get('kept-in-flight')).toBeDefined();
      expect(await repos.jobs.inflightIds()).toEqual(['kept-in-flight']);
    });

    it('survives rows that are not keyv JSON', async () => {
      const { store } = await s.open();
      await (store.namespace('meta').store as unknown as { query(sql: string): Promise<unknown> }).query(
        `INSERT INTO keyv (key, value) VALUES ('meta:odd', 'not json')`,
      );
      expect(await store.sweepExpired({ now: Date.now() + DAY })).toBe(0);
    });
  });

  describe('on Redis', () => {
    const backend = redis();
    beforeAll(() => backend.setup(), 20_000);
    afterAll(() => backend.teardown());
    const s = stores(backend);

    it('gives finished jobs, buttons and recent lists the retention as a TTL, day counters two days, and nothing to in-flight jobs', async () => {
      const { store } = await s.open();
      const repos = createRepositories(store, { retentionMs: 7 * DAY });
      const finished = job('done2', { status: 'succeeded', deliveredAt: Date.now(), upstreamId: 'up-done2' });
      await repos.jobs.save(finished);
      await repos.jobs.addToUser(finished);
      await repos.jobs.save(job('running2'));
      await repos.buttons.putMany([record('rb1')]);
      const ttl = (ns: string, key: string) => store.redis!.pTTL(`${ns}::${ns}:${key}`);
      for (const [ns, key] of [
        ['jobs', 'done2'],
        ['upstream', 'mj:up-done2'],
        ['buttons', 'rb1'],
        ['users', 'recent:u1'],
      ] as const) {
        const ms = await ttl(ns, key);
        expect(ms, `${ns}:${key}`).toBeGreaterThan(7 * DAY - 60_000);
        expect(ms, `${ns}:${key}`).toBeLessThanOrEqual(7 * DAY);
      }
      const day = await ttl('users', `today:u1:${new Date().toISOString().slice(0, 10)}`);
      expect(day).toBeGreaterThan(0);
      expect(day).toBeLessThanOrEqual(2 * DAY);
      expect(await ttl('jobs', 'running2')).toBe(-1); // no TTL while in flight
      expect(await store.sweepExpired()).toBe(0); // Redis expires keys itself
    });
  });
});
