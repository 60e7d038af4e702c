import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_PERMISSIONS, type FakeInteraction, type FakeMessage } from '../fakes/discord/index.js';
import { readMp4 } from '../fakes/mp4.js';
import { botMessages, button, buttons, waitForResult } from '../support/discordHelpers.js';
import { World } from '../support/world.js';

/** Video results end to end: Animate → a grid of four clips → U → one clip → Extend, played in Discord as MP4 attachments. */
describe('video results', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.start({ proxy: { stepMs: 40 } });
  });
  afterAll(async () => {
    await world?.close();
  });

  let seq = 0;
  const customIdOf = (r: { body: unknown }) => String((r.body as { customId?: string }).customId);
  const actionsFor = (taskId: string) => world.proxy.requestsTo('/submit/action').filter((r) => (r.body as { taskId: string }).taskId === taskId);
  const videoFiles = (m: FakeMessage) => m.attachments.filter((a) => a.content_type === 'video/mp4');

  /** /imagine, then U1: the upscale (with Animate) and its task. */
  async function upscaled(prompt: string): Promise<{ msg: FakeMessage; taskId: string; tag: string }> {
    const tag = `v${++seq}`;
    world.discord.slash({ name: 'imagine', options: { prompt: `${prompt} ${tag}` }, user: world.discord.alice });
    const grid = await waitForResult(world.discord, world.discord.channel.id, { match: (m) => m.content.includes(tag) && !m.content.includes('Image #') });
    world.discord.clickButton({ messageId: grid.id, customId: button(grid, 'U1').customId, user: world.discord.alice });
    const msg = await waitForResult(world.discord, world.discord.channel.id, { match: (m) => m.content.includes(tag) && m.content.includes('Image #1') });
    const task = [...world.proxy.tasks.values()].find((t) => t.action === 'UPSCALE' && t.prompt?.includes(tag))!;
    return { msg, taskId: task.id, tag };
  }

  /** Press a button; resolves with the interaction once the upstream got exactly that button's customId. */
  async function press(msg: FakeMessage, label: string, taskId: string, opts: { attachmentSizeLimit?: number } = {}): Promise<FakeInteraction> {
    const upstream = world.proxy.task(taskId)!.buttons!.find((b) => b.label === label || (!b.label && b.emoji === label))!;
    const ix = world.discord.clickButton({ messageId: msg.id, customId: button(msg, label).customId, user: world.discord.alice, ...opts });
    await world.discord.waitFor(() => actionsFor(taskId).find((r) => customIdOf(r) === upstream.customId));
    return ix;
  }

  /** The video task a press on `parentId` started, and the message its job was delivered in (found through the bot's store). */
  async function delivered(parentId: string, opts: { action?: string } = {}) {
    const task = await world.discord.waitFor(() =>
      [...world.proxy.tasks.values()].find((t) => t.parentId === parentId && t.fake.video && (!opts.action || t.action === opts.action)),
    );
    const msg = await world.discord.waitFor(
      async () => {
        const job = await world.app.services.repos.jobs.findByUpstream('mj', task.id);
        const ref = job?.deliveredAt ? job.messages.results[0] : undefined;
        return ref ? world.discord.message(ref.messageId) : undefined;
      },
      { timeoutMs: 15_000 },
    );
    return { task: world.proxy.task(task.id)!, msg };
  }

  /** The clips a video task lists (`videoUrls`, §3.10a). */
  const clipsOf = (t: { videoUrls?: unknown; id: string }) => (t.videoUrls ?? []) as { url: string; thumbnail?: string }[];

  /** The delivered messages that show this job's clips (as files named after the job, or as links). */
  function copiesOf(jobId: string, taskId: string): FakeMessage[] {
    const urls = clipsOf(world.proxy.task(taskId)!).map((v) => v.url);
    return botMessages(world.discord, world.discord.channel.id).filter(
      (m) => urls.some((u) => m.content.includes(u)) || videoFiles(m).some((a) => a.filename.includes(`_${jobId}_`)),
    );
  }

  it('imagine → U1 → Animate (High) → four playable clips with U1–U4 and 🔄 → U2 → one clip with Extend → Extend → a longer clip, every press its exact customId', async () => {
    const up = await upscaled('a paper boat');
    const upTask = world.proxy.task(up.taskId)!;
    expect(buttons(up.msg).map((b) => b.label)).toEqual(expect.arrayContaining(['Animate (High motion)', 'Animate (Low motion)']));

    await press(up.msg, 'Animate (High motion)', up.taskId);
    expect(customIdOf(actionsFor(up.taskId)[0]!)).toBe(`MJ::JOB::animate_high::1::${upTask.fake.hash}::SOLO`);
    const grid = await delivered(up.taskId);
    expect(grid.task.action).toBe('VIDEO');
    expect(grid.task.contentType).toBe('video/mp4');
    const clips = videoFiles(grid.msg);
    expect(clips).toHaveLength(4);
    for (const c of clips) {
      expect(c.filename).toMatch(/\.mp4$/);
      expect(readMp4(c.bytes)).toEqual({ brand: 'isom', durationS: 5 });
    }
    expect(grid.msg.content).not.toMatch(/larger than|link/i);
    expect(buttons(grid.msg).map((b) => b.label ?? b.emoji)).toEqual(['U1', 'U2', 'U3', 'U4', '🔄']);

    await press(grid.msg, 'U2', grid.task.id);
    expect(customIdOf(actionsFor(grid.task.id)[0]!)).toBe(`MJ::JOB::video_virtual_upscale::2::${grid.task.fake.hash}`);
    const clip = await delivered(grid.task.id, { action: 'UPSCALE' });
    expect(videoFiles(clip.msg)).toHaveLength(1);
    expect(readMp4(videoFiles(clip.msg)[0]!.bytes)?.durationS).toBe(5);
    expect(buttons(clip.msg).map((b) => b.label)).toEqual(expect.arrayContaining(['Extend (High motion)', 'Extend (Low motion)']));

    await press(clip.msg, 'Extend (High motion)', clip.task.id);
    expect(customIdOf(actionsFor(clip.task.id)[0]!)).toBe(`MJ::JOB::animate_high_extend::1::${clip.task.fake.hash}`);
    const longer = await delivered(clip.task.id);
    expect(videoFiles(longer.msg)).toHaveLength(1);
    expect(readMp4(videoFiles(longer.msg)[0]!.bytes)?.durationS).toBe(9);
    expect(buttons(longer.msg).map((b) => b.label)).toEqual(expect.arrayContaining(['Extend (High motion)']));
  }, 40_000);

  it('Extend is offered until the clip would pass the longest video, then no more', async () => {
    world.proxy.setOptions({ videoMaxSeconds: 9 });
    try {
      const up = await upscaled('a kite');
      await press(up.msg, 'Animate (Low motion)', up.taskId);
      const grid = await delivered(up.taskId);
      await press(grid.msg, 'U1', grid.task.id);
      const clip = await delivered(grid.task.id, { action: 'UPSCALE' });
      await press(clip.msg, 'Extend (Low motion)', clip.task.id);
      const longest = await delivered(clip.task.id);
      expect(readMp4(videoFiles(longest.msg)[0]!.bytes)?.durationS).toBe(9);
      expect(buttons(longest.msg).filter((b) => /Extend/.test(b.label ?? ''))).toEqual([]);
    } finally {
      world.proxy.setOptions({ videoMaxSeconds: 21 });
    }
  }, 40_000);

  it('with remix on, Animate opens a modal prefilled with the motion prompt; the edit goes through the modal route', async () => {
    const up = await upscaled('a windmill');
    await world.app.services.repos.users.updateSettings(world.discord.alice.id, { remix: true });
    try {
      const ix = world.discord.clickButton({ messageId: up.msg.id, customId: button(up.msg, 'Animate (High motion)').customId, user: world.discord.alice });
      expect((await ix.firstCallback(3000)).type).toBe(9); // the modal is the first answer
      const prefill = JSON.stringify(ix.modal());
      expect(prefill).toContain(`a windmill ${up.tag}`);
      expect(prefill).toContain('--video 1 --motion high');
      const sub = world.discord.submitModal({
        customId: (ix.modal() as { custom_id: string }).custom_id,
        fields: { prompt: `a windmill ${up.tag} in a storm --video 1 --motion high` },
        user: world.discord.alice,
        messageId: up.msg.id,
      });
      await world.discord.waitFor(() => sub.original()?.content.includes('accepted'));
      const action = actionsFor(up.taskId)[0]!;
      expect(customIdOf(action)).toBe(`MJ::JOB::animate_high::1::${world.proxy.task(up.taskId)!.fake.hash}::SOLO`);
      const modalReq = world.proxy.requestsTo('/submit/modal').at(-1)!;
      expect((modalReq.body as { prompt: string }).prompt).toBe(`a windmill ${up.tag} in a storm --video 1 --motion high`);
      const { msg } = await delivered(up.taskId);
      expect(videoFiles(msg)).toHaveLength(4);
    } finally {
      await world.app.services.repos.users.updateSettings(world.discord.alice.id, { remix: false });
    }
  }, 30_000);

  it('with remix on the proxy account, Animate is answered 21 MODAL prefilled with the motion prompt, offered as an edit that completes the video', async () => {
    const up = await upscaled('a lantern');
    world.proxy.setOptions({ remix: true });
    try {
      const ix = await press(up.msg, 'Animate (Low motion)', up.taskId);
      const offer = await world.discord.waitFor(() => ix.followups().find((m) => m.content.includes('Remix')));
      const editIx = world.discord.clickButton({ messageId: offer.id, customId: button(offer, 'Edit prompt').customId, user: world.discord.alice });
      expect((await editIx.firstCallback()).type).toBe(9);
      expect(JSON.stringify(editIx.modal())).toContain(`a lantern ${up.tag}`);
      expect(JSON.stringify(editIx.modal())).toContain('--video 1 --motion low');
      const sub = world.discord.submitModal({
        customId: (editIx.modal() as { custom_id: string }).custom_id,
        fields: { prompt: `a lantern ${up.tag} at dusk --video 1 --motion low` },
        user: world.discord.alice,
        messageId: offer.id,
      });
      await sub.firstCallback();
      const { task, msg } = await delivered(up.taskId);
      expect(task.fake.modalPrompt).toBe(`a lantern ${up.tag} at dusk --video 1 --motion low`);
      expect(videoFiles(msg)).toHaveLength(4);
    } finally {
      world.proxy.setOptions({ remix: false });
    }
  }, 30_000);

  it('a clip larger than the interaction allows is a worded link to the upstream URL with its thumbnail; a 300 KB clip is attached', async () => {
    world.proxy.setOptions({ videoClipBytes: 300 * 1024 });
    try {
      const small = await upscaled('a tide pool');
      await press(small.msg, 'Animate (High motion)', small.taskId);
      const attached = await delivered(small.taskId);
      expect(videoFiles(attached.msg)).toHaveLength(4);
      expect(videoFiles(attached.msg)[0]!.size).toBe(300 * 1024);
      expect(attached.msg.content).not.toMatch(/larger than/i);

      const big = await upscaled('a glacier');
      await press(big.msg, 'Animate (High motion)', big.taskId, { attachmentSizeLimit: 200 * 1024 });
      const linked = await delivered(big.taskId);
      expect(linked.msg.attachments).toHaveLength(0);
      for (const [i, v] of clipsOf(linked.task).entries()) {
        expect(linked.msg.content).toContain(`Clip ${i + 1} (300 KB) is larger than Discord lets me upload here (200 KB)`);
        expect(linked.msg.content).toContain(v.url);
      }
      expect(linked.msg.content).not.toContain('cdn.discordapp.com');
      expect((linked.msg.embeds[0] as { image?: { url?: string } }).image?.url).toBe(clipsOf(linked.task)[0]!.thumbnail);
      expect(buttons(linked.msg).map((b) => b.label ?? b.emoji)).toEqual(['U1', 'U2', 'U3', 'U4', '🔄']);
      // not downloaded: its declared size was read first
      const fetched = world.proxy.requests.filter((r) => r.path.startsWith(`/videos/${linked.task.id}/`) && r.path.endsWith('.mp4'));
      expect(fetched.every((r) => r.status === 200)).toBe(true);
    } finally {
      world.proxy.setOptions({ videoClipBytes: 48 * 1024 });
    }
  }, 40_000);

  it('/job id re-posts a video result with its clips as MP4 files and its buttons', async () => {
    const up = await upscaled('a night train');
    await press(up.msg, 'Animate (Low motion)', up.taskId);
    const { task, msg } = await delivered(up.taskId);
    const job = (await world.app.services.repos.jobs.findByUpstream('mj', task.id))!;
    const elsewhere = world.discord.addChannel(world.discord.guild.id, { name: `video-${++seq}` });
    world.discord.slash({ name: 'job', options: { id: job.id }, channelId: elsewhere.id, user: world.discord.alice });
    const repost = await world.discord.waitFor(() => botMessages(world.discord, elsewhere.id).find((m) => videoFiles(m).length > 0));
    expect(videoFiles(repost).map((a) => a.bytes.length)).toEqual(videoFiles(msg).map((a) => a.bytes.length));
    expect(readMp4(videoFiles(repost)[0]!.bytes)?.durationS).toBe(5);
    expect(buttons(repost).map((b) => b.label ?? b.emoji)).toEqual(['U1', 'U2', 'U3', 'U4', '🔄']);
  }, 30_000);

  it('a video job in flight across a restart is delivered once', async () => {
    const up = await upscaled('a comet');
    world.proxy.pause();
    try {
      await press(up.msg, 'Animate (High motion)', up.taskId);
      const task = await world.discord.waitFor(() => [...world.proxy.tasks.values()].find((t) => t.parentId === up.taskId && t.fake.video));
      await world.discord.waitFor(() => world.app.services.repos.jobs.findByUpstream('mj', task.id));
      await world.stopBot();
      world.proxy.complete(task.id); // it finishes while the bot is down
      await world.startBot();
      const { msg } = await delivered(up.taskId);
      expect(videoFiles(msg)).toHaveLength(4);
      await world.app.services.tracker.idle();
      const job = (await world.app.services.repos.jobs.findByUpstream('mj', task.id))!;
      expect(copiesOf(job.id, task.id).map((m) => m.id)).toEqual([msg.id]);
    } finally {
      world.proxy.resume();
    }
  }, 40_000);

  it("a member's concurrent-job limit counts video jobs", async () => {
    const answer = async (ix: FakeInteraction) => {
      await ix.firstCallback(3000);
      return world.discord.waitFor(() => ix.original()?.content || ix.followups()[0]?.content || undefined);
    };
    const up = await upscaled('a lighthouse');
    await world.discord.waitFor(() => world.app.services.tracker.size === 0, { timeoutMs: 10_000 });
    const admin = world.discord.slash({
      name: 'admin',
      subcommand: 'limits',
      options: { concurrent: 1 },
      user: world.discord.owner,
      permissions: ALL_PERMISSIONS,
    });
    expect(await answer(admin)).toContain('at once: 1');
    world.proxy.pause();
    try {
      await press(up.msg, 'Animate (High motion)', up.taskId);
      const before = world.proxy.requestsTo('/submit/imagine').length;
      const refused = await answer(world.discord.slash({ name: 'imagine', options: { prompt: 'one more' }, user: world.discord.alice }));
      // refused, or held back until the video job ends (never started beside it)
      expect(refused).toMatch(/You already have 1 job\(s\) running|queued/);
      expect(world.proxy.requestsTo('/submit/imagine')).toHaveLength(before);
    } finally {
      world.proxy.resume();
      const reset = world.discord.slash({
        name: 'admin',
        subcommand: 'limits',
        options: { concurrent: 0 },
        user: world.discord.owner,
        permissions: ALL_PERMISSIONS,
      });
      await answer(reset);
    }
  }, 30_000);
});
