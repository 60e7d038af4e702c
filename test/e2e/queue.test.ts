// A fair queue instead of refusals (issue 17): over a member's limit or the server's cap a job waits its turn,
// round-robin across members; it can be cancelled while it waits; the upstream's "queue full" puts it back.
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeMessage } from '../fakes/discord/index.js';
import { botMessages, button, waitForResult } from '../support/discordHelpers.js';
import { World } from '../support/world.js';

let world: World;
afterEach(async () => {
  await world?.close();
});

const submitted = (w: World) => w.proxy.requestsTo('/submit/imagine').map((r) => String((r.body as { prompt: string }).prompt));

async function capServer(w: World, maxRunning: number, over: { concurrent?: number; queued?: number } = {}): Promise<void> {
  await w.app.services.community.update(w.discord.guild.id, (r) => {
    r.maxRunning = maxRunning;
    r.limits = { ...r.limits, ...over };
  });
}

describe('the fair queue', () => {
  it("one member's jobs do not starve another's: with one slot, B's single job starts right after A's first", async () => {
    world = await World.start({ proxy: { stepMs: 150 } });
    const { discord } = world;
    await capServer(world, 1, { queued: 5 });
    const a = discord.alice;
    const b = discord.bob;
    const first = discord.slash({ name: 'imagine', options: { prompt: 'a1' }, user: a });
    await discord.waitFor(() => first.original()?.content.includes('accepted') || undefined);
    for (const prompt of ['a2', 'a3']) {
      const ix = discord.slash({ name: 'imagine', options: { prompt }, user: a });
      await discord.waitFor(() => ix.original()?.content.includes('queued') || undefined);
    }
    const late = discord.slash({ name: 'imagine', options: { prompt: 'b1' }, user: b });
    await discord.waitFor(() => late.original()?.content.includes('queued') || undefined);
    expect(late.original()!.content).toContain('position 1'); // B goes before A's second and third
    expect(submitted(world)).toEqual(['a1']); // nothing else was sent while the slot was taken

    // its progress message shows the place and a Cancel button
    const waiting = await discord.waitFor(() =>
      botMessages(discord, discord.channel.id).find((m) => m.content.includes('**b1**') && m.content.includes('position')),
    );
    expect(button(waiting, 'Cancel')).toBeDefined();

    for (const p of ['a1', 'b1', 'a2', 'a3'])
      await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes(`**${p} --v`), timeoutMs: 20_000 });
    expect(submitted(world)).toEqual(['a1', 'b1', 'a2', 'a3']);
    // never more than one ran at once: each was sent after the one before had finished
    const tasks = [...world.proxy.tasks.values()].sort((x, y) => x.submitTime! - y.submitTime!);
    for (let i = 1; i < tasks.length; i++) expect(tasks[i]!.submitTime!).toBeGreaterThanOrEqual(tasks[i - 1]!.finishTime!);
  }, 60_000);

  it('Cancel takes a waiting job out: never sent, no quota used, its message says so', async () => {
    world = await World.start({ proxy: { stepMs: 200 } });
    const { discord } = world;
    await capServer(world, 1, { queued: 5 });
    discord.slash({ name: 'imagine', options: { prompt: 'runs first' }, user: discord.alice });
    await discord.waitFor(() => submitted(world).length === 1 || undefined);
    const second = discord.slash({ name: 'imagine', options: { prompt: 'changed my mind' }, user: discord.alice });
    await discord.waitFor(() => second.original()?.content.includes('queued') || undefined);
    const waiting = await discord.waitFor(() =>
      botMessages(discord, discord.channel.id).find((m) => m.content.includes('changed my mind') && m.components.length > 0),
    );

    // the queue in /metrics (from the store, so every process's jobs count)
    const metrics = await (await fetch(`http://127.0.0.1:${world.app.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/mjrelay_queue_jobs\{state="waiting"\} 1\b/);
    expect(metrics).toMatch(/mjrelay_queue_jobs\{state="running"\} 1\b/);
    // /info shows it with its place
    const info = discord.slash({ name: 'info', user: discord.alice });
    await discord.waitFor(() => info.original()?.content.includes('waiting in the queue, position 1') || undefined);

    // someone else may not cancel it
    const other = discord.clickButton({ messageId: waiting.id, customId: button(waiting, 'Cancel').customId, user: discord.bob });
    await discord.waitFor(() => other.original()?.content.includes('<@') || undefined);
    const press = discord.clickButton({ messageId: waiting.id, customId: button(waiting, 'Cancel').customId, user: discord.alice });
    await discord.waitFor(() => press.original()?.content.includes('cancelled') || undefined);

    const told: FakeMessage = await discord.waitFor(() =>
      botMessages(discord, discord.channel.id).find((m) => m.content.includes('changed my mind') && m.content.includes('Cancelled')),
    );
    expect(told.components).toEqual([]);
    await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes('runs first --v'), timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 500));
    expect(submitted(world)).toEqual(['runs first']);
    expect(await world.app.services.repos.jobs.countToday(discord.alice.id)).toBe(1);
  }, 40_000);

  it("the upstream's queue full (code 23): the job waits in the bot's queue and is sent again, it does not fail", async () => {
    world = await World.start({ proxy: { stepMs: 100 }, env: { QUEUE_BACKOFF_MS: '500' } });
    const { discord, proxy } = world;
    proxy.nextSubmitCode(23, undefined, 2);
    const ix = discord.slash({ name: 'imagine', options: { prompt: 'a busy harbour' }, user: discord.alice });
    await discord.waitFor(() => ix.original()?.content.includes('queued') || undefined);
    const result = await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes('busy harbour --v'), timeoutMs: 20_000 });
    expect(result.attachments).toHaveLength(1);
    expect(proxy.requestsTo('/submit/imagine').length).toBe(3); // two refusals, then accepted
    expect(botMessages(discord, discord.channel.id).filter((m) => m.content.includes('❌'))).toEqual([]);
  }, 40_000);

  it('a queue survives a restart: the waiting jobs start afterwards, in their order, each once', async () => {
    world = await World.start({ proxy: { stepMs: 250 } });
    const { discord } = world;
    await capServer(world, 1, { queued: 5 });
    discord.slash({ name: 'imagine', options: { prompt: 'q0' }, user: discord.alice });
    await discord.waitFor(() => submitted(world).length === 1 || undefined);
    const waiting = [
      discord.slash({ name: 'imagine', options: { prompt: 'q1' }, user: discord.alice }),
      discord.slash({ name: 'imagine', options: { prompt: 'q2' }, user: discord.bob }),
    ];
    await discord.waitFor(() => waiting.every((ix) => ix.original()?.content.includes('queued')) || undefined);
    // Bob runs nothing yet, Alice runs q0: Bob's job is next, then Alice's second
    expect(waiting.map((ix) => /position (\d+)/.exec(ix.original()!.content)?.[1])).toEqual(['2', '1']);
    await world.restart();
    for (const p of ['q0', 'q1', 'q2']) await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes(`**${p} --v`), timeoutMs: 25_000 });
    await new Promise((r) => setTimeout(r, 500));
    expect(submitted(world)).toEqual(['q0', 'q2', 'q1']); // the order they were told before the restart, each sent once
  }, 60_000);
});

describe("the image service's own queue (code 22)", () => {
  it('a job the proxy queued says "Queued at the image service" with its place, on its reply and on every frame until it starts', async () => {
    world = await World.start({ proxy: { stepMs: 300, maxConcurrent: 1 }, env: { PROGRESS_EDIT_INTERVAL_MS: '200' } });
    const { discord, proxy } = world;
    discord.slash({ name: 'imagine', options: { prompt: 'holds the slot' }, user: discord.alice });
    await discord.waitFor(() => submitted(world).length === 1 || undefined);
    const second = discord.slash({ name: 'imagine', options: { prompt: 'queued upstream' }, user: discord.bob });
    await discord.waitFor(() => second.original()?.content.includes('accepted') || undefined);
    expect(second.original()!.content).toContain('queued at the image service (position 1)');
    const progress = await discord.waitFor(() =>
      botMessages(discord, discord.channel.id).find(
        (m) => m.content.includes('queued upstream') && m.content.includes('Queued at the image service — position 1'),
      ),
    );

    await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes('queued upstream --v'), timeoutMs: 20_000 });
    const task = [...proxy.tasks.values()].find((t) => String(t.prompt).includes('queued upstream'))!;
    // polls of a task still waiting upstream (NOT_START) do not wipe its place: every frame before it started says so
    const before = progress.edits
      .filter((e) => e.at < task.startTime!)
      .map((e) => (e.body as { content?: string }).content)
      .filter((c) => c !== undefined);
    for (const content of before) expect(content).toContain('Queued at the image service — position 1');
  }, 40_000);
});
