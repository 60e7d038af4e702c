import { createClient } from '@keyv/redis';
import type { Logger } from '../log.js';

/**
 * The raw Redis connection beside keyv's, for what a key-value API cannot say atomically:
 * "set if absent" (button presses, job leases) and "extend / delete only if still mine".
 * The client is the one @keyv/redis is built on (@redis/client), so there is no second Redis library.
 */
export type RedisClient = ReturnType<typeof newClient>;

function newClient(url: string) {
  return createClient({
    url,
    socket: { connectTimeout: 10_000, reconnectStrategy: (attempt: number) => Math.min(2 ** attempt * 100, 2000) },
  });
}

/**
 * Connect to STORE_URL: fails when Redis does not answer within `timeoutMs` at start (a wrong URL should stop the bot,
 * not hang it). Later connection errors are logged (at most every 10 s) and commands wait while it reconnects.
 */
export async function connectRedis(url: string, logger: Logger, timeoutMs = 10_000): Promise<RedisClient> {
  const client = newClient(url);
  let loggedAt = 0;
  client.on('error', (err: unknown) => {
    if (Date.now() - loggedAt < 10_000) return;
    loggedAt = Date.now();
    logger.warn({ err }, 'redis connection error');
  });
  const connecting = client.connect();
  connecting.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), timeoutMs);
  });
  const outcome = await Promise.race([connecting, late]).finally(() => clearTimeout(timer));
  if (outcome === 'late') {
    client.destroy();
    throw new Error(`Redis did not answer within ${Math.round(timeoutMs / 1000)} s: check STORE_URL and that Redis is running`);
  }
  return client;
}

/** KEYS = names, ARGV[1] = holder, ARGV[2] = ttl ms: extend every name still held by ARGV[1]; returns the 1-based indexes of the others. */
const EXTEND_IF_HELD = `
local lost = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
  else
    table.insert(lost, i)
  end
end
return lost`;

/** KEYS[1] = name, ARGV[1] = holder: delete the name only while ARGV[1] holds it. */
const DELETE_IF_HELD = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/** SET name holder NX PX ttl: true when the name was free and is now held by `holder`. */
export async function setIfAbsent(client: RedisClient, name: string, holder: string, ttlMs: number): Promise<boolean> {
  const reply = await client.set(name, holder, { condition: 'NX', expiration: { type: 'PX', value: Math.max(1, Math.round(ttlMs)) } });
  return reply === 'OK';
}

/** Extend the names `holder` still holds (one atomic script); returns the names it does not hold (any more). */
export async function extendIfHeld(client: RedisClient, names: string[], holder: string, ttlMs: number): Promise<string[]> {
  if (names.length === 0) return [];
  const reply = (await client.eval(EXTEND_IF_HELD, { keys: names, arguments: [holder, String(Math.max(1, Math.round(ttlMs)))] })) as number[];
  return reply.map((i) => names[i - 1]).filter((n): n is string => n !== undefined);
}

/** Delete `name` if `holder` still holds it; true when it did. */
export async function deleteIfHeld(client: RedisClient, name: string, holder: string): Promise<boolean> {
  return Number(await client.eval(DELETE_IF_HELD, { keys: [name], arguments: [holder] })) === 1;
}
