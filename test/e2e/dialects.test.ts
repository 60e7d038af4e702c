import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { button, buttons, waitForResult } from '../support/discordHelpers.js';
import { freePort } from '../support/tmp.js';
import { World } from '../support/world.js';

/**
 * Proxy dialects without mode paths (novicezk, the form reseller) still honour the speed a member picks (and
 * MJ_MODE), as Midjourney's own prompt parameter; the form reseller's upscales get their panel from the customIds
 * its callbacks carry, since its /fetch names no buttons.
 */

const imagineBodies = (world: World) => world.proxy.requestsTo('/submit/imagine');

for (const flavor of ['novicezk', 'task-form'] as const) {
  describe(`${flavor} proxy: speed`, () => {
    let world: World;
    beforeAll(async () => {
      world = await World.start({ proxy: { flavor, stepMs: 50 } });
    });
    afterAll(async () => {
      await world?.close();
    });

    it('the speed option reaches Midjourney as --relax / --turbo in the prompt (there are no mode paths)', async () => {
      const { discord, proxy } = world;
      discord.slash({ name: 'imagine', options: { prompt: 'a quiet harbor', speed: 'relax' }, user: discord.alice });
      const result = await waitForResult(discord, discord.channel.id, {
        match: (m) => m.content.includes('quiet harbor') && m.attachments.length > 0,
        timeoutMs: 10_000,
      });
      const req = imagineBodies(world).at(-1)!;
      expect((req.body as { prompt: string }).prompt).toBe('a quiet harbor --relax');
      expect(req.path).toBe('/mj/submit/imagine'); // no /mj-relax prefix: these proxies answer 404 to it
      const task = [...proxy.tasks.values()].find((t) => String(t.prompt).startsWith('a quiet harbor'))!;
      expect(task.mode).toBe('RELAX');
      expect(result.content).toContain('· relax)'); // after the version the task reports: (v 7 · relax)

      discord.slash({ name: 'imagine', options: { prompt: 'a loud harbor --fast', speed: 'turbo' }, user: discord.alice });
      await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes('loud harbor') && m.attachments.length > 0, timeoutMs: 10_000 });
      expect((imagineBodies(world).at(-1)!.body as { prompt: string }).prompt).toBe('a loud harbor --fast'); // the member's own flag is kept
    });

    it('offers speed only where it works: on /imagine (a prompt flag), not on /blend or /describe', async () => {
      const body = world.discord.commandPuts().at(-1)!.body as { name: string; options?: { name: string }[] }[];
      const optionNames = (name: string) => (body.find((c) => c.name === name)?.options ?? []).map((o) => o.name);
      expect(optionNames('imagine')).toContain('speed');
      expect(optionNames('blend')).toEqual(expect.arrayContaining(['image1', 'image2', 'delivery']));
      expect(optionNames('blend')).not.toContain('speed');
      expect(optionNames('describe')).toEqual(expect.arrayContaining(['image', 'delivery']));
      expect(optionNames('describe')).not.toContain('speed');
    });

    it('MJ_MODE is honoured on /imagine, and the start-up log says where it cannot be', async () => {
      const { discord } = world;
      await world.restart({ MJ_MODE: 'relax' });
      discord.slash({ name: 'imagine', options: { prompt: 'a slow tide' }, user: discord.bob });
      await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes('slow tide') && m.attachments.length > 0, timeoutMs: 10_000 });
      expect((imagineBodies(world).at(-1)!.body as { prompt: string }).prompt).toBe('a slow tide --relax');
      const warning = world.logs.lines
        .flatMap((l) => l.split('\n'))
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { level: number; msg: string })
        .find((l) => l.msg.startsWith('MJ_MODE=relax'));
      expect(warning?.level).toBe(40);
      expect(warning?.msg).toContain(`the ${flavor} proxy has no mode paths`);
      expect(warning?.msg).toContain('/blend, /describe and button presses');
    });
  });
}

describe('task-form proxy in webhook mode: upscale panels from the callbacks', () => {
  let world: World;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    world = await World.start({
      proxy: { flavor: 'task-form', stepMs: 80 },
      env: { PUBLIC_URL: `http://127.0.0.1:${port}`, HTTP_PORT: String(port), POLL_INTERVAL_MS: '20000', WEBHOOK_SAFETY_POLL_MS: '20000' },
      app: { httpPort: port },
    });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('an upscale gets the panel its callback named, and a press sends that exact customId', async () => {
    const { discord, proxy } = world;
    discord.slash({ name: 'imagine', options: { prompt: 'a paper lantern' }, user: discord.alice });
    const grid = await waitForResult(discord, discord.channel.id, {
      match: (m) => m.content.includes('paper lantern') && m.attachments.length > 0,
      timeoutMs: 10_000,
    });
    discord.clickButton({ messageId: grid.id, customId: button(grid, 'U1').customId, user: discord.alice });
    const upscale = await waitForResult(discord, discord.channel.id, {
      match: (m) => m.content.includes('paper lantern') && m.content.includes('Image #1'),
      timeoutMs: 10_000,
    });

    const task = [...proxy.tasks.values()].find((t) => t.action === 'UPSCALE')!;
    expect(proxy.taskJson(task.id)!.buttons).toBeUndefined(); // the fetch names none
    const labels = buttons(upscale).map((b) => b.label ?? b.emoji);
    expect(labels).toEqual(expect.arrayContaining(['Upscale (Subtle)', 'Vary (Strong)', 'Vary (Region)', 'Zoom Out 2x']));

    discord.clickButton({ messageId: upscale.id, customId: button(upscale, 'Vary (Strong)').customId, user: discord.alice });
    await discord.waitFor(() => proxy.requestsTo('/task/action').length === 2, { timeoutMs: 10_000 });
    const sent = proxy.requestsTo('/task/action')[1]!.body as { taskId: string; customId: string };
    expect(sent.taskId).toBe(task.id);
    expect(sent.customId).toBe(task.fake.buttons.find((b) => b.label === 'Vary (Strong)')!.customId);
  });

  it('buttons of a callback without the secret, naming another job, or too many are never drawn', async () => {
    const { discord, proxy } = world;
    proxy.disableNotify(); // only the callbacks below reach the bot
    discord.slash({ name: 'imagine', options: { prompt: 'a forged lantern' }, user: discord.alice });
    await discord.waitFor(() => [...proxy.tasks.values()].find((t) => t.prompt === 'a forged lantern'), { timeoutMs: 10_000 });
    const task = [...proxy.tasks.values()].find((t) => t.prompt === 'a forged lantern')!;
    // callbacks for a task the bot has not recorded yet only wait for the safety sweep: send them once it has
    await discord.waitFor(
      async () => ((await world.app.services.repos.jobs.recentForUser(discord.alice.id, 1))[0]?.upstreamId === task.id ? true : undefined),
      { timeoutMs: 10_000 },
    );
    proxy.complete(task.id);
    const hook = String((proxy.requestsTo('/submit/imagine').at(-1)!.body as { notifyHook: string }).notifyHook);
    const other = '0b7c6f4e-1111-4a2b-9c3d-123456789abc';
    const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const foreign = [
      { customId: `MJ::JOB::upsample::1::${other}`, label: 'U1' },
      { customId: `MJ::JOB::variation::2::${other}`, label: 'V2' },
    ];
    expect(
      (
        await post(`http://127.0.0.1:${port}/hooks/mj/wrong-secret`, {
          id: task.id,
          status: 'IN_PROGRESS',
          buttons: [{ customId: `MJ::JOB::reroll::0::${other}::SOLO` }],
        })
      ).status,
    ).toBe(403);
    const many = Array.from({ length: 40 }, (_, i) => ({ customId: `MJ::JOB::upsample::${(i % 4) + 1}::${task.fake.hash}`, label: 'X' }));
    expect((await post(hook, { id: task.id, status: 'IN_PROGRESS', buttons: many })).status).toBe(200);
    expect((await post(hook, { id: task.id, status: 'SUCCESS', buttons: foreign })).status).toBe(200);

    const result = await waitForResult(discord, discord.channel.id, {
      match: (m) => m.content.includes('forged lantern') && m.attachments.length > 0,
      timeoutMs: 10_000,
    });
    const ids = (await world.app.services.repos.jobs.recentForUser(discord.alice.id, 1))[0]!.result!.buttons.map((b) => b.customId);
    expect(ids.some((id) => id.includes(other))).toBe(false);
    expect(ids).toHaveLength(9); // the grid drawn from the task's own hash, not the 40 nor the foreign ones
    expect(ids.every((id) => id.includes(task.fake.hash))).toBe(true);
    expect(buttons(result)).toHaveLength(9);
    proxy.enableNotify();
  });
});
