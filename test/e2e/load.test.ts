import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { World } from '../support/world.js';

/** 200 concurrent jobs across 5 channels with Discord's rate limits on: all delivered, no missed windows, no failures. */
describe('load', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.start({ proxy: { stepMs: 300, maxConcurrent: 200 }, discord: { rateLimits: true }, env: { POLL_INTERVAL_MS: '1000' } });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('200 jobs over 5 channels', async () => {
    const { discord } = world;
    const channels = [discord.channel.id, discord.channel2.id];
    for (let i = 0; i < 3; i++) channels.push(discord.addChannel(discord.guild.id, { name: `load-${i}` }).id);
    const users = Array.from({ length: 50 }, (_, i) => discord.addUser({ username: `user${i}` }));
    await new Promise((r) => setTimeout(r, 200)); // let the bot see the new channels

    const interactions = Array.from({ length: 200 }, (_, i) =>
      discord.slash({ name: 'imagine', options: { prompt: `load job ${i}` }, user: users[i % users.length]!, channelId: channels[i % channels.length]! }),
    );
    const acks = await Promise.all(interactions.map((ix) => ix.firstCallback(5000)));
    expect(acks.filter((a) => !a.accepted || a.latencyMs >= 3000)).toEqual([]); // 0 missed 3 s windows

    const delivered = () => discord.allMessages().filter((m) => !m.deleted && m.source === 'channel' && /load job \d+/.test(m.content) && (m.attachments.length > 0 || m.content.includes('❌')));
    await discord.waitFor(() => delivered().length >= 200, { timeoutMs: 240_000, intervalMs: 250 });
    const results = delivered();
    expect(results.filter((m) => m.content.includes('❌'))).toEqual([]); // 0 failed results
    const ids = results.map((m) => Number(/load job (\d+)/.exec(m.content)![1])).sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: 200 }, (_, i) => i)); // each exactly once
    // every result in the channel it was asked in
    for (const m of results) expect(m.channel_id).toBe(channels[Number(/load job (\d+)/.exec(m.content)![1]) % channels.length]);
    // report what Discord saw, for the record
    console.log(`load: ${discord.calls.length} REST calls, ${discord.rateLimitHits.length} 429s, coalescer sent ${world.app.services.delivery.coalescer.stats.sent} / dropped ${world.app.services.delivery.coalescer.stats.dropped} progress frames`);
  }, 300_000);
});
