// A fair queue instead of refusals (issue 17): over a member's limit or the server's cap a job waits its turn,
// round-robin across members; it can be cancelled while it waits; the upstream's "queue full" puts it back.
import { afterEach, describe, expect, it } from 'vitest';
import { ALL_PERMISSIONS, type FakeMessage } from '../fakes/discord/index.js';
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

describe('cancelling a running job', () => {
  const running = (w: World, prompt: string) =>
    w.discord.waitFor(() => botMessages(w.discord, w.discord.channel.id).find((m) => m.content.includes(`**${prompt}`) && m.content.includes('%')));

  it('plus: the running job carries Cancel; its owner stops it upstream, it ends "cancelled" without a ping and uses no quota', async () => {
    world = await World.start({ proxy: { flavor: 'plus', stepMs: 400, progressSteps: [10, 20, 30, 40, 50, 60, 70, 80, 90] } });
    const { discord, proxy } = world;
    const ix = discord.slash({ name: 'imagine', options: { prompt: 'stop me' }, user: discord.alice });
    await discord.waitFor(() => ix.original()?.content.includes('accepted') || undefined);
    const progress = await running(world, 'stop me');
    const cancel = button(progress, 'Cancel');
    expect(await world.app.services.repos.jobs.countToday(discord.alice.id)).toBe(1);

    // another member may not; the owner may
    const other = discord.clickButton({ messageId: progress.id, customId: cancel.customId, user: discord.bob });
    await discord.waitFor(() => other.original()?.content.includes('<@') || undefined);
    expect(proxy.requestsTo('/cancel')).toEqual([]);
    const press = discord.clickButton({ messageId: progress.id, customId: cancel.customId, user: discord.alice });
    await discord.waitFor(() => press.original()?.content.includes('being stopped') || undefined);
    const task = [...proxy.tasks.values()].find((t) => String(t.prompt).includes('stop me'))!;
    expect(proxy.requestsTo('/cancel').map((r) => r.path)).toEqual([`/mj/task/${task.id}/cancel`]);
    expect(task.status).toBe('CANCEL');

    const told = await discord.waitFor(() =>
      botMessages(discord, discord.channel.id).find((m) => m.content.includes('stop me') && m.content.includes('cancelled')),
    );
    expect(told.attachments).toEqual([]);
    expect(told.components).toEqual([]);
    expect(told.pingedUserIds).toEqual([]); // a cancel the member asked for does not ping them
    await discord.waitFor(() => progress.deleted || undefined);
    expect(await world.app.services.repos.jobs.countToday(discord.alice.id)).toBe(0);
    // a second cancel (a press that raced it in another process, with its stale copy of the job) finds the task over
    // upstream: nothing more is taken back from the day
    const job = (await world.app.services.repos.jobs.recentForUser(discord.alice.id, 1))[0]!;
    expect(await world.app.services.cancelRunning({ ...job, status: 'running' })).toBe('over');
    expect(proxy.requestsTo('/cancel')).toHaveLength(2);
    expect(await world.app.services.repos.jobs.countToday(discord.alice.id)).toBe(0);
  }, 40_000);

  it("a moderator may stop someone else's running job", async () => {
    world = await World.start({ proxy: { flavor: 'plus', stepMs: 400, progressSteps: [10, 20, 30, 40, 50, 60, 70, 80, 90] } });
    const { discord, proxy } = world;
    discord.slash({ name: 'imagine', options: { prompt: 'moderated' }, user: discord.alice });
    const progress = await running(world, 'moderated');
    const press = discord.clickButton({
      messageId: progress.id,
      customId: button(progress, 'Cancel').customId,
      user: discord.bob,
      permissions: ALL_PERMISSIONS,
    });
    await discord.waitFor(() => press.original()?.content.includes('being stopped') || undefined);
    await discord.waitFor(() => botMessages(discord, discord.channel.id).find((m) => m.content.includes('moderated') && m.content.includes('cancelled')));
    expect(proxy.requestsTo('/cancel')).toHaveLength(1);
  }, 40_000);

  it('trueai (cancel is for its admins only): a running job shows no Cancel, a waiting one still does', async () => {
    world = await World.start({ proxy: { stepMs: 300, progressSteps: [10, 20, 30, 40, 50, 60, 70, 80, 90] } });
    const { discord } = world;
    await capServer(world, 1, { queued: 5 });
    discord.slash({ name: 'imagine', options: { prompt: 'runs on trueai' }, user: discord.alice });
    const progress = await running(world, 'runs on trueai');
    discord.slash({ name: 'imagine', options: { prompt: 'waits on trueai' }, user: discord.bob });
    const waiting = await discord.waitFor(() =>
      botMessages(discord, discord.channel.id).find((m) => m.content.includes('waits on trueai') && m.content.includes('position')),
    );
    expect(button(waiting, 'Cancel')).toBeDefined();
    expect(progress.content).toContain('%');
    expect(progress.components).toEqual([]);
    await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes('runs on trueai --v'), timeoutMs: 20_000 });
    expect(world.proxy.requestsTo('/cancel')).toEqual([]);
  }, 40_000);
});

describe('/admin status', () => {
  it("shows the server's queue: jobs running and waiting, and its cap, in English and Chinese", async () => {
    world = await World.start({ proxy: { stepMs: 400, progressSteps: [10, 20, 30, 40, 50, 60, 70, 80, 90] } });
    const { discord } = world;
    await capServer(world, 1, { queued: 5 });
    discord.slash({ name: 'imagine', options: { prompt: 'counted running' }, user: discord.alice });
    await discord.waitFor(() => submitted(world).length === 1 || undefined);
    const waits = discord.slash({ name: 'imagine', options: { prompt: 'counted waiting' }, user: discord.bob });
    await discord.waitFor(() => waits.original()?.content.includes('queued') || undefined);
    const status = async (locale: string) => {
      const ix = discord.slash({ name: 'admin', subcommand: 'status', user: discord.owner, permissions: ALL_PERMISSIONS, locale });
      return discord.waitFor(() => ix.original()?.content || undefined, { timeoutMs: 10_000 });
    };
    expect(await status('en-US')).toContain('Queue: 1 running, 1 waiting (cap: 1)');
    expect(await status('zh-CN')).toContain('队列：运行中 1 个，排队 1 个（上限：1）');
  }, 40_000);
});
