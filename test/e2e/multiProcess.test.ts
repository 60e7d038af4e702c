import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeChannel, FakeGuild, FakeMessage } from '../fakes/discord/index.js';
import { BotProcess } from '../support/botProcess.js';
import { button, waitForResult } from '../support/discordHelpers.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { createLogger } from '../../src/log.js';
import { connectRedis } from '../../src/store/redis.js';
import { freePort } from '../support/tmp.js';
import { World } from '../support/world.js';

/**
 * Two bot processes, one Redis store, two gateway shards (SHARD_ID 0 and 1 of 2): each guild's interactions reach
 * one process, DMs reach shard 0. Jobs are polled and delivered by the process holding their lease; a killed
 * process's jobs are adopted by the other once its leases expire (LEASE_TTL_MS=3000 here).
 * The proxy's callbacks all go to process B (PUBLIC_URL) and jobs are polled only every 60 s otherwise, so process
 * A's jobs finish in time only if B relays their callbacks to A.
 */
describe('two processes on one Redis store (one shard each)', () => {
  let redis: TestRedis;
  let world: World;
  const bots: BotProcess[] = [];
  let a: BotProcess; // shard 0
  let b: BotProcess; // shard 1
  let guildA: FakeGuild;
  let guildB: FakeGuild;
  let chanA: FakeChannel;
  let chanB: FakeChannel;

  let portB = 0;
  async function bot(shard: number, extra: Record<string, string> = {}): Promise<BotProcess> {
    const env = {
      LOG_LEVEL: 'info',
      SHARD_ID: String(shard),
      SHARD_COUNT: '2',
      LEASE_TTL_MS: '3000',
      PUBLIC_URL: `http://127.0.0.1:${portB}`,
      WEBHOOK_SAFETY_POLL_MS: '60000',
      DISCORD_ALLOWED_GUILDS: [world.discord.guild.id, guildA.id, guildB.id].join(','),
    };
    const p = await BotProcess.start({ ...world.env(), ...env, HTTP_PORT: shard === 1 ? String(portB) : '0', ...extra });
    bots.push(p);
    return p;
  }

  beforeAll(async () => {
    redis = await startRedis();
    world = await World.fakesOnly({ storeUrl: redis.url, proxy: { stepMs: 250, maxConcurrent: 20 } });
    const { discord } = world;
    guildA = discord.addGuild({ name: 'guild on shard 0', onShard: [0, 2] });
    guildB = discord.addGuild({ name: 'guild on shard 1', onShard: [1, 2] });
    for (const g of [guildA, guildB]) for (const u of [discord.alice, discord.bob]) discord.addMember(g.id, u.id);
    chanA = discord.addChannel(guildA.id, { name: 'art-a' });
    chanB = discord.addChannel(guildB.id, { name: 'art-b' });
    portB = await freePort();
    [a, b] = await Promise.all([bot(0), bot(1)]);
  }, 45_000);

  afterAll(async () => {
    for (const p of bots) await p.close();
    await world?.close();
    await redis?.stop();
  });

  const resultsFor = (tag: string) =>
    world.discord.allMessages().filter((m) => !m.deleted && m.attachments.length > 0 && m.content.includes(`**${tag} --v 7**`));
  /** result posts Discord received for a job's messages (a re-sent post would show here even though its nonce de-duplicates it) */
  const postsFor = (tag: string) =>
    world.discord.calls.filter(
      (c) =>
        c.method === 'POST' &&
        (c.route === 'POST /channels/:id/messages' || c.route === 'POST /webhooks/:id/:token') && // a channel post or a follow-up
        JSON.stringify(c.body ?? '').includes(`**${tag} --v 7**`) &&
        c.files.length > 0,
    );

  async function metric(p: BotProcess, name: string): Promise<number> {
    const port = Number(/"httpPort":(\d+)/.exec(p.lines.find((l) => l.includes('mj-relay is ready')) ?? '')?.[1]);
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return text
      .split('\n')
      .filter((l) => l.startsWith(name))
      .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  }

  it('each process runs its own shard and holds a distinct lease id', () => {
    const ready = (p: BotProcess) => JSON.parse(p.lines.find((l) => l.includes('mj-relay is ready'))!) as { shards: number[]; leaseOwner: string };
    expect(ready(a).shards).toEqual([0]);
    expect(ready(b).shards).toEqual([1]);
    expect(ready(a).leaseOwner).not.toBe(ready(b).leaseOwner);
  });

  it('jobs started through either process are each delivered exactly once', async () => {
    const { discord } = world;
    const tagsA = Array.from({ length: 6 }, (_, i) => `shard zero job ${i}`);
    const tagsB = Array.from({ length: 6 }, (_, i) => `shard one job ${i}`);
    const before = { a: await metric(a, 'mjrelay_interactions_total'), b: await metric(b, 'mjrelay_interactions_total') };
    const slashes = [
      ...tagsA.map((tag, i) =>
        discord.slash({ name: 'imagine', options: { prompt: tag }, guildId: guildA.id, channelId: chanA.id, user: i % 2 ? discord.bob : discord.alice }),
      ),
      ...tagsB.map((tag, i) =>
        discord.slash({ name: 'imagine', options: { prompt: tag }, guildId: guildB.id, channelId: chanB.id, user: i % 2 ? discord.bob : discord.alice }),
      ),
    ];
    await discord.waitFor(() => [...tagsA, ...tagsB].every((t) => resultsFor(t).length >= 1), { timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 1500)); // a second delivery, if any, would land by now
    for (const t of tagsA)
      expect(
        resultsFor(t).map((m) => m.channel_id),
        t,
      ).toEqual([chanA.id]);
    for (const t of tagsB)
      expect(
        resultsFor(t).map((m) => m.channel_id),
        t,
      ).toEqual([chanB.id]);
    for (const t of [...tagsA, ...tagsB]) expect(postsFor(t), t).toHaveLength(1); // posted once, not de-duplicated by the nonce
    for (const ix of slashes)
      expect(
        ix.callbacks.filter((c) => c.accepted),
        `interaction ${ix.id}`,
      ).toHaveLength(1);
    // every callback went to B; A's jobs were finished by callbacks B relayed (A's own polls are 60 s apart)
    const hooked = world.proxy.notifications.filter((n) => tagsA.some((t) => String((n.body as { prompt?: string }).prompt ?? '').includes(t)));
    expect(hooked.length).toBeGreaterThan(0);
    expect(hooked.every((n) => n.url.startsWith(`http://127.0.0.1:${portB}/hooks/mj/`) && n.httpStatus === 200)).toBe(true);
    // each process handled its own guild's commands
    expect((await metric(a, 'mjrelay_interactions_total')) - before.a).toBe(6);
    expect((await metric(b, 'mjrelay_interactions_total')) - before.b).toBe(6);
  }, 45_000);

  it('a button on a result one process posted works when the press reaches the other', async () => {
    const { discord, proxy } = world;
    // a guild on shard 1 → process B runs the job and posts the result by DM; a press in a DM reaches shard 0 → process A
    discord.slash({
      name: 'imagine',
      options: { prompt: 'a lighthouse at dusk', delivery: 'dm' },
      guildId: guildB.id,
      channelId: chanB.id,
      user: discord.alice,
    });
    const dm = discord.dmChannelOf(discord.alice.id);
    const result = await waitForResult(discord, dm.id, { match: (m) => m.content.includes('lighthouse at dusk'), timeoutMs: 20_000 });
    const buttonsBefore = {
      a: await metric(a, 'mjrelay_interactions_total{command="component'),
      b: await metric(b, 'mjrelay_interactions_total{command="component'),
    };
    const task = [...proxy.tasks.values()].find((t) => t.prompt === 'a lighthouse at dusk')!;
    const u2 = task.buttons!.find((x) => x.label === 'U2')!;

    const click = discord.clickButton({ messageId: result.id, customId: button(result, 'U2').customId, user: discord.alice });
    expect((await click.firstCallback()).accepted).toBe(true);
    const upscale = await waitForResult(discord, dm.id, {
      match: (m: FakeMessage) => m.content.includes('lighthouse at dusk') && m.content.includes('Image #2'),
      timeoutMs: 20_000,
    });
    expect(upscale.attachments).toHaveLength(1);
    const actions = proxy.requestsTo('/submit/action').filter((r) => (r.body as { taskId: string }).taskId === task.id);
    expect(actions.map((r) => (r.body as { customId: string }).customId)).toEqual([u2.customId]);
    expect((await metric(a, 'mjrelay_interactions_total{command="component')) - buttonsBefore.a).toBe(1); // process A took the press
    expect((await metric(b, 'mjrelay_interactions_total{command="component')) - buttonsBefore.b).toBe(0);
  }, 45_000);

  it('kill -9 of one process with jobs in flight: the other adopts them and delivers each exactly once', async () => {
    const { discord, proxy } = world;
    const tags = Array.from({ length: 6 }, (_, i) => `orphaned job ${i}`);
    const own = Array.from({ length: 2 }, (_, i) => `survivor job ${i}`);
    proxy.setOptions({ stepMs: 600 });
    tags.forEach((tag) => discord.slash({ name: 'imagine', options: { prompt: tag }, guildId: guildA.id, channelId: chanA.id, user: discord.alice }));
    own.forEach((tag) => discord.slash({ name: 'imagine', options: { prompt: tag }, guildId: guildB.id, channelId: chanB.id, user: discord.bob }));
    await discord.waitFor(() => tags.every((t) => [...proxy.tasks.values()].some((k) => k.prompt === t)), { timeoutMs: 15_000 });
    expect(tags.some((t) => resultsFor(t).length > 0)).toBe(false); // still in flight

    a.kill('SIGKILL');
    expect((await a.exit()).signal).toBe('SIGKILL');
    await discord.waitFor(() => [...tags, ...own].every((t) => resultsFor(t).length >= 1), { timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 1500));
    for (const t of [...tags, ...own]) expect(resultsFor(t), t).toHaveLength(1);
    for (const t of tags) expect(postsFor(t), t).toHaveLength(1);
    const adopted = b.lines.filter((l) => l.includes('adopted a job whose owner went away'));
    expect(adopted.length).toBe(tags.length);
  }, 60_000);

  it("SIGTERM hands a process's jobs over at once (its leases are released, not left to expire)", async () => {
    const { discord, proxy } = world;
    const a2 = await bot(0, { LEASE_TTL_MS: '30000' }); // shard 0 again, with leases that would outlive the test
    const tags = Array.from({ length: 3 }, (_, i) => `handed over job ${i}`);
    tags.forEach((tag) => discord.slash({ name: 'imagine', options: { prompt: tag }, guildId: guildA.id, channelId: chanA.id, user: discord.alice }));
    await discord.waitFor(() => tags.every((t) => [...proxy.tasks.values()].some((k) => k.prompt === t)), { timeoutMs: 15_000 });
    await discord.waitFor(() => tags.every((t) => world.discord.allMessages().some((m) => m.content.includes(t))), { timeoutMs: 10_000 }); // progress posted
    expect(tags.some((t) => resultsFor(t).length > 0)).toBe(false);

    a2.kill('SIGTERM');
    expect((await a2.exit()).code).toBe(0);
    await discord.waitFor(() => tags.every((t) => resultsFor(t).length >= 1), { timeoutMs: 15_000 }); // far less than the 30 s lease
    await new Promise((r) => setTimeout(r, 1000));
    for (const t of tags) expect(resultsFor(t), t).toHaveLength(1);
    expect(b.lines.filter((l) => l.includes('adopted a job whose owner went away')).length).toBe(6 + tags.length);
  }, 45_000);

  it("a killed process's jobs are adopted within LEASE_TTL_MS, even when it renewed its leases just before dying", async () => {
    const { discord, proxy } = world;
    const ttl = 3000;
    const a3 = await bot(0, { LEASE_TTL_MS: String(ttl) });
    const ownerOf = (p: BotProcess) => (JSON.parse(p.lines.find((l) => l.includes('mj-relay is ready'))!) as { leaseOwner: string }).leaseOwner;
    const client = await connectRedis(redis.url, createLogger({ level: 'silent' }));
    try {
      proxy.pause(); // every job stays in flight while the leases are watched
      const tags = Array.from({ length: 3 }, (_, i) => `timed adoption job ${i}`);
      tags.forEach((tag) => discord.slash({ name: 'imagine', options: { prompt: tag }, guildId: guildA.id, channelId: chanA.id, user: discord.alice }));
      discord.slash({ name: 'imagine', options: { prompt: 'timed adoption survivor' }, guildId: guildB.id, channelId: chanB.id, user: discord.bob });
      await discord.waitFor(() => [...tags, 'timed adoption survivor'].every((t) => [...proxy.tasks.values()].some((k) => k.prompt === t)), {
        timeoutMs: 15_000,
      });

      const leaseOf = async (owner: string) => {
        for (const key of await client.keys('mj-relay:lease:job:*')) if ((await client.get(key)) === owner) return key;
        return undefined;
      };
      const keyA = await discord.waitFor(() => leaseOf(ownerOf(a3)), { timeoutMs: 5000 });
      const keyB = await discord.waitFor(() => leaseOf(ownerOf(b)), { timeoutMs: 5000 });
      // watch both leases for a while: how long one lives after a renewal, and how often B renews (and looks for orphans)
      const renewalsOfB: number[] = [];
      let longestLease = 0;
      let lastA = Infinity;
      let lastB = Infinity;
      for (const until = Date.now() + 2.5 * 1000; Date.now() < until;) {
        const [pa, pb] = [await client.pTTL(keyA), await client.pTTL(keyB)];
        longestLease = Math.max(longestLease, pa, pb);
        if (pb > lastB + 20) renewalsOfB.push(Date.now());
        lastA = pa;
        lastB = pb;
        await new Promise((r) => setTimeout(r, 10));
      }
      const gaps = renewalsOfB.slice(1).map((t, i) => t - renewalsOfB[i]!);
      const roundOfB = gaps.sort((x, y) => x - y)[Math.floor(gaps.length / 2)] ?? Infinity;
      // worst case: dying right after a renewal, the lease lapses after longestLease and B looks at most one round later
      expect(longestLease + roundOfB, `lease ${longestLease} ms + B's round ${roundOfB} ms`).toBeLessThanOrEqual(ttl + 60);

      // and measured: kill A right after it renewed its leases
      lastA = await client.pTTL(keyA);
      for (let i = 0; i < 500; i++) {
        const pa = await client.pTTL(keyA);
        if (pa > lastA + 20) break;
        lastA = pa;
        await new Promise((r) => setTimeout(r, 5));
      }
      const killedAt = Date.now();
      a3.kill('SIGKILL');
      await a3.exit();
      const adoptedAt = () =>
        b.lines
          .filter((l) => l.includes('adopted a job whose owner went away'))
          .map((l) => (JSON.parse(l) as { time: number }).time)
          .filter((t) => t >= killedAt);
      await discord.waitFor(() => adoptedAt().length >= tags.length, { timeoutMs: 3 * ttl });
      expect(Math.max(...adoptedAt()) - killedAt).toBeLessThanOrEqual(ttl + 300); // 300 ms for a busy machine's timers

      proxy.resume();
      await discord.waitFor(() => tags.every((t) => resultsFor(t).length >= 1), { timeoutMs: 20_000 });
      for (const t of tags) expect(resultsFor(t), t).toHaveLength(1);
    } finally {
      proxy.resume();
      client.destroy();
    }
  }, 60_000);
});
