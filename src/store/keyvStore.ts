import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Keyv, type KeyvStoreAdapter } from 'keyv';
import type { Logger } from '../log.js';

/**
 * Opens the key-value store behind STORE_URL. Each namespace gets its own Keyv and adapter:
 * keyv 5 writes the namespace onto the adapter, so one adapter must not be shared between namespaces.
 * All adapters point at the same database (one SQLite file, one Redis, one Postgres).
 */
export interface KvStore {
  readonly kind: 'sqlite' | 'redis' | 'postgres';
  namespace(name: string): Keyv;
  /** every entry of a namespace (used at start to find unfinished jobs); bounded by what the namespace holds */
  entries<T>(name: string): AsyncGenerator<[string, T]>;
  /** write and read back a probe key: true when the store works */
  check(): Promise<boolean>;
  close(): Promise<void>;
}

type AdapterFactory = () => Promise<KeyvStoreAdapter>;

export async function openKvStore(url: string, logger: Logger): Promise<KvStore> {
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
  }

  return {
    kind,
    namespace,
    async *entries<T>(name: string): AsyncGenerator<[string, T]> {
      const kv = namespace(name);
      if (!kv.iterator) throw new Error(`the ${kind} store cannot list entries`);
      for await (const [key, value] of kv.iterator(undefined) as AsyncGenerator<[string, T]>) {
        yield [key.startsWith(`${name}:`) ? key.slice(name.length + 1) : key, value];
      }
    },
    async check() {
      try {
        const kv = namespace('meta');
        const probe = `probe-${process.pid}-${Date.now()}`;
        await kv.set('healthcheck', probe);
        return (await kv.get('healthcheck')) === probe;
      } catch {
        return false;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const kv of spaces.values()) await kv.disconnect().catch(() => undefined);
    },
  };
}

/** Every namespace the bot uses; opened up front so a misconfigured store fails at start, not on first use. */
export const STORE_NAMESPACES = ['jobs', 'upstream', 'inflight', 'buttons', 'users', 'guilds', 'meta', 'locks'] as const;
export type StoreNamespace = (typeof STORE_NAMESPACES)[number];
