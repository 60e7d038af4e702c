import { Status, type Client } from 'discord.js';
import type { KvStore } from './store/keyvStore.js';

export interface HealthDeps {
  client: Client;
  store: KvStore;
  /** circuit state per upstream name */
  circuits(): Record<string, string>;
  inFlightJobs(): number;
  /** bound on the store probe (default 2 s): a hung store must not hang /healthz */
  storeTimeoutMs?: number;
}

export interface HealthReport {
  ok: boolean;
  checks: { gateway: boolean; store: boolean; upstream: Record<string, string>; inFlightJobs: number };
}

/**
 * Every shard connected and ready. discord.js keeps the manager's own status at Ready after the first READY,
 * so the shards are what tell a lost gateway (they go back to Connecting / Resuming / Disconnected).
 */
export function gatewayConnected(client: Client): boolean {
  const shards = [...client.ws.shards.values()];
  return shards.length > 0 && shards.every((s) => s.status === Status.Ready);
}

/** What /healthz answers: healthy while the gateway is up and the store works; upstream circuits are reported, not judged. */
export async function healthReport(d: HealthDeps, storeCheck: () => Promise<boolean> = () => probeStore(d)): Promise<HealthReport> {
  const [store, gateway] = await Promise.all([storeCheck(), Promise.resolve(gatewayConnected(d.client))]);
  return { ok: store && gateway, checks: { gateway, store, upstream: d.circuits(), inFlightJobs: d.inFlightJobs() } };
}

/** How long one store check's answer is reused: the store probe writes, and /healthz is open to anyone who can reach it. */
export const STORE_CHECK_TTL_MS = 5_000;

/**
 * /healthz for the app: the gateway and circuits are read fresh on every call, the store check (a write and a
 * read) at most once per `storeCheckTtlMs`; callers arriving while one runs share it. A hung store reads as
 * unhealthy after `storeTimeoutMs`, and that answer is reused like any other, so the next check starts afresh.
 */
export function createHealthCheck(d: HealthDeps & { storeCheckTtlMs?: number; now?: () => number }): () => Promise<HealthReport> {
  const storeCheck = reusedFor(d.storeCheckTtlMs ?? STORE_CHECK_TTL_MS, () => probeStore(d), d.now ?? Date.now);
  return () => healthReport(d, storeCheck);
}

function probeStore(d: HealthDeps): Promise<boolean> {
  return withTimeout(d.store.check(), d.storeTimeoutMs ?? 2000, false);
}

/** `run`'s answer, reused until `ttlMs` after it settled; one run at a time. */
function reusedFor<T>(ttlMs: number, run: () => Promise<T>, now: () => number): () => Promise<T> {
  let last: { value: T; at: number } | undefined;
  let running: Promise<T> | undefined;
  return () => {
    if (last && now() - last.at < ttlMs) return Promise.resolve(last.value);
    running ??= run()
      .then((value) => {
        last = { value, at: now() };
        return value;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
}

async function withTimeout<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  try {
    return await Promise.race([p.catch(() => fallback), late]);
  } finally {
    clearTimeout(timer);
  }
}
