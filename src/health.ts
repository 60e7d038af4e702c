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
export async function healthReport(d: HealthDeps): Promise<HealthReport> {
  const [store, gateway] = await Promise.all([withTimeout(d.store.check(), d.storeTimeoutMs ?? 2000, false), Promise.resolve(gatewayConnected(d.client))]);
  return { ok: store && gateway, checks: { gateway, store, upstream: d.circuits(), inFlightJobs: d.inFlightJobs() } };
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
