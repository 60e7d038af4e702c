// A server's queue record under concurrent changes (a burst of commands, jobs ending): every change lands, in the
// order asked, changes asked during a write are stored together, a change that throws fails only its own caller,
// and what is stored reads back the same in a new process — on SQLite (a file) and on a real redis-server.
import { afterAll, describe, expect, it } from 'vitest';
import type { Keyv } from 'keyv';
import { emptyQueue, type QueueDoc } from '../../../src/jobs/fairQueue.js';
import type { KvStore } from '../../../src/store/keyvStore.js';
import { QueueRepo } from '../../../src/store/queueRepo.js';
import { redisBackend, sqliteBackend, withStore } from '../../support/storeBackends.js';

/** Count the writes of the queue's namespace. */
function countWrites(store: KvStore): { writes: number } {
  const kv = store.namespace('guilds') as Keyv;
  const seen = { writes: 0 };
  const set = kv.set.bind(kv);
  kv.set = (async (...args: Parameters<Keyv['set']>) => {
    if (String(args[0]).startsWith('queue:')) seen.writes++;
    return set(...args);
  }) as Keyv['set'];
  return seen;
}

const waiting = (jobId: string, userId = 'u1', at = 1) => ({ jobId, userId, at, perMember: 0 });

const sqlite = sqliteBackend();
const backends = [sqlite, redisBackend()];
afterAll(async () => {
  for (const b of backends) await b.teardown();
});

describe.each(backends)('QueueRepo on $name', (backend) => {
  it('stores a burst of changes, each one, in the order asked, with fewer writes than changes', async () => {
    await withStore(backend, async (store) => {
      const writes = countWrites(store);
      const repo = new QueueRepo(store);
      const answers = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          repo.update('g1', (doc) => {
            doc.waiting.push(waiting(`j${i}`));
            return doc.waiting.length;
          }),
        ),
      );
      expect(answers).toEqual(Array.from({ length: 60 }, (_, i) => i + 1)); // each saw the ones before it
      expect(writes.writes).toBeLessThan(60);
      expect(writes.writes).toBeGreaterThan(0);
      // another process (a new repo on the same store) reads what was stored
      const again = new QueueRepo(store);
      expect((await again.get('g1')).waiting.map((w) => w.jobId)).toEqual(answers.map((_, i) => `j${i}`));
      expect(await again.guilds()).toEqual(['g1']);
    });
  });

  it('a change that throws fails only its own caller; the others are stored', async () => {
    await withStore(backend, async (store) => {
      const repo = new QueueRepo(store);
      const first = repo.update('g1', (doc) => void doc.waiting.push(waiting('a')));
      const broken = repo.update('g1', () => {
        throw new Error('refused');
      });
      const last = repo.update('g1', (doc) => void doc.waiting.push(waiting('b')));
      await expect(broken).rejects.toThrow('refused');
      await Promise.all([first, last]);
      expect((await new QueueRepo(store).get('g1')).waiting.map((w) => w.jobId)).toEqual(['a', 'b']);
    });
  });

  it('an empty queue leaves no record and drops out of the index', async () => {
    await withStore(backend, async (store) => {
      const repo = new QueueRepo(store);
      await repo.update('g1', (doc) => void (doc.running.j1 = { userId: 'u1', at: 1 }));
      expect(await repo.guilds()).toEqual(['g1']);
      await repo.update('g1', (doc) => void delete doc.running.j1);
      expect(await repo.guilds()).toEqual([]);
      expect(await store.namespace('guilds').get('queue:g1')).toBeUndefined();
    });
  });
});

describe('QueueRepo (one process, kept in memory)', () => {
  it('a read that was under way while the queue changed does not put the older record back', async () => {
    await withStore(sqlite, async (store) => {
      const before: QueueDoc = { ...emptyQueue(), waiting: [waiting('old')] };
      await store.namespace('guilds').set('queue:g1', JSON.stringify(before));
      const repo = new QueueRepo(store);
      const reads = Array.from({ length: 5 }, () => repo.get('g1'));
      const change = repo.update('g1', (doc) => void doc.waiting.push(waiting('new')));
      await Promise.all([...reads, change]);
      expect((await repo.get('g1')).waiting.map((w) => w.jobId)).toEqual(['old', 'new']);
      expect((await new QueueRepo(store).get('g1')).waiting.map((w) => w.jobId)).toEqual(['old', 'new']);
    });
  });

  it('reads a queue stored as an object (before it was stored as its JSON)', async () => {
    await withStore(sqlite, async (store) => {
      await store.namespace('guilds').set('queue:g1', { ...emptyQueue(), waiting: [waiting('legacy')] });
      expect((await new QueueRepo(store).get('g1')).waiting.map((w) => w.jobId)).toEqual(['legacy']);
    });
  });
});
