import { Status, type Client } from 'discord.js';
import { afterAll, describe, expect, it } from 'vitest';
import { createHealthCheck, gatewayConnected, healthReport, STORE_CHECK_TTL_MS } from '../../src/health.js';
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

  it("the app's check probes the store (a write) at most once per STORE_CHECK_TTL_MS, however many ask; the gateway is read fresh", async () => {
    const real = await openKvStore(`sqlite://${dir.dir}/cached.sqlite`, silentLogger);
    try {
      let probes = 0;
      let healthy = true;
      const store = { ...real, check: async () => (probes++, healthy && (await real.check())) } as KvStore;
      let clock = 1_000_000;
      const shards = new Map([[0, { status: Status.Ready }]]);
      const client = { ws: { status: Status.Ready, shards } } as unknown as Client;
      const health = createHealthCheck({ client, store, circuits: () => ({}), inFlightJobs: () => 0, now: () => clock });

      const burst = await Promise.all(Array.from({ length: 20 }, () => health()));
      expect(burst.every((r) => r.ok && r.checks.store)).toBe(true);
      expect(probes).toBe(1);
      clock += STORE_CHECK_TTL_MS - 1;
      shards.set(0, { status: Status.Resuming });
      expect(await health()).toMatchObject({ ok: false, checks: { gateway: false, store: true } });
      expect(probes).toBe(1);
      // past the TTL the store is probed again, and a failure is seen
      healthy = false;
      clock += 1;
      expect((await health()).checks.store).toBe(false);
      expect(probes).toBe(2);
    } finally {
      await real.close();
    }
  });

  it('a hung store check reads as unhealthy, and the next check after the TTL starts afresh', async () => {
    let clock = 0;
    let hang = true;
    const store = { check: () => (hang ? new Promise<boolean>(() => undefined) : Promise.resolve(true)) } as unknown as KvStore;
    const health = createHealthCheck({
      client: clientWithShards(Status.Ready),
      store,
      circuits: () => ({}),
      inFlightJobs: () => 0,
      storeTimeoutMs: 50,
      now: () => clock,
    });
    expect((await health()).checks.store).toBe(false);
    hang = false;
    clock += STORE_CHECK_TTL_MS;
    expect((await health()).checks.store).toBe(true);
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
