import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ALL_PERMISSIONS, type FakeChannel, type FakeInteraction, type FakeMessage } from '../fakes/discord/index.js';
import { runDoctor } from '../../src/doctor/checks.js';
import { makeJpeg, makePng } from '../fakes/images.js';
import { button, waitForResult } from '../support/discordHelpers.js';
import { World } from '../support/world.js';

/**
 * /video and the "Animate" message menu (issue 15): the exact `submit/video` body on trueai, `--video 1` on an
 * imagine where the proxy has no video route, the proxy's feature gates (codes 4, 9, 3 and a missing route) told
 * plainly in the member's language and never retried, bad input refused before anything is sent, and the command
 * not offered where a video cannot start.
 */
const dataUrl = (mime: string, bytes: Buffer) => `data:${mime};base64,${bytes.toString('base64')}`;

/** the ephemeral reply of a command, once it says something */
async function reply(world: World, ix: FakeInteraction): Promise<FakeMessage> {
  await ix.firstCallback(3000);
  return world.discord.waitFor(() => {
    const m = ix.original() ?? ix.followups()[0];
    return m?.content ? m : undefined;
  });
}

/** `/admin status` as the server's owner sees it */
async function adminStatus(world: World, locale = 'en-US'): Promise<string> {
  const ix = world.discord.slash({ name: 'admin', subcommand: 'status', user: world.discord.owner, permissions: ALL_PERMISSIONS, locale });
  return (await reply(world, ix)).content;
}

describe('/video on a trueai proxy', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.start({ proxy: { stepMs: 40, hdVideo: true } });
  });
  afterAll(async () => {
    await world?.close();
  });
  afterEach(() => {
    world.proxy.setOptions({ videoEnabled: true, videoRoute: true, videoAccounts: 'ok', hdVideo: true });
  });

  let seq = 0;
  const newChannel = (): FakeChannel => world.discord.addChannel(world.discord.guild.id, { name: `video-${++seq}` });
  const videoSubmits = () => world.proxy.requestsTo('/submit/video');
  const anySubmits = () => world.proxy.requests.filter((r) => r.route.includes('/submit/')).length;

  it('is offered with its options, and "Animate" beside it', () => {
    const names = world.discord.registeredCommands(world.discord.guild.id).map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['video', 'Animate']));
    const video = world.discord.registeredCommands(world.discord.guild.id).find((c) => c.name === 'video')!;
    const options = (video.options as { name: string; required?: boolean }[]).map((o) => o.name);
    expect(options).toEqual(['image', 'prompt', 'end_image', 'loop', 'motion', 'batch', 'hd', 'speed', 'delivery']);
    expect(video.name_localizations).toEqual({ 'zh-CN': '视频' });
  });

  it('/admin status says video and image upload answer, and what only the first video can tell', async () => {
    const text = await adminStatus(world);
    expect(text).toContain('✅ Video: available (Remix and HD on the accounts show at the first video)');
    expect(text).toContain('✅ Image upload: available');
    world.proxy.setOptions({ videoEnabled: false });
    expect(await adminStatus(world, 'zh-CN')).toContain('❌ 视频: 代理上已关闭');
  });

  it('sends the upload, prompt, end frame, motion, batch and HD as the exact submit/video body', async () => {
    const ch = newChannel();
    const start = makePng(64, 48, { seed: 7 });
    const end = makeJpeg(32, 32);
    const before = videoSubmits().length;
    const ix = world.discord.slash({
      name: 'video',
      channelId: ch.id,
      user: world.discord.alice,
      options: {
        image: { attachment: { name: 'start.png', bytes: start } },
        prompt: 'the cat waves',
        end_image: { attachment: { name: 'end.jpg', bytes: end } },
        motion: 'high',
        batch: 2,
        hd: true,
      },
    });
    expect((await ix.firstCallback(3000)).type).toBe(5);
    const accepted = await reply(world, ix);
    expect(accepted.ephemeral).toBe(true);
    expect(accepted.content).toContain('accepted');
    const jobId = /`([a-z2-9]+)`/.exec(accepted.content)![1]!;

    expect(videoSubmits()).toHaveLength(before + 1);
    expect(videoSubmits()[before]!.body).toEqual({
      prompt: 'the cat waves',
      image: dataUrl('image/png', start),
      endImage: dataUrl('image/jpeg', end),
      motion: 'high',
      batchSize: 2,
      videoType: 'vid_1.1_i2v_720',
      state: jobId,
    });
    const task = [...world.proxy.tasks.values()].find((t) => t.state === jobId)!;
    expect(task.action).toBe('VIDEO');
    expect(task.properties?.finalPrompt).toMatch(/^https:\/\/\S+ the cat waves --video 1 --end https:\/\/\S+ --motion high --bs 2$/);

    // the VIDEO task comes back as playable clips in the channel, pinging the member
    const result = await waitForResult(world.discord, ch.id, { match: (m) => m.attachments.some((a) => a.content_type === 'video/mp4') });
    expect(result.content).toContain(`<@${world.discord.alice.id}>`);
    expect(result.content).toContain('the cat waves');
    expect(result.attachments.filter((a) => a.content_type === 'video/mp4').length).toBeGreaterThan(0);
  });

  it('without a prompt: loop and the default low motion; the route gets the motion as its prompt (it refuses a blank one)', async () => {
    const before = videoSubmits().length;
    const start = makePng(40, 40, { seed: 3 });
    const ix = world.discord.slash({
      name: 'video',
      channelId: newChannel().id,
      options: { image: { attachment: { name: 'a.png', bytes: start } }, loop: true },
    });
    expect((await reply(world, ix)).content).toContain('accepted');
    const body = videoSubmits()[before]!.body as Record<string, unknown>;
    expect(body).toMatchObject({ prompt: '--motion low', image: dataUrl('image/png', start), loop: true, motion: 'low' });
    expect(body).not.toHaveProperty('endImage');
    expect(body).not.toHaveProperty('videoType');
    expect(body).not.toHaveProperty('batchSize');
  });

  const gates: { name: string; set: Parameters<World['proxy']['setOptions']>[0]; hd?: boolean; en: string; zh: string }[] = [
    {
      name: 'code 4: video switched off on the proxy',
      set: { videoEnabled: false },
      en: "Video is switched off on the Midjourney Proxy this bot uses. An admin needs to enable video in the proxy's settings.",
      zh: '本机器人使用的 Midjourney Proxy 关闭了视频功能。需要管理员在代理设置中启用视频。',
    },
    {
      name: 'code 9: Remix off on the accounts',
      set: { videoAccounts: 'remix-off' },
      en: "Video needs Remix mode on the proxy's Midjourney accounts. An admin needs to turn Remix on for those accounts (/settings in Midjourney).",
      zh: '视频需要代理的 Midjourney 账号开启 Remix 模式。需要管理员为这些账号打开 Remix（在 Midjourney 中使用 /settings）。',
    },
    {
      name: 'code 3: no account able (HD without an HD account)',
      set: { hdVideo: false },
      hd: true,
      en: "None of the proxy's Midjourney accounts can make this video right now (for HD video, an account with HD video is needed). An admin needs to add or enable one; try again later, or without HD.",
      zh: '代理的 Midjourney 账号目前都无法生成这个视频（高清视频需要支持高清视频的账号）。需要管理员添加或启用账号；请稍后再试，或不选高清。',
    },
    {
      name: 'a proxy without the route (404)',
      set: { videoRoute: false },
      en: 'The Midjourney Proxy this bot uses has no video feature. An admin needs a proxy version that supports video.',
      zh: '本机器人使用的 Midjourney Proxy 没有视频功能。需要管理员换用支持视频的代理版本。',
    },
  ];

  for (const gate of gates) {
    it(`${gate.name}: the member is told what the admin must enable, in their language; nothing is retried`, async () => {
      world.proxy.setOptions(gate.set);
      for (const [locale, text] of [
        ['en-US', gate.en],
        ['zh-CN', gate.zh],
      ] as const) {
        const before = videoSubmits().length;
        const all = anySubmits();
        const ix = world.discord.slash({
          name: 'video',
          channelId: newChannel().id,
          locale,
          options: { image: { attachment: { name: 'a.png', bytes: makePng(32, 32, { seed: ++seq }) } }, ...(gate.hd ? { hd: true } : {}) },
        });
        const answer = await reply(world, ix);
        expect(answer.ephemeral).toBe(true);
        expect(answer.content).toBe(text);
        expect(answer.content).not.toMatch(/视频功能未启用|REMIX|无可用/); // the proxy's own words are not pasted in
        expect(videoSubmits()).toHaveLength(before + 1);
        expect(anySubmits()).toBe(all + 1); // not retried, nor sent another way
      }
    });
  }

  it('bad input is refused before anything is sent: not an image, too large, an end frame and loop together', async () => {
    const before = anySubmits();
    const text = Buffer.from('just some text, not a picture\n'.repeat(10));
    const notImage = await reply(
      world,
      world.discord.slash({ name: 'video', options: { image: { attachment: { name: 'cat.png', bytes: text, contentType: 'image/png' } } } }),
    );
    expect(notImage.content).toBe('“cat.png” is not an image I can read. Please attach a PNG, JPEG, WebP or GIF.');

    const downloads = world.discord.attachmentDownloads.length;
    const big = Buffer.concat([makePng(8, 8), Buffer.alloc(11 * 1024 * 1024)]);
    const tooBig = await reply(world, world.discord.slash({ name: 'video', options: { image: { attachment: { name: 'huge.png', bytes: big } } } }));
    expect(tooBig.content).toBe('“huge.png” is too large (11.0 MiB; the limit is 10.0 MiB).');
    expect(world.discord.attachmentDownloads.length).toBe(downloads);

    const both = await reply(
      world,
      world.discord.slash({
        name: 'video',
        locale: 'zh-CN',
        options: {
          image: { attachment: { name: 'a.png', bytes: makePng(16, 16) } },
          end_image: { attachment: { name: 'b.png', bytes: makePng(16, 16) } },
          loop: true,
        },
      }),
    );
    expect(both.content).toBe('结束图片和循环只能选一个。');
    expect(anySubmits()).toBe(before);
  });

  it('"Animate" on a finished upscale of the member\'s starts a low-motion video from the image the bot posted', async () => {
    const ch = newChannel();
    world.discord.slash({ name: 'imagine', channelId: ch.id, options: { prompt: 'a lighthouse at dusk' }, user: world.discord.alice });
    const grid = await waitForResult(world.discord, ch.id, { match: (m) => m.content.includes('lighthouse at dusk') && m.attachments.length > 0 });
    world.discord.clickButton({ messageId: grid.id, customId: button(grid, 'U1').customId, user: world.discord.alice });
    const upscale = await waitForResult(world.discord, ch.id, {
      match: (m) => m.id !== grid.id && m.content.includes('lighthouse at dusk') && m.attachments.length > 0,
    });

    // someone else's result, and a message the bot did not post, are refused without a submit
    const before = videoSubmits().length;
    const bob = await reply(world, world.discord.messageCommand({ name: 'Animate', targetMessageId: upscale.id, channelId: ch.id, user: world.discord.bob }));
    expect(bob.content).toBe('You can only animate your own results.');
    const plain = world.discord.userSendsMessage({ channelId: ch.id, user: world.discord.alice, content: 'hello' });
    const notOurs = await reply(
      world,
      world.discord.messageCommand({ name: 'Animate', targetMessageId: plain.id, channelId: ch.id, user: world.discord.alice }),
    );
    expect(notOurs.content).toBe('Animate works on results this bot posted. Use /video to animate any image.');
    expect(videoSubmits()).toHaveLength(before);

    const ix = world.discord.messageCommand({ name: 'Animate', targetMessageId: upscale.id, channelId: ch.id, user: world.discord.alice });
    expect((await reply(world, ix)).content).toContain('accepted');
    expect(videoSubmits()).toHaveLength(before + 1);
    const body = videoSubmits()[before]!.body as Record<string, unknown>;
    expect(body).toMatchObject({ prompt: '--motion low', motion: 'low', image: dataUrl('image/png', upscale.attachments[0]!.bytes) });
  });
});

describe('/video on a proxy without the video route (novicezk)', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.start({ proxy: { flavor: 'novicezk', stepMs: 40 }, env: { MJ_FLAVOR: 'novicezk' } });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('sends an imagine whose prompt carries --video 1, the motion, the end and the batch; the start frame as its image; no HD option', async () => {
    const video = world.discord.registeredCommands(world.discord.guild.id).find((c) => c.name === 'video')!;
    expect((video.options as { name: string }[]).map((o) => o.name)).not.toContain('hd');
    const start = makePng(48, 48, { seed: 11 });
    const probes = world.proxy.requestsTo('/submit/video').length; // the start-up probe's (404 here)
    const ix = world.discord.slash({
      name: 'video',
      options: { image: { attachment: { name: 's.png', bytes: start } }, prompt: 'waves roll in', loop: true, motion: 'high', batch: 1 },
    });
    const accepted = await reply(world, ix);
    expect(accepted.content).toContain('accepted');
    const jobId = /`([a-z2-9]+)`/.exec(accepted.content)![1]!;
    expect(world.proxy.requestsTo('/submit/video')).toHaveLength(probes);
    expect(await adminStatus(world)).toContain('❔ Video: through --video 1 in the prompt (the proxy cannot tell whether its accounts can)');
    const [imagine] = world.proxy.requestsTo('/submit/imagine');
    expect(imagine!.body).toEqual({
      prompt: 'waves roll in --video 1 --motion high --end loop --bs 1',
      base64Array: [dataUrl('image/png', start)],
      state: jobId,
    });
  });
});

describe('/video where it cannot work', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  for (const [name, proxy] of [
    ['video switched off on the proxy (code 4 to the probe)', { videoEnabled: false }],
    ['a trueai gateway without the route (404 to the probe)', { videoRoute: false }],
  ] as const) {
    it(`is not offered, nor "Animate": ${name}`, async () => {
      world = await World.start({ proxy });
      const names = world.discord.registeredCommands(world.discord.guild.id).map((c) => c.name);
      expect(names).toContain('imagine');
      expect(names).not.toContain('video');
      expect(names).not.toContain('Animate');
      // the probe started nothing
      expect(world.proxy.tasks.size).toBe(0);
      // the doctor says so, and expects the commands the bot registered (no drift)
      const report = await runDoctor(world.env(), { timeoutMs: 3000 });
      const video = report.results.find((r) => r.id === 'proxy-video')!;
      expect(video.status).toBe('skip');
      expect(video.detail).toMatch(/^(switched off on the proxy \(code 4\)|the proxy has no POST \/mj\/submit\/video \(404\)): \/video is not offered/);
      expect(report.results.find((r) => r.id === 'commands')!.status).toBe('pass');
    });
  }
});
