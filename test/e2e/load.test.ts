import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotProcess } from '../support/botProcess.js';
import { World } from '../support/world.js';
import { isJobMessage } from '../support/discordHelpers.js';

/**
 * 200 concurrent jobs across 5 channels with Discord's rate limits on: all delivered once, no missed 3 s windows,
 * no failures. The bot runs as its own process, as in production (Discord is not in the bot's event loop); the
 * fake skips OpenAPI validation here (every other e2e file covers it) so that it measures the bot, not itself.
 */
describe('load', () => {
  let world: World;
  let bot: BotProcess;
  beforeAll(async () => {
    world = await World.fakesOnly({ proxy: { stepMs: 300, maxConcurrent: 200 }, discord: { rateLimits: true, validateOpenApi: false } });
    bot = await BotProcess.start({ ...world.env(), LOG_LEVEL: 'info', POLL_INTERVAL_MS: '1000' });
  });
  afterAll(async () => {
    await bot?.close();
    await world?.close();
  });

  it('200 jobs over 5 channels', async () => {
    const { discord } = world;
    const channels = [discord.channel.id, discord.channel2.id];
    for (let i = 0; i < 3; i++) channels.push(discord.addChannel(discord.guild.id, { name: `load-${i}` }).id);
    const users = Array.from({ length: 50 }, (_, i) => discord.addUser({ username: `user${i}` }));
    await new Promise((r) => setTimeout(r, 300)); // let the bot see the new channels

    const interactions = Array.from({ length: 200 }, (_, i) =>
      discord.slash({ name: 'imagine', options: { prompt: `load job ${i}` }, user: users[i % users.length]!, channelId: channels[i % channels.length]! }),
    );
    const acks = await Promise.all(interactions.map((ix) => ix.firstCallback(5000)));
    const lat = acks.map((a) => a.latencyMs).sort((x, y) => x - y);
    expect(acks.filter((a) => !a.accepted || a.latencyMs >= 3000)).toEqual([]); // 0 missed 3 s windows

    const delivered = () =>
      discord
        .allMessages()
        .filter((m) => !m.deleted && isJobMessage(m) && /load job \d+/.test(m.content) && (m.attachments.length > 0 || m.content.includes('❌')));
    await discord.waitFor(() => delivered().length >= 200, { timeoutMs: 240_000, intervalMs: 250 });
    const results = delivered();
    expect(results.filter((m) => m.content.includes('❌'))).toEqual([]); // 0 failed results
    const ids = results.map((m) => Number(/load job (\d+)/.exec(m.content)![1])).sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: 200 }, (_, i) => i)); // each exactly once
    for (const m of results) expect(m.channel_id).toBe(channels[Number(/load job (\d+)/.exec(m.content)![1]) % channels.length]);
    expect(discord.rateLimitHits).toEqual([]); // the bot kept within each channel's budget by itself
    console.log(`load: ack p50 ${lat[100]} ms p99 ${lat[197]} ms; ${discord.calls.length} REST calls, ${discord.rateLimitHits.length} 429s`);
  }, 300_000);
});
