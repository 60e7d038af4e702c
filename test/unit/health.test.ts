import { Status, type Client } from 'discord.js';
import { afterAll, describe, expect, it } from 'vitest';
import { gatewayConnected, healthReport } from '../../src/health.js';
import { openKvStore, type KvStore } from '../../src/store/keyvStore.js';
import { silentLogger, tempDir } from '../support/tmp.js';

/** Just what health reads from a discord.js Client: its shards' statuses. */
function clientWithShards(...statuses: Status[]): Client {
  return { ws: { status: Status.Ready, shards: new Map(statuses.map((s, i) => [i, { status: s }])) } } as unknown as Client;
}

const dir = tempDir('mj-relay-health-');
afterAll(() => dir.cleanup());

describe('health', () => {
  it('the gateway counts as connected only while every shard is ready (the manager stays Ready after the first READY)', () => {
    expect(gatewayConnected(clientWithShards(Status.Ready))).toBe(true);
    expect(gatewayConnected(clientWithShards(Status.Ready, Status.Ready))).toBe(true);
    expect(gatewayConnected(clientWithShards(Status.Ready, Status.Connecting))).toBe(false);
    expect(gatewayConnected(clientWithShards(Status.Resuming))).toBe(false);
    expect(gatewayConnected(clientWithShards())).toBe(false);
  });

  it('reports gateway, store and upstream circuits; a hung store is unhealthy, not a hung /healthz', async () => {
    const store = await openKvStore(`sqlite://${dir.dir}/a.sqlite`, silentLogger);
    try {
      const circuits = () => ({ 'mj-proxy': 'open' });
      expect(await healthReport({ client: clientWithShards(Status.Ready), store, circuits, inFlightJobs: () => 2 })).toEqual({
        ok: true,
        checks: { gateway: true, store: true, upstream: { 'mj-proxy': 'open' }, inFlightJobs: 2 },
      });
      const hung = { ...store, check: () => new Promise<boolean>(() => undefined) } as KvStore;
      const started = Date.now();
      const r = await healthReport({ client: clientWithShards(Status.Ready), store: hung, circuits, inFlightJobs: () => 0, storeTimeoutMs: 100 });
      expect(r).toMatchObject({ ok: false, checks: { store: false, gateway: true } });
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await store.close();
    }
  });

  it('store checks running at once on one database (two processes, the doctor) do not fail each other', async () => {
    const url = `sqlite://${dir.dir}/shared.sqlite`;
    const a = await openKvStore(url, silentLogger);
    const b = await openKvStore(url, silentLogger);
    try {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).check()));
      expect(results.every(Boolean)).toBe(true);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
