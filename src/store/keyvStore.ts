import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Keyv, type KeyvStoreAdapter } from 'keyv';
import type { Logger } from '../log.js';
import { keyvLocks, redisLocks, type Locks } from './locks.js';
import { connectRedis, type RedisClient } from './redis.js';

/**
 * Opens the key-value store behind STORE_URL. Each namespace gets its own Keyv and adapter:
 * keyv 5 writes the namespace onto the adapter, so one adapter must not be shared between namespaces.
 * All adapters point at the same database (one SQLite file, one Redis, one Postgres).
 */
export interface KvStore {
  readonly kind: 'sqlite' | 'redis' | 'postgres';
  namespace(name: string): Keyv;
  /**
   * The keys of a namespace, a page of at most `pageSize` at a time, each key once: only keys are read, so listing
   * a large namespace holds one page, never the whole namespace. SQLite/Postgres may list an entry whose TTL has
   * passed but that was not swept yet; callers read the values they need (and get nothing for such a key).
   */
  keyPages(name: string, pageSize?: number): AsyncGenerator<string[]>;
  /** every live entry of a namespace, read a page at a time (see keyPages) */
  entries<T>(name: string): AsyncGenerator<[string, T]>;
  /** write and read back a probe key: true when the store works */
  check(): Promise<boolean>;
  /**
   * Delete entries whose TTL has passed, in batches (SQLite and Postgres keep them until read; Redis expires keys
   * itself, so there this does nothing). Returns how many were deleted; see retention.ts for the schedule.
   */
  sweepExpired(opts?: SweepOptions): Promise<number>;
  /**
   * Short exclusive holds (see locks.ts): atomic across processes on Redis (SET NX PX), within this process on
   * SQLite/Postgres, which serve one bot process.
   */
  tryLock: Locks['tryLock'];
  unlock: Locks['unlock'];
  /** the raw Redis connection (Redis stores only): job leases between processes (leases.ts) */
  readonly redis: RedisClient | undefined;
  close(): Promise<void>;
}

type AdapterFactory = () => Promise<KeyvStoreAdapter>;

export interface SweepOptions {
  /** entries that expired before this moment go (default: now) */
  now?: number;
  /** rows per DELETE statement (default 500): each statement holds the write lock only briefly */
  batchSize?: number;
  /** at most this many statements per sweep (default 200); the rest waits for the next sweep */
  maxBatches?: number;
}

/** What the SQL adapters offer beyond keyv's interface (their own query function and table options). */
interface SqlAdapter {
  query(sql: string, ...params: unknown[]): Promise<unknown[]>;
  opts?: { table?: string; schema?: string };
}

export async function openKvStore(url: string, logger: Logger, opts: { connectTimeoutMs?: number } = {}): Promise<KvStore> {
  const scheme = url.slice(0, url.indexOf('://'));
  let kind: KvStore['kind'];
  let factory: AdapterFactory;
  if (scheme === 'sqlite') {
    kind = 'sqlite';
    const file = url.slice('sqlite://'.length);
    if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
    const { KeyvSqlite } = await import('@keyv/sqlite');
    factory = async () => new KeyvSqlite({ uri: `sqlite://${file}`, busyTimeout: 10_000 }) as unknown as KeyvStoreAdapter;
  } else if (scheme === 'redis' || scheme === 'rediss') {
    kind = 'redis';
    const { default: KeyvRedis } = await import('@keyv/redis');
    factory = async () => new KeyvRedis(url) as unknown as KeyvStoreAdapter;
  } else {
    kind = 'postgres';
    const { KeyvPostgres } = await import('@keyv/postgres');
    factory = async () => new KeyvPostgres({ uri: url }) as unknown as KeyvStoreAdapter;
  }

  const spaces = new Map<string, Keyv>();
  const adapters: KeyvStoreAdapter[] = [];
  let closed = false;

  function namespace(name: string): Keyv {
    const existing = spaces.get(name);
    if (existing) return existing;
    throw new Error(`store namespace "${name}" was not opened`);
  }

  async function open(name: string): Promise<Keyv> {
    const adapter = await factory();
    adapters.push(adapter);
    const kv = new Keyv({ store: adapter, namespace: name, useKeyPrefix: true });
    kv.on('error', (err: unknown) => logger.error({ err, namespace: name }, 'store error'));
    spaces.set(name, kv);
    return kv;
  }

  for (const name of STORE_NAMESPACES) await open(name);
  if (kind === 'sqlite') {
    // write-ahead logging lets the per-namespace connections read while one writes
    const first = adapters[0] as unknown as { query?: (sql: string) => Promise<unknown> };
    await first.query?.('PRAGMA journal_mode=WAL').catch(() => undefined);
    // with WAL, NORMAL syncs at checkpoints instead of on every commit: a commit survives the process being killed
    // (kill -9, a crash) and is lost only to a power cut or an OS crash, and a burst's writes cost a third
    for (const adapter of adapters)
      await (adapter as unknown as { query?: (sql: string) => Promise<unknown> }).query?.('PRAGMA synchronous=NORMAL').catch(() => undefined);
  }
  const redis =
    kind === 'redis'
      ? await connectRedis(url, logger, opts.connectTimeoutMs).catch(async (err: unknown) => {
          for (const kv of spaces.values()) await kv.disconnect().catch(() => undefined);
          throw err;
        })
      : undefined;
  const locks = redis ? redisLocks(redis) : keyvLocks(namespace('locks'));

  function keyPages(name: string, pageSize = DEFAULT_KEY_PAGE): AsyncGenerator<string[]> {
    const size = Math.max(1, Math.floor(pageSize));
    if (redis) return redisKeyPages(redis, name, size);
    // the namespace's own connection (with `sqlite://:memory:` each connection is a database of its own)
    const sql = namespace(name).store as SqlAdapter;
    return kind === 'sqlite' ? sqliteKeyPages(sql, name, size) : postgresKeyPages(sql, name, size);
  }

  return {
    kind,
    namespace,
    redis,
    tryLock: (name, ttlMs) => locks.tryLock(name, ttlMs),
    unlock: (name, token) => locks.unlock(name, token),
    keyPages,
    async *entries<T>(name: string): AsyncGenerator<[string, T]> {
      const kv = namespace(name);
      for await (const keys of keyPages(name)) {
        const values = (await kv.get(keys)) as (T | undefined)[];
        for (const [i, key] of keys.entries()) {
          const value = values[i];
          if (value !== undefined) yield [key, value];
        }
      }
    },
    async sweepExpired(o: SweepOptions = {}) {
      if (kind === 'redis' || closed) return 0; // Redis: every key with a TTL carries it natively (PX)
      const now = Math.floor(o.now ?? Date.now());
      const batchSize = Math.max(1, Math.floor(o.batchSize ?? 500));
      const maxBatches = Math.max(1, Math.floor(o.maxBatches ?? 200));
      // every namespace shares one table; keyv stores `{"value":…,"expires":<ms>}` with the expiry as the last field
      const sql = adapters[0] as unknown as SqlAdapter;
      const table = sql.opts?.table ?? 'keyv';
      const statement =
        kind === 'sqlite'
          ? `DELETE FROM ${table} WHERE key IN (SELECT key FROM ${table} WHERE (CASE WHEN json_valid(value) THEN json_extract(value, '$.expires') END) < ? LIMIT ?) RETURNING key`
          : `DELETE FROM ${sql.opts?.schema ?? 'public'}.${table} WHERE key IN (SELECT key FROM ${sql.opts?.schema ?? 'public'}.${table} WHERE substring(value from ',"expires":([0-9]{1,16})}$')::bigint < $1 LIMIT $2) RETURNING key`;
      let deleted = 0;
      for (let i = 0; i < maxBatches; i++) {
        const rows = kind === 'sqlite' ? await sql.query(statement, now, batchSize) : await sql.query(statement, [now, batchSize]);
        const n = Array.isArray(rows) ? rows.length : 0;
        deleted += n;
        if (n < batchSize) break;
        await new Promise((r) => setImmediate(r)); // let other work in between batches
      }
      return deleted;
    },
    async check() {
      try {
        const kv = namespace('meta');
        // a key of its own, short-lived: concurrent checks (another process, the doctor) must not overwrite it
        const probe = `probe-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 10)}`;
        const key = `healthcheck:${probe}`;
        await kv.set(key, probe, 60_000);
        const ok = (await kv.get(key)) === probe;
        await kv.delete(key);
        return ok;
      } catch {
        return false;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const kv of spaces.values()) await kv.disconnect().catch(() => undefined);
      await redis?.close().catch(() => undefined);
    },
  };
}

/** Every namespace the bot uses; opened up front so a misconfigured store fails at start, not on first use. */
export const STORE_NAMESPACES = ['jobs', 'upstream', 'inflight', 'buttons', 'users', 'guilds', 'meta', 'locks'] as const;
export type StoreNamespace = (typeof STORE_NAMESPACES)[number];

/** Keys per page when listing a namespace (a page of ids is a few tens of kB). */
const DEFAULT_KEY_PAGE = 500;

/**
 * SQLite: keys are `<ns>:<key>` in one table whose primary key orders them bytewise, so a namespace is the range
 * [`<ns>:`, `<ns>;`) and each page starts after the last key of the one before (an index range scan, no OFFSET).
 */
async function* sqliteKeyPages(sql: SqlAdapter, name: string, pageSize: number): AsyncGenerator<string[]> {
  const table = sql.opts?.table ?? 'keyv';
  const prefix = `${name}:`;
  const end = `${name};`; // ';' is the character after ':'
  let after = prefix;
  for (;;) {
    const rows = (await sql.query(`SELECT key FROM ${table} WHERE key > ? AND key < ? ORDER BY key LIMIT ?`, after, end, pageSize)) as { key: string }[];
    if (rows.length === 0) return;
    after = rows[rows.length - 1]!.key;
    yield rows.map((r) => r.key.slice(prefix.length));
    if (rows.length < pageSize) return;
  }
}

/**
 * Postgres: the same keyset paging, with the namespace matched by its prefix (a database collation other than "C"
 * does not order `:` and `;` bytewise, so no range bound is derived from them; paging only needs ORDER BY and >
 * to agree, which they do under any collation).
 */
async function* postgresKeyPages(sql: SqlAdapter, name: string, pageSize: number): AsyncGenerator<string[]> {
  const table = `${sql.opts?.schema ?? 'public'}.${sql.opts?.table ?? 'keyv'}`;
  const prefix = `${name}:`;
  let after: string | null = null;
  for (;;) {
    const rows = (await sql.query(`SELECT key FROM ${table} WHERE starts_with(key, $1) AND ($2::text IS NULL OR key > $2) ORDER BY key LIMIT $3`, [
      prefix,
      after,
      pageSize,
    ])) as { key: string }[];
    if (rows.length === 0) return;
    after = rows[rows.length - 1]!.key;
    yield rows.map((r) => r.key.slice(prefix.length));
    if (rows.length < pageSize) return;
  }
}

/**
 * Redis: SCAN over the namespace's keys (`<ns>::<ns>:<key>`), re-cut into pages of pageSize (COUNT is only a hint).
 * SCAN may return a key twice; the keys already listed are remembered (the ids alone) so that each comes once.
 */
async function* redisKeyPages(redis: RedisClient, name: string, pageSize: number): AsyncGenerator<string[]> {
  const prefix = `${name}::${name}:`;
  const seen = new Set<string>();
  let page: string[] = [];
  for await (const batch of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: Math.max(pageSize, 100) })) {
    for (const raw of batch) {
      const key = String(raw).slice(prefix.length);
      if (seen.has(key)) continue;
      seen.add(key);
      page.push(key);
      if (page.length === pageSize) {
        yield page;
        page = [];
      }
    }
  }
  if (page.length > 0) yield page;
}
