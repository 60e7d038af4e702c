import { REST } from '@discordjs/rest';
import { Routes } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { waitForResult } from '../support/discordHelpers.js';
import { World } from '../support/world.js';

/** Discord misbehaves: rate limits, DMs opened too fast, a missed 3 s window, a dropped gateway. */
describe('Discord faults', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('under 429s progress frames are dropped but every result is posted', async () => {
    // interaction tokens dead from the start: every message goes through the channel route, the bucket under test
    world = await World.start({
      proxy: { stepMs: 200, maxConcurrent: 20 },
      discord: { rateLimits: true, tokenLifetimeMs: 1 },
      env: { PROGRESS_EDIT_INTERVAL_MS: '500' },
    });
    const { discord } = world;
    // a tight bucket on this channel's messages, shared with "another process" posting there too
    discord.setRateLimit({ routePattern: /^(POST|PATCH) \/channels\/:id\/messages/, limit: 3, windowMs: 2000 });
    const jobs = 8;
    for (let i = 0; i < jobs; i++) discord.slash({ name: 'imagine', options: { prompt: `busy channel ${i}` }, user: i % 2 ? discord.alice : discord.bob });
    // another process posting into the same bucket, so the bot's own requests meet real 429s
    const other = new REST({ api: discord.apiUrl, retries: 0 }).setToken('another-process-token');
    const noise = (async () => {
      for (let i = 0; i < 6; i++) {
        await other.post(Routes.channelMessages(discord.channel.id), { body: { content: `noise ${i}` } }).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 700));
      }
    })();
    const results = await discord.waitFor(
      () => {
        const r = discord.messagesIn(discord.channel.id).filter((m) => m.attachments.length > 0);
        return r.length >= jobs ? r : undefined;
      },
      { timeoutMs: 60_000 },
    );
    await noise;
    expect(discord.rateLimitHits.length).toBeGreaterThan(0); // 429s were served
    const prompts = results.map((m) => /busy channel (\d)/.exec(m.content)?.[1]).sort();
    expect(prompts).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']); // each exactly once
    // the coalescer kept progress edits well below one per frame
    expect(world.app.services.delivery.coalescer.stats.dropped).toBeGreaterThan(0);
  }, 90_000);

  it('backs off when Discord says DMs are opened too fast (40003) and still delivers by DM', async () => {
    world = await World.start({ proxy: { stepMs: 50 } });
    const { discord } = world;
    discord.dmOpenTooFast(1);
    discord.slash({ name: 'imagine', options: { prompt: 'a letter', delivery: 'dm' }, user: discord.alice });
    const result = await waitForResult(discord, discord.dmChannelOf(discord.alice.id).id, { timeoutMs: 10_000 });
    expect(result.attachments).toHaveLength(1);
    expect((await world.app.services.repos.users.settings(discord.alice.id)).dmClosed).toBeUndefined();
  });

  it('a missed 3 s window (10062) sends nothing upstream and the bot carries on', async () => {
    world = await World.start({ proxy: { stepMs: 50 }, discord: { interactionWindowMs: 0 } });
    const { discord, proxy } = world;
    const ix = discord.slash({ name: 'imagine', options: { prompt: 'too late' }, user: discord.alice });
    const cb = await ix.firstCallback();
    expect(cb.discordCode).toBe(10062);
    await new Promise((r) => setTimeout(r, 300));
    expect(proxy.requestsTo('/submit/imagine')).toHaveLength(0);
    expect(world.logs.text()).toContain('interaction expired before we could answer');
    expect(world.app.client.isReady()).toBe(true);
  });

  it('resumes after a gateway disconnect and keeps answering', async () => {
    world = await World.start({ proxy: { stepMs: 50 } });
    const { discord } = world;
    discord.disconnectGateway(4000);
    await discord.waitFor(() => discord.resumes >= 1, { timeoutMs: 10_000 });
    const ix = discord.slash({ name: 'imagine', options: { prompt: 'after the storm' }, user: discord.alice });
    expect((await ix.firstCallback(5000)).type).toBe(5);
    await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes('after the storm') });
  }, 30_000);
});
