import { randomBytes } from 'node:crypto';
import type { Keyv } from 'keyv';
import { deleteIfHeld, setIfAbsent, type RedisClient } from './redis.js';

/**
 * Short exclusive holds on a name (a button press, a read-modify-write of one record).
 * `tryLock` answers a token when the name was free and is now held for `ttlMs`, undefined when someone holds it.
 */
export interface Locks {
  tryLock(name: string, ttlMs: number): Promise<string | undefined>;
  /** free the name; with a token, only while that token still holds it */
  unlock(name: string, token?: string): Promise<void>;
}

const newToken = () => randomBytes(9).toString('base64url');

/** Redis: SET NX PX, atomic across every process on the same Redis. Keys: `mj-relay:lock:<name>`. */
export function redisLocks(client: RedisClient): Locks {
  const key = (name: string) => `mj-relay:lock:${name}`;
  return {
    async tryLock(name, ttlMs) {
      const token = newToken();
      return (await setIfAbsent(client, key(name), token, ttlMs)) ? token : undefined;
    },
    async unlock(name, token) {
      if (token === undefined) await client.del(key(name));
      else await deleteIfHeld(client, key(name), token);
    },
  };
}

/**
 * SQLite / Postgres: a check-then-set in the `locks` namespace, serialised per name inside this process.
 * Atomic among this process's callers; these stores are for one bot process (several processes need Redis).
 */
export function keyvLocks(kv: Keyv): Locks {
  const tails = new Map<string, Promise<unknown>>();
  function serial<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const next = (tails.get(name) ?? Promise.resolve()).then(fn, fn);
    const tail = next.catch(() => undefined);
    tails.set(name, tail);
    void tail.then(() => {
      if (tails.get(name) === tail) tails.delete(name);
    });
    return next;
  }
  return {
    tryLock: (name, ttlMs) =>
      serial(name, async () => {
        if ((await kv.get(name)) !== undefined) return undefined;
        const token = newToken();
        await kv.set(name, token, Math.max(1, Math.round(ttlMs)));
        return token;
      }),
    unlock: (name, token) =>
      serial(name, async () => {
        if (token === undefined || (await kv.get(name)) === token) await kv.delete(name);
      }),
  };
}
