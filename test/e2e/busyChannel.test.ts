// A busy channel never makes a member wait (issue 18): results before progress in the channel's write budget, the
// interaction's own webhook while its token lives, the channel after it — with Discord's rate limits on in the fake.
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeMessage } from '../fakes/discord/index.js';
import { botMessages, button, waitForResult } from '../support/discordHelpers.js';
import { World } from '../support/world.js';

let world: World;
afterEach(async () => {
  await world?.close();
});

const isResult = (m: FakeMessage) => m.attachments.length > 0;

describe('a busy channel', () => {
  it('results never wait behind progress writes: a progress post still waiting when its job finishes is never sent', async () => {
    // every token dead from the start: everything goes through the channel's 5-per-5-s budget
    world = await World.start({ proxy: { stepMs: 300, maxConcurrent: 100 }, discord: { rateLimits: true, tokenLifetimeMs: 1 } });
    const { discord, proxy } = world;
    const n = 12;
    const people = Array.from({ length: n }, (_, i) => discord.addUser({ username: `busy${i}` }));
    people.forEach((user, i) => discord.slash({ name: 'imagine', options: { prompt: `busy job ${i}` }, user }));
    await discord.waitFor(() => botMessages(discord, discord.channel.id).filter(isResult).length >= n || undefined, { timeoutMs: 60_000 });

    expect(discord.rateLimitHits).toEqual([]);
    const mine = (i: number) => (m: FakeMessage) => m.content.includes(`busy job ${i}**`) || m.content.includes(`busy job ${i} --`);
    const all = botMessages(discord, discord.channel.id, { includeDeleted: true });
    for (let i = 0; i < n; i++) {
      const task = [...proxy.tasks.values()].find((t) => t.prompt === `busy job ${i}`)!;
      const messages = all.filter(mine(i));
      const results = messages.filter(isResult);
      expect(results, `job ${i}: one result`).toHaveLength(1);
      const result = results[0]!;
      // its progress, if it was shown at all, was posted while the job still ran (1 s for the bot to hear of the end)
      for (const progress of messages.filter((m) => !isResult(m))) expect(progress.createdAt).toBeLessThan(task.finishTime! + 1000);
      // and while this result waited for its slot, no progress write took one
      const waitingFrom = task.finishTime! + 1000;
      const progressWrites = all
        .filter((m) => !isResult(m))
        .flatMap((m) => [m.createdAt, ...m.edits.map((e) => e.at)])
        .filter((at) => at > waitingFrom && at < result.createdAt);
      expect(progressWrites, `job ${i}: progress writes while its result waited`).toEqual([]);
    }
  }, 90_000);

  it('while tokens live, each job is a follow-up in its own bucket: no channel writes, no 429s, one ping each, buttons work', async () => {
    world = await World.start({ proxy: { stepMs: 300, maxConcurrent: 100 }, discord: { rateLimits: true }, env: { PROGRESS_EDIT_INTERVAL_MS: '500' } });
    const { discord, proxy } = world;
    const n = 10;
    const people = Array.from({ length: n }, (_, i) => discord.addUser({ username: `quick${i}` }));
    const started = discord.now();
    people.forEach((user, i) => discord.slash({ name: 'imagine', options: { prompt: `quick job ${i}` }, user }));
    await discord.waitFor(() => botMessages(discord, discord.channel.id).filter(isResult).length >= n || undefined, { timeoutMs: 30_000 });

    const results = botMessages(discord, discord.channel.id).filter(isResult);
    expect(results.map((m) => m.source)).toEqual(Array(n).fill('followup'));
    for (const [i, user] of people.entries()) {
      const result = results.find((m) => m.content.includes(`quick job ${i} --`))!;
      expect(result.pingedUserIds).toEqual([user.id]);
    }
    expect(discord.rateLimitHits).toEqual([]);
    const channelWrites = discord.calls.filter((c) => c.at >= started && c.path.startsWith(`/channels/${discord.channel.id}/messages`) && c.method !== 'GET');
    expect(channelWrites).toEqual([]);
    // the progress follow-ups are gone once their results are there
    await discord.waitFor(() => discord.allMessages().filter((m) => m.source === 'followup' && !m.deleted && !isResult(m)).length === 0 || undefined);

    // a button on a follow-up result works like any other, and is redrawn as used
    const first = results[0]!;
    const owner = people.find((u) => first.pingedUserIds.includes(u.id))!;
    const click = discord.clickButton({ messageId: first.id, customId: button(first, 'U2').customId, user: owner });
    expect((await click.firstCallback()).type).toBe(6);
    await discord.waitFor(() => proxy.requestsTo('/submit/action').find((r) => String((r.body as { customId: string }).customId).includes('upsample::2')));
    await discord.waitFor(() => button(first, 'U2').style === 1 || undefined); // drawn as used
  }, 60_000);
});

describe('a restart in the middle', () => {
  it('of a follow-up job whose token still lives: the result is a follow-up, posted once', async () => {
    world = await World.start({ proxy: { stepMs: 400 } });
    const { discord, proxy } = world;
    discord.slash({ name: 'imagine', options: { prompt: 'a lighthouse' }, user: discord.alice });
    const progress = await discord.waitFor(() => discord.allMessages().find((m) => m.source === 'followup' && m.content.includes('lighthouse')));
    const task = await discord.waitFor(() => [...proxy.tasks.values()].find((t) => t.prompt === 'a lighthouse' && t.status === 'IN_PROGRESS'));
    await world.stopBot();
    await proxy.waitForStatus(task.id, 'SUCCESS', 10_000);
    await world.startBot();

    const result = await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes('lighthouse'), timeoutMs: 15_000 });
    expect(result.source).toBe('followup');
    expect(result.pingedUserIds).toEqual([discord.alice.id]);
    await discord.waitFor(() => progress.deleted || undefined);
    await new Promise((r) => setTimeout(r, 500));
    expect(botMessages(discord, discord.channel.id).filter((m) => m.content.includes('lighthouse'))).toEqual([result]);
  }, 40_000);

  it('of a job whose token ended while the bot was down: the channel takes over, the result is posted once', async () => {
    world = await World.start({ proxy: { stepMs: 400 } });
    const { discord, proxy } = world;
    const ix = discord.slash({ name: 'imagine', options: { prompt: 'a harbour at dusk' }, user: discord.alice });
    const progress = await discord.waitFor(() => discord.allMessages().find((m) => m.source === 'followup' && m.content.includes('harbour')));
    const task = await discord.waitFor(() => [...proxy.tasks.values()].find((t) => t.prompt === 'a harbour at dusk' && t.status === 'IN_PROGRESS'));
    await world.stopBot();
    discord.expireToken(ix.id);
    await proxy.waitForStatus(task.id, 'SUCCESS', 10_000);
    await world.startBot();

    const result = await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes('harbour'), timeoutMs: 15_000 });
    expect(result.source).toBe('channel');
    expect(result.pingedUserIds).toEqual([discord.alice.id]);
    await discord.waitFor(() => progress.deleted || undefined); // the follow-up is the bot's own message: deleted through the channel
    await new Promise((r) => setTimeout(r, 500));
    expect(botMessages(discord, discord.channel.id).filter((m) => m.content.includes('harbour'))).toEqual([result]);
  }, 40_000);
});
