import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeChannel, FakeInteraction, FakeMessage } from '../fakes/discord/index.js';
import { Permissions } from '../fakes/discord/index.js';
import { botMessages, button, buttons, waitForResult } from '../support/discordHelpers.js';
import { World } from '../support/world.js';

/** /job, /settings, /info and the seed (✉️ and /seed), end to end. Each test works in its own channel. */
describe('job, settings, info, seed', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.start({ proxy: { stepMs: 60 } });
  });
  afterAll(async () => {
    await world?.close();
  });

  let seq = 0;
  const newChannel = (): FakeChannel => world.discord.addChannel(world.discord.guild.id, { name: `jobs-${++seq}` });

  async function imagine(ch: FakeChannel, prompt: string, user = world.discord.alice): Promise<{ jobId: string; tag: string }> {
    const tag = `${prompt} t${++seq}`;
    const ix = world.discord.slash({ name: 'imagine', channelId: ch.id, options: { prompt: tag }, user });
    const accepted = await ephemeral(ix, 'accepted');
    return { jobId: /`([a-z2-9]+)`/.exec(accepted.content)![1]!, tag };
  }

  async function ephemeral(ix: FakeInteraction, includes: string): Promise<FakeMessage> {
    return world.discord.waitFor(() => {
      const m = ix.original() ?? ix.followups()[0];
      return m?.content.includes(includes) ? m : undefined;
    });
  }

  it('/job id re-posts a finished job with buttons that work; /job lists recent jobs', async () => {
    const ch = newChannel();
    const { jobId, tag } = await imagine(ch, 'a paper boat');
    const original = await waitForResult(world.discord, ch.id, { match: (m) => m.content.includes(tag) });
    const taskId = (await world.app.services.jobs.get(jobId))!.upstreamId!;

    const elsewhere = newChannel();
    const ix = world.discord.slash({ name: 'job', options: { id: jobId }, channelId: elsewhere.id });
    const said = await ephemeral(ix, 'posted again');
    const repost = await world.discord.waitFor(() => botMessages(world.discord, elsewhere.id).find((m) => m.content.includes(tag)));
    expect(said.content).toContain(repost.id);
    expect(repost.attachments).toHaveLength(1);
    expect(repost.attachments[0]!.bytes.equals(original.attachments[0]!.bytes)).toBe(true);
    expect(repost.pingedUserIds).toEqual([]);
    expect(buttons(repost).map((b) => b.label ?? b.emoji)).toEqual(buttons(original).map((b) => b.label ?? b.emoji));

    const clickIx = world.discord.clickButton({ messageId: repost.id, customId: button(repost, 'V3').customId, user: world.discord.alice });
    expect((await clickIx.firstCallback()).type).toBe(6);
    const press = await world.discord.waitFor(() => world.proxy.requestsTo('/submit/action').find((r) => (r.body as { taskId: string }).taskId === taskId));
    expect((press.body as { customId: string }).customId).toMatch(/^MJ::JOB::variation::3::/);
    // pressed on the re-post: drawn as used on both copies
    await world.discord.waitFor(
      () => button(world.discord.message(original.id)!, 'V3').style === 1 && button(world.discord.message(repost.id)!, 'V3').style === 1,
      { timeoutMs: 10_000 },
    );

    const listed = await ephemeral(world.discord.slash({ name: 'job', options: {} }), 'recent jobs');
    expect(listed.content).toContain(`\`${jobId}\``);
  });

  it("/job refuses someone else's job, unless they may manage messages; unknown ids are refused", async () => {
    const ch = newChannel();
    const { jobId, tag } = await imagine(ch, 'a tin robot');
    await waitForResult(world.discord, ch.id, { match: (m) => m.content.includes(tag) });
    await ephemeral(world.discord.slash({ name: 'job', channelId: ch.id, options: { id: jobId }, user: world.discord.bob }), "isn't yours");
    const moderator = Permissions.ManageMessages | Permissions.ViewChannel | Permissions.SendMessages | Permissions.UseApplicationCommands;
    await ephemeral(
      world.discord.slash({ name: 'job', channelId: ch.id, options: { id: jobId }, user: world.discord.bob, permissions: moderator }),
      'posted again',
    );
    await ephemeral(world.discord.slash({ name: 'job', options: { id: 'zzzzzzzzzz' } }), "don't know a job");
  });

  it('/settings DM delivery changes where the next /imagine goes', async () => {
    const ch = newChannel();
    const panel = await ephemeral(world.discord.slash({ name: 'settings', channelId: ch.id, user: world.discord.bob }), 'Your settings');
    expect(panel.ephemeral).toBe(true);
    const sel = world.discord.selectMenu({ messageId: panel.id, customId: 'mj:set:delivery', values: ['dm'], user: world.discord.bob });
    expect((await sel.firstCallback()).type).toBe(7);
    await world.discord.waitFor(() => world.discord.message(panel.id)!.content.includes('Saved'));
    expect((await world.app.services.repos.users.settings(world.discord.bob.id)).delivery).toBe('dm');

    const { tag } = await imagine(ch, 'a glass whale', world.discord.bob);
    const dm = world.discord.dmChannelOf(world.discord.bob.id);
    const result = await waitForResult(world.discord, dm.id, { match: (m) => m.content.includes(tag) });
    expect(result.attachments).toHaveLength(1);
    expect(botMessages(world.discord, ch.id).some((m) => m.content.includes(tag))).toBe(false);
  });

  it('/settings remix on makes V1 open a prompt modal first', async () => {
    const ch = newChannel();
    const panel = await ephemeral(world.discord.slash({ name: 'settings', channelId: ch.id }), 'Your settings');
    await world.discord.selectMenu({ messageId: panel.id, customId: 'mj:set:remix', values: ['on'] }).firstCallback(); // saved before the panel is updated
    expect((await world.app.services.repos.users.settings(world.discord.alice.id)).remix).toBe(true);
    const { tag } = await imagine(ch, 'a folded crane');
    const result = await waitForResult(world.discord, ch.id, { match: (m) => m.content.includes(tag) });
    const v1 = world.discord.clickButton({ messageId: result.id, customId: button(result, 'V1').customId });
    expect((await v1.firstCallback()).type).toBe(9);
    await world.discord.selectMenu({ messageId: panel.id, customId: 'mj:set:remix', values: ['off'] }).firstCallback();
    expect((await world.app.services.repos.users.settings(world.discord.alice.id)).remix).toBe(false);
  });

  it('/info lists the in-flight job with its status, the jobs of today and the settings', async () => {
    const ch = newChannel();
    world.proxy.stickNext(1);
    const { jobId } = await imagine(ch, 'a slow sunrise');
    await world.discord.waitFor(() => world.app.services.tracker.get(jobId)?.status === 'running');
    const info = await ephemeral(world.discord.slash({ name: 'info', channelId: ch.id }), 'In progress');
    expect(info.content).toContain(`\`${jobId}\``);
    expect(info.content).toMatch(/running, \d+%/);
    const today = await world.app.services.repos.jobs.countToday(world.discord.alice.id);
    expect(today).toBeGreaterThanOrEqual(4);
    expect(info.content).toContain(`Jobs started today: ${today}`);
    expect(info.content).toContain('Delivery: In this channel');
  });

  it('✉️ on an upscale and /seed tell the seed; a proxy without a DM channel gets a clear message', async () => {
    const ch = newChannel();
    const { jobId, tag } = await imagine(ch, 'a copper kettle');
    const grid = await waitForResult(world.discord, ch.id, { match: (m) => m.content.includes(tag) });
    expect(buttons(grid).some((b) => b.emoji === '✉️')).toBe(false);
    world.discord.clickButton({ messageId: grid.id, customId: button(grid, 'U1').customId });
    const upscale = await waitForResult(world.discord, ch.id, { match: (m) => m.content.includes(tag) && m.content.includes('Image #1') });

    const said = await ephemeral(world.discord.clickButton({ messageId: upscale.id, customId: button(upscale, '✉️').customId }), 'seed of job');
    const upTask = [...world.proxy.tasks.values()].find((t) => t.action === 'UPSCALE' && String(t.prompt).includes(tag))!;
    expect(said.ephemeral).toBe(true);
    expect(said.content).toContain(`**${upTask.seed}**`);

    const gridTask = world.proxy.task((await world.app.services.jobs.get(jobId))!.upstreamId!)!;
    const told = await ephemeral(world.discord.slash({ name: 'seed', options: { job: jobId } }), 'seed of job');
    expect(told.content).toContain(`**${gridTask.seed}**`);

    world.proxy.setOptions({ seedAvailable: false });
    try {
      const other = await imagine(ch, 'a tea cup');
      await waitForResult(world.discord, ch.id, { match: (m) => m.content.includes(other.tag) });
      await ephemeral(world.discord.slash({ name: 'seed', options: { job: other.jobId } }), 'no DM channel');
    } finally {
      world.proxy.setOptions({ seedAvailable: true });
    }
    expect(world.discord.openApiProblems).toEqual([]);
  });
});
