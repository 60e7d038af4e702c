import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeChannel, FakeGuild, FakeInteraction } from '../fakes/discord/index.js';
import { ALL_PERMISSIONS } from '../fakes/discord/index.js';
import { BotProcess } from '../support/botProcess.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { World } from '../support/world.js';

/**
 * One server's fair queue shared by two bot processes on one Redis store (one gateway shard each, as in
 * multiProcess.test.ts). The server lives on shard 1 (process B); DMs reach shard 0 (process A), and DM commands follow
 * the server's rules (its home server), so jobs of the same queue are entered through both processes. A waiting job is
 * started by the process that holds it — when a job of the other process ends, by its own look at the queues every
 * couple of seconds — and a killed process's waiting jobs are adopted (LEASE_TTL_MS=3000) and started by the other.
 */
describe("one server's fair queue across two processes", () => {
  let redis: TestRedis;
  let world: World;
  let guild: FakeGuild;
  let art: FakeChannel;
  let a: BotProcess; // shard 0: DMs
  let b: BotProcess; // shard 1: the server
  const bots: BotProcess[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    world = await World.fakesOnly({ storeUrl: redis.url, proxy: { stepMs: 150 } });
    const { discord } = world;
    guild = discord.addGuild({ name: 'guild on shard 1', onShard: [1, 2] });
    for (const u of [discord.alice, discord.bob, discord.owner]) discord.addMember(guild.id, u.id);
    art = discord.addChannel(guild.id, { name: 'art' });
    const env = (shard: number) => ({
      ...world.env(),
      LOG_LEVEL: 'info',
      SHARD_ID: String(shard),
      SHARD_COUNT: '2',
      LEASE_TTL_MS: '3000',
      DISCORD_GUILD_ID: guild.id, // the home server whose rules (and queue) DM commands follow
      DISCORD_ALLOWED_GUILDS: guild.id,
      DISCORD_DM_COMMANDS: 'on',
    });
    [a, b] = await Promise.all([BotProcess.start(env(0)), BotProcess.start(env(1))]);
    bots.push(a, b);
    const limits = discord.slash({
      name: 'admin',
      subcommand: 'limits',
      options: { 'server-running': 1, queued: 5 } as never,
      user: discord.owner,
      guildId: guild.id,
      channelId: art.id,
      permissions: ALL_PERMISSIONS,
    });
    await discord.waitFor(() => limits.original()?.content || undefined, { timeoutMs: 10_000 });
  }, 45_000);

  afterAll(async () => {
    for (const p of bots) await p.close();
    await world?.close();
    await redis?.stop();
  });

  const inServer = (prompt: string, user = world.discord.alice) =>
    world.discord.slash({ name: 'imagine', options: { prompt }, guildId: guild.id, channelId: art.id, user });
  const inDm = (prompt: string, user = world.discord.bob) => world.discord.slash({ name: 'imagine', options: { prompt }, guildId: null, user });
  const replyOf = (ix: FakeInteraction) => world.discord.waitFor(() => ix.original()?.content || undefined, { timeoutMs: 10_000 });
  const jobIdOf = (reply: string) => /`([^`]+)`/.exec(reply)![1]!;
  const resultsFor = (tag: string) => world.discord.allMessages().filter((m) => !m.deleted && m.attachments.length > 0 && m.content.includes(`**${tag} --v`));
  const sent = (tag: string) => world.proxy.requestsTo('/submit/imagine').filter((r) => String((r.body as { prompt: string }).prompt) === tag);
  const taskOf = (tag: string) => [...world.proxy.tasks.values()].find((t) => t.prompt === tag)!;
  const startedBy = (p: BotProcess, jobId: string) => p.lines.some((l) => l.includes("a waiting job's turn") && l.includes(jobId));

  it('with a cap of 1 and jobs entered through both: one runs at a time, each is delivered once, and each process starts its own when the other’s job ends', async () => {
    const first = inServer('shared slot s1'); // through B: runs
    await world.discord.waitFor(() => sent('shared slot s1').length === 1 || undefined);
    // through A, B, A, one after the other (their order in the queue): they wait
    const replies: string[] = [];
    for (const enter of [() => inDm('shared slot d1'), () => inServer('shared slot s2'), () => inDm('shared slot d2')]) replies.push(await replyOf(enter()));
    for (const r of replies) expect(r).toContain('is queued');
    expect(await replyOf(first)).toContain('accepted');
    const [d1, s2, d2] = replies.map(jobIdOf) as [string, string, string];

    const tags = ['shared slot s1', 'shared slot d1', 'shared slot s2', 'shared slot d2'];
    await world.discord.waitFor(() => tags.every((t) => resultsFor(t).length >= 1), { timeoutMs: 40_000 });
    await new Promise((r) => setTimeout(r, 1000)); // a second delivery or submit, if any, would land by now
    for (const t of tags) {
      expect(resultsFor(t), t).toHaveLength(1);
      expect(sent(t), t).toHaveLength(1);
    }
    // round-robin across members: Bob (nothing run yet) before Alice's second, and never two at once
    const order = [...tags].sort((x, y) => taskOf(x).submitTime! - taskOf(y).submitTime!);
    expect(order).toEqual(tags);
    for (let i = 1; i < order.length; i++) expect(taskOf(order[i]!).submitTime!).toBeGreaterThanOrEqual(taskOf(order[i - 1]!).finishTime!);
    // each waiting job was sent by the process that held it, after a job of the other process ended
    expect([startedBy(a, d1), startedBy(b, d1)]).toEqual([true, false]);
    expect([startedBy(a, s2), startedBy(b, s2)]).toEqual([false, true]);
    expect([startedBy(a, d2), startedBy(b, d2)]).toEqual([true, false]);
  }, 60_000);

  it('kill -9 of the process holding a waiting job: the other adopts it and starts it when the slot frees, once', async () => {
    const { proxy } = world;
    let orphan = '';
    proxy.pause(); // the running job holds the slot until the waiting one has been adopted
    try {
      inServer('slot holder'); // through B: runs
      await world.discord.waitFor(() => sent('slot holder').length === 1 || undefined);
      orphan = jobIdOf(await replyOf(inDm('orphaned waiter'))); // through A: waits, held by A
      expect(sent('orphaned waiter')).toEqual([]);

      a.kill('SIGKILL');
      expect((await a.exit()).signal).toBe('SIGKILL');
      await world.discord.waitFor(() => b.lines.some((l) => l.includes('adopted a job whose owner went away') && l.includes(orphan)) || undefined, {
        timeoutMs: 15_000,
      });
      expect(sent('orphaned waiter')).toEqual([]); // adopted, still waiting for the slot
    } finally {
      proxy.resume();
    }
    await world.discord.waitFor(() => ['slot holder', 'orphaned waiter'].every((t) => resultsFor(t).length >= 1), { timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 1000));
    for (const t of ['slot holder', 'orphaned waiter']) {
      expect(resultsFor(t), t).toHaveLength(1);
      expect(sent(t), t).toHaveLength(1);
    }
    expect(taskOf('orphaned waiter').submitTime!).toBeGreaterThanOrEqual(taskOf('slot holder').finishTime!);
    expect(startedBy(b, orphan)).toBe(true); // the survivor sent it
  }, 60_000);
});
