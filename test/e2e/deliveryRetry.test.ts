import { afterEach, describe, expect, it } from 'vitest';
import type { FakeDiscord } from '../fakes/discord/index.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { waitForResult } from '../support/discordHelpers.js';
import { World } from '../support/world.js';
import { RedisJobOwnership } from '../../src/store/leases.js';
import { connectRedis } from '../../src/store/redis.js';
import { createLogger } from '../../src/log.js';

/**
 * A result that cannot be delivered right now (Discord answers 5xx, the store throws) is retried by the running
 * process with a growing, jittered delay, and arrives once — no restart needed. On Redis, a process that keeps
 * failing gives the job's lease up so another process (or itself, later) can try.
 */
describe('delivery retries', () => {
  let world: World | undefined;
  let redis: TestRedis | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
    await redis?.stop();
    redis = undefined;
  });

  /** result posts of a prompt (progress posts carry no file): channel messages, or follow-ups while the token lives */
  const resultPosts = (discord: FakeDiscord, tag: string) =>
    discord.calls.filter(
      (c) =>
        (c.route === 'POST /channels/:id/messages' || c.route === 'POST /webhooks/:id/:token') &&
        c.files.length > 0 &&
        JSON.stringify(c.body ?? '').includes(tag),
    );
  /** the next posts fail (set once the progress message is there, so that they hit the result) */
  const failResultPosts = (discord: FakeDiscord, times: number) =>
    discord.failNext({
      method: 'POST',
      pathPattern: /^\/(channels\/\d+\/messages|webhooks\/\d+\/[^/]+)$/,
      status: 500,
      code: 0,
      message: '500: Internal Server Error',
      times,
    });

  async function startAndHold(tag: string): Promise<void> {
    const { discord, proxy } = world!;
    proxy.pause(); // the task waits until the fault is in place
    discord.slash({ name: 'imagine', options: { prompt: tag }, user: discord.alice });
    await discord.waitFor(() => discord.messagesIn(discord.channel.id).some((m) => m.content.includes(tag)), { timeoutMs: 10_000 }); // progress posted
  }

  it('Discord failing the result post (500, past its own retries) is retried with backoff: the result arrives once, later', async () => {
    world = await World.start({ proxy: { stepMs: 60 } });
    const { discord, proxy } = world;
    const tag = 'a stubborn lighthouse';
    await startAndHold(tag);
    failResultPosts(discord, 10); // discord.js tries each post 4 times: two whole delivery attempts fail, the third gets through
    proxy.resume();

    const result = await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes(tag) && m.attachments.length > 0, timeoutMs: 20_000 });
    expect(result.attachments).toHaveLength(1);
    const posts = resultPosts(discord, tag);
    expect(posts.filter((c) => c.status === 500)).toHaveLength(10);
    expect(posts.filter((c) => c.status === 200)).toHaveLength(1);
    // the attempts were spaced out, not fired back to back
    const failedAt = posts.filter((c) => c.status === 500).map((c) => c.at);
    expect(posts.find((c) => c.status === 200)!.at - failedAt[0]!).toBeGreaterThan(40);
    await new Promise((r) => setTimeout(r, 500)); // a second post, if any, would land by now
    expect(discord.messagesIn(discord.channel.id).filter((m) => !m.deleted && m.content.includes(tag) && m.attachments.length > 0)).toHaveLength(1);
    const job = (await world.app.services.repos.jobs.recentForUser(discord.alice.id, 1))[0]!;
    expect(job.deliveredAt).toBeDefined();
    expect(world.logs.text()).toContain('delivery failed; will retry');
  }, 40_000);

  it('the store failing while the delivery is recorded is retried: posted once, recorded, progress message removed', async () => {
    world = await World.start({ proxy: { stepMs: 60 } });
    const { discord, proxy } = world;
    const tag = 'a flaky ledger';
    const jobs = world.app.services.repos.jobs;
    const save = jobs.save.bind(jobs);
    let failures = 2;
    jobs.save = async (job, now) => {
      if (job.deliveredAt && failures > 0) {
        failures--;
        throw new Error('SQLITE_BUSY: database is locked');
      }
      return save(job, now);
    };
    await startAndHold(tag);
    const progress = discord.messagesIn(discord.channel.id).find((m) => m.content.includes(tag))!;
    proxy.resume();

    await discord.waitFor(() => failures === 0 && discord.messagesIn(discord.channel.id, { includeDeleted: true }).find((m) => m.id === progress.id)?.deleted, {
      timeoutMs: 20_000,
    });
    const job = (await jobs.recentForUser(discord.alice.id, 1))[0]!;
    await discord.waitFor(async () => (await jobs.get(job.id))?.deliveredAt !== undefined, { timeoutMs: 10_000 });
    expect(resultPosts(discord, tag).filter((c) => c.status === 200)).toHaveLength(1); // posted once, not again on retry
  }, 40_000);

  it('on Redis, a process that keeps failing gives the lease up after its attempts, and the job is still delivered', async () => {
    redis = await startRedis();
    world = await World.start({ proxy: { stepMs: 60 }, storeUrl: redis.url, env: { LEASE_TTL_MS: '2000' } });
    const { discord, proxy } = world;
    const tag = 'a homeless result';
    await startAndHold(tag);
    const job = (await world.app.services.repos.jobs.recentForUser(discord.alice.id, 1))[0]!;
    failResultPosts(discord, 400); // Discord down for this channel
    proxy.resume();

    const client = await connectRedis(redis.url, createLogger({ level: 'silent' }));
    try {
      await discord.waitFor(() => world!.logs.text().includes('delivery failed too often; giving the job up'), { timeoutMs: 20_000 });
      // the lease is free: another process could take the job now
      expect(await client.get(RedisJobOwnership.key(job.id))).toBeNull();
      expect((await world.app.services.repos.jobs.get(job.id))?.deliveredAt).toBeUndefined();
      // Discord recovers; the job is picked up again (here by the same process, after a pause) and delivered once
      discord.clearFailures();
      const result = await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes(tag) && m.attachments.length > 0, timeoutMs: 20_000 });
      expect(result.attachments).toHaveLength(1);
      await discord.waitFor(async () => (await world!.app.services.repos.jobs.get(job.id))?.deliveredAt !== undefined, { timeoutMs: 10_000 });
    } finally {
      client.destroy();
    }
  }, 60_000);
});
