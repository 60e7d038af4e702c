import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeChannel, FakeGuild, FakeInteraction } from '../fakes/discord/index.js';
import { ALL_PERMISSIONS } from '../fakes/discord/index.js';
import { BotProcess } from '../support/botProcess.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { World } from '../support/world.js';

/**
 * Two bot processes on one Redis store, one gateway shard each (as in multiProcess.test.ts). The server lives on
 * shard 1 (process B); DMs reach shard 0 (process A), and DM commands follow the server's rules (its home server), so
 * both processes run jobs that count against the same server. /admin status there shows the failures of both.
 */
describe('failures of two processes add up in /admin status', () => {
  let redis: TestRedis;
  let world: World;
  let guild: FakeGuild;
  let art: FakeChannel;
  let log: FakeChannel;
  const bots: BotProcess[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    world = await World.fakesOnly({ storeUrl: redis.url, proxy: { stepMs: 100 } });
    const { discord } = world;
    guild = discord.addGuild({ name: 'guild on shard 1', onShard: [1, 2] });
    for (const u of [discord.alice, discord.bob, discord.owner]) discord.addMember(guild.id, u.id);
    art = discord.addChannel(guild.id, { name: 'art' });
    log = discord.addChannel(guild.id, { name: 'bot-log' });
    const env = (shard: number) => ({
      ...world.env(),
      LOG_LEVEL: 'info',
      SHARD_ID: String(shard),
      SHARD_COUNT: '2',
      DISCORD_GUILD_ID: guild.id, // the home server whose rules DM commands follow
      DISCORD_ALLOWED_GUILDS: guild.id,
      DISCORD_DM_COMMANDS: 'on',
    });
    bots.push(...(await Promise.all([BotProcess.start(env(0)), BotProcess.start(env(1))])));
  }, 45_000);

  afterAll(async () => {
    for (const p of bots) await p.close();
    await world?.close();
    await redis?.stop();
  });

  async function answer(ix: FakeInteraction): Promise<string> {
    await ix.firstCallback(3000);
    return world.discord.waitFor(() => ix.original()?.content || undefined, { timeoutMs: 10_000 });
  }

  it('a refused submit in a DM (process A) and one in the server (process B) are both counted for the server', async () => {
    const { discord } = world;
    const admin = (sub: string, options: Record<string, unknown> = {}) =>
      answer(
        discord.slash({
          name: 'admin',
          subcommand: sub,
          options: options as never,
          user: discord.owner,
          guildId: guild.id,
          channelId: art.id,
          permissions: ALL_PERMISSIONS,
        }),
      );
    await admin('rules', { 'log-channel': { channel: log.id } });

    world.proxy.failNextRequests(1, { status: 500, body: 'upstream exploded', contentType: 'text/plain' }, '/submit/imagine');
    const inDm = await answer(discord.slash({ name: 'imagine', options: { prompt: 'from a DM' }, guildId: null, user: discord.alice }));
    world.proxy.failNextRequests(1, { status: 500, body: 'upstream exploded', contentType: 'text/plain' }, '/submit/imagine');
    const inServer = await answer(
      discord.slash({ name: 'imagine', options: { prompt: 'from the server' }, guildId: guild.id, channelId: art.id, user: discord.bob }),
    );
    for (const reply of [inDm, inServer]) expect(reply).toContain("couldn't read");
    // each process refused one of them (the DM's reached shard 0, the server's shard 1)
    for (const bot of bots) expect(bot.lines.filter((l) => l.includes('"submit refused"'))).toHaveLength(1);

    const logged = () => discord.messagesIn(log.id).map((m) => m.content);
    await discord.waitFor(() => logged().length >= 2 || undefined, { timeoutMs: 10_000 });
    expect(logged().filter((t) => t.includes(`<@${discord.alice.id}>'s job`) && t.includes("didn't start (the image service had an error)"))).toHaveLength(1);
    expect(logged().filter((t) => t.includes(`<@${discord.bob.id}>'s job`) && t.includes("didn't start (the image service had an error)"))).toHaveLength(1);
    expect(await admin('status')).toContain('2 failures in the last hour: the image service had an error 2');
  });
});
