// The stores a store test runs against: SQLite in a temporary file and a real redis-server (flushed for each open).
import { openKvStore, type KvStore } from '../../src/store/keyvStore.js';
import { startRedis, type TestRedis } from './redis.js';
import { silentLogger, tempDir } from './tmp.js';

export interface StoreBackend {
  name: string;
  /** a fresh, empty store (close it after the test) */
  open(): Promise<KvStore>;
  /** remove the files, stop the server */
  teardown(): Promise<void>;
}

export function sqliteBackend(): StoreBackend {
  const dirs: { cleanup(): void }[] = [];
  return {
    name: 'SQLite',
    async open() {
      const t = tempDir();
      dirs.push(t);
      return openKvStore(`sqlite://${t.dir}/db.sqlite`, silentLogger);
    },
    async teardown() {
      for (const d of dirs.splice(0)) d.cleanup();
    },
  };
}

export function redisBackend(): StoreBackend {
  let server: Promise<TestRedis> | undefined;
  return {
    name: 'Redis',
    async open() {
      server ??= startRedis();
      const s = await server;
      await s.flush();
      return openKvStore(s.url, silentLogger);
    },
    async teardown() {
      await (await server?.catch(() => undefined))?.stop();
    },
  };
}

/** Run `fn` on a fresh store of this backend, closing it afterwards whatever happens. */
export async function withStore<T>(backend: StoreBackend, fn: (store: KvStore) => Promise<T>): Promise<T> {
  const store = await backend.open();
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
