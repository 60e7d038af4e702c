import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeInteraction, FakeUser } from '../fakes/discord/index.js';
import { ALL_PERMISSIONS } from '../fakes/discord/index.js';
import { World } from '../support/world.js';

/**
 * Fast-time budgets: the fast minutes a finished task reports are counted per member and per server for the UTC day;
 * once a member's (or the server's) budget is spent their next jobs go to the proxy's relax path, and the accepted
 * line says so. /admin usage shows the day's minutes as text and as a PNG chart.
 */
describe('fast-time budgets fall back to relax', () => {
  let world: World;
  beforeAll(async () => {
    // every finished task reports 90 s between its startTime and finishTime: 1.5 fast minutes
    world = await World.start({ proxy: { stepMs: 40, reportedWorkMs: 90_000 } });
  });
  afterAll(async () => {
    await world?.close();
  });

  const guildId = () => world.discord.guild.id;

  async function answer(ix: FakeInteraction): Promise<string> {
    await ix.firstCallback(3000);
    return world.discord.waitFor(() => ix.original()?.content || ix.followups()[0]?.content || undefined);
  }

  function admin(sub: string, options: Record<string, unknown> = {}, locale?: string): FakeInteraction {
    return world.discord.slash({
      name: 'admin',
      subcommand: sub,
      options: options as never,
      user: world.discord.owner,
      permissions: ALL_PERMISSIONS,
      ...(locale ? { locale } : {}),
    });
  }

  let n = 0;
  const imagine = (user: FakeUser, locale?: string) =>
    world.discord.slash({ name: 'imagine', options: { prompt: `budget ${++n}` }, user, ...(locale ? { locale } : {}) });
  const lastImagine = () => world.proxy.requestsTo('/submit/imagine').at(-1)!;

  /** a fast job runs to the end and its minutes are counted */
  async function fastJobCounted(user: FakeUser, before: number): Promise<void> {
    const text = await answer(imagine(user));
    expect(text).toContain('accepted');
    expect(text).not.toContain('relax');
    expect(lastImagine().mode).toBeUndefined(); // the configured default path: /mj/submit/imagine
    await world.discord.waitFor(async () => ((await world.app.services.fastBudget.usage(guildId())).members[user.id] ?? 0) > before, { timeoutMs: 15_000 });
    await world.discord.waitFor(() => world.app.services.tracker.size === 0, { timeoutMs: 10_000 });
  }

  it('a member whose fast minutes are spent gets relax, with the accepted line saying so; others stay fast', async () => {
    expect(await answer(admin('limits', { 'fast-minutes': 1 }))).toContain('Fast minutes a day — per member: 1 · whole server: no limit');
    const alice = world.discord.alice;
    await fastJobCounted(alice, 0);
    expect((await world.app.services.fastBudget.usage(guildId())).members[alice.id]).toBe(1.5);

    const text = await answer(imagine(alice));
    expect(text).toContain('accepted');
    expect(text).toMatch(/Your fast time for today is used up — this job runs in relax mode\. Fast time is back <t:\d+:R>\./);
    const relaxed = lastImagine();
    expect(relaxed.path).toBe('/mj-relax/mj/submit/imagine');
    expect(relaxed.mode).toBe('relax');
    await world.discord.waitFor(() => world.app.services.tracker.size === 0, { timeoutMs: 15_000 });
    expect((await world.app.services.fastBudget.usage(guildId())).members[alice.id]).toBe(1.5); // relax costs no fast time

    const zh = await answer(imagine(alice, 'zh-CN'));
    expect(zh).toContain('你今天的快速时长已用完——此任务将以慢速（relax）模式运行。');
    await world.discord.waitFor(() => world.app.services.tracker.size === 0, { timeoutMs: 15_000 });

    await fastJobCounted(world.discord.bob, 0); // bob has his own minute
  });

  it('once the server budget is spent every member runs in relax, with the server named', async () => {
    await answer(admin('limits', { 'server-fast-minutes': 3 })); // alice 1.5 + bob 1.5 = 3: spent
    const carol = world.discord.addUser({ username: 'carol' });
    const text = await answer(imagine(carol));
    expect(text).toMatch(/This server's fast time for today is used up — this job runs in relax mode\./);
    expect(lastImagine().path).toBe('/mj-relax/mj/submit/imagine');
    await world.discord.waitFor(() => world.app.services.tracker.size === 0, { timeoutMs: 15_000 });
  });

  it('/admin usage lists the day by member and the server against its budget, with a PNG chart', async () => {
    const ix = admin('usage');
    const text = await answer(ix);
    const { alice, bob } = world.discord;
    expect(text).toContain('Whole server: 3 of 3 fast minutes');
    expect(text).toContain('Each member: 1 fast minutes a day');
    expect(text).toContain(`1. <@${alice.id}> — 1.5 min`);
    expect(text).toContain(`2. <@${bob.id}> — 1.5 min`);
    const msg = ix.original()!;
    expect(msg.ephemeral).toBe(true);
    expect(msg.attachments.map((a) => a.filename)).toEqual(['fast-usage.png']);
    const png = PNG.sync.read(msg.attachments[0]!.bytes);
    expect([png.width, png.height]).toEqual([480, 240]);

    const zh = await answer(admin('usage', {}, 'zh-CN'));
    expect(zh).toContain('整个服务器：已用 3 / 3 快速分钟');
    expect(zh).toContain(`1. <@${alice.id}> — 1.5 分钟`);
  });
});
