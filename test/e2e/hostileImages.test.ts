import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeInteraction, FakeMessage, FakeUser } from '../fakes/discord/index.js';
import { ALL_PERMISSIONS } from '../fakes/discord/index.js';
import { bilevelPng, makePng } from '../fakes/images.js';
import { button, waitForResult } from '../support/discordHelpers.js';
import { World } from '../support/world.js';

const MiB = 1024 * 1024;

/**
 * Hostile files: masks built to freeze or exhaust the bot are refused before they are decoded (or decoded off the
 * event loop within a budget), and a member a limit refuses costs no download at all.
 */
describe('hostile images', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.start({ proxy: { stepMs: 50 }, picwish: { stepMs: 50 }, imgOpen: { stepMs: 50 } });
  });
  afterAll(async () => {
    await world?.close();
  });

  let seq = 0;
  const png = (w = 64, h = 48) => ({ name: `pic${++seq}.png`, bytes: makePng(w, h, { seed: seq }) });
  const submits = () => world.proxy.requestsTo('/submit/action').length + world.proxy.requestsTo('/submit/modal').length;
  const picwishCreates = () => world.picwish!.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/api/tasks/visual/')).length;
  const downloaded = (name: string) => world.discord.attachmentDownloads.some((d) => d.path.endsWith(`/${name}`));

  /** A fresh channel per result: Discord's ~5 writes per 5 s per channel would otherwise pace the tests. */
  function channel(): string {
    return world.discord.addChannel(world.discord.guild.id, { name: `hostile-${++seq}` }).id;
  }

  async function reply(ix: FakeInteraction): Promise<string> {
    return world.discord.waitFor(() => ix.original()?.content || ix.followups()[0]?.content || undefined, { timeoutMs: 20_000 });
  }

  /** An upscaled Midjourney result (512×512 from the fake proxy), which carries Vary (Region). */
  async function upscaled(user: FakeUser = world.discord.alice): Promise<FakeMessage> {
    const ch = channel();
    const tag = `u${++seq}`;
    world.discord.slash({ name: 'imagine', options: { prompt: `a harbour ${tag}` }, user, channelId: ch });
    const grid = await waitForResult(world.discord, ch, { match: (m) => m.content.includes(tag) });
    world.discord.clickButton({ messageId: grid.id, customId: button(grid, 'U1').customId, user });
    return waitForResult(world.discord, ch, { match: (m) => m.content.includes('Image #1') && m.content.includes(tag) });
  }

  /** An /inpaint result (64×48), which carries Inpaint again. */
  async function inpainted(user: FakeUser = world.discord.alice): Promise<FakeMessage> {
    const ch = channel();
    const started = world.discord.now();
    const ix = world.discord.slash({ name: 'inpaint', options: { image: { attachment: png() }, rectangles: '1,1,5,5' } as never, user, channelId: ch });
    await world.discord.waitFor(() => ix.original()?.content.includes('accepted'), { timeoutMs: 10_000 });
    return waitForResult(world.discord, ch, { after: started, timeoutMs: 20_000 });
  }

  /** Press a button that opens a modal, then submit the modal with a file. */
  async function modalWithFile(
    msg: FakeMessage,
    label: string,
    field: string,
    file: { name: string; bytes: Buffer },
    opts: { user?: FakeUser; locale?: string; fields?: Record<string, string> } = {},
  ): Promise<FakeInteraction> {
    const user = opts.user ?? world.discord.alice;
    const press = world.discord.clickButton({
      messageId: msg.id,
      customId: button(msg, label).customId,
      user,
      ...(opts.locale ? { locale: opts.locale } : {}),
    });
    expect((await press.firstCallback(3000)).type).toBe(9);
    return world.discord.submitModal({
      customId: String(press.modal()!['custom_id']),
      fields: opts.fields ?? { rects: '' },
      files: { [field]: [file] },
      user,
      messageId: msg.id,
      ...(opts.locale ? { locale: opts.locale } : {}),
    });
  }

  it('Vary (Region): a 17 KB mask of 12000×12000 is refused before decoding, and another member’s /imagine is acknowledged in time', async () => {
    const upscale = await upscaled();
    const mask = bilevelPng(12000, 12000);
    expect(mask.length).toBeLessThan(20_000);
    const before = submits();
    const bobChannel = channel();

    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const sub = await modalWithFile(upscale, 'Vary (Region)', 'mask', { name: 'huge-mask.png', bytes: mask });
    // member B keeps using the bot while A's file is handled: every command must be acknowledged in Discord's window
    const bob: FakeInteraction[] = [];
    for (let i = 0; i < 30 && !sub.original()?.content; i++) {
      bob.push(world.discord.slash({ name: 'imagine', options: { prompt: `meanwhile ${i}` }, user: world.discord.bob, channelId: bobChannel }));
      await new Promise((r) => setTimeout(r, 100));
    }
    const text = await reply(sub);
    delay.disable();

    expect(text).toBe('The mask is 12000×12000 but the image is 512×512; they must be the same size.');
    expect(submits()).toBe(before);
    expect(bob.length).toBeGreaterThan(0);
    for (const ix of bob) {
      const cb = await ix.firstCallback(5000);
      expect(cb.accepted).toBe(true);
      expect(cb.latencyMs).toBeLessThan(1000);
    }
    expect(delay.max / 1e6).toBeLessThan(500); // ms: the event loop was never blocked for long

    // the same refusal in Chinese
    const zh = await modalWithFile(upscale, 'Vary (Region)', 'mask', { name: 'huge-mask-zh.png', bytes: mask }, { locale: 'zh-CN' });
    expect(await reply(zh)).toBe('蒙版为 12000×12000，而图片为 512×512，两者必须一样大。');
    expect(submits()).toBe(before);
  });

  it('a mask whose data inflates far past its pixel size is refused on Vary (Region), /inpaint and Inpaint again, in English and Chinese', async () => {
    const upscale = await upscaled();
    const inpaint = await inpainted();
    const bomb = (w: number, h: number, interlaced: boolean) => bilevelPng(w, h, { white: true, interlaced, extraInflatedBytes: 64 * MiB });
    const mjBefore = submits();
    const pwBefore = picwishCreates();
    const refusal =
      'This PNG holds far more data than a mask of its size needs (it may be damaged, or built to overload the bot). Please export the mask again as a plain PNG.';

    const vary = await modalWithFile(upscale, 'Vary (Region)', 'mask', { name: 'bomb.png', bytes: bomb(512, 512, true) });
    expect(await reply(vary)).toBe(refusal);

    const slash = world.discord.slash({
      name: 'inpaint',
      options: { image: { attachment: png() }, mask: { attachment: { name: 'bomb2.png', bytes: bomb(64, 48, true) } } } as never,
    });
    expect(await reply(slash)).toBe(refusal);
    const flat = world.discord.slash({
      name: 'inpaint',
      options: { image: { attachment: png() }, mask: { attachment: { name: 'bomb3.png', bytes: bomb(64, 48, false) } } } as never,
    });
    expect(await reply(flat)).toBe(refusal);

    const again = await modalWithFile(inpaint, 'Inpaint again', 'mask', { name: 'bomb4.png', bytes: bomb(64, 48, true) }, { locale: 'zh-CN' });
    expect(await reply(again)).toBe('这个 PNG 里的数据远多于同尺寸蒙版所需（文件可能已损坏，或是为拖垮机器人而构造的）。请把蒙版重新导出为普通 PNG。');

    expect(submits()).toBe(mjBefore);
    expect(picwishCreates()).toBe(pwBefore);
  });

  it('an honest interlaced mask still works: decoded off the event loop into a clean black/white PNG', async () => {
    const before = picwishCreates();
    const ch = channel();
    const upload = bilevelPng(64, 48, { white: true, interlaced: true });
    const ix = world.discord.slash({
      name: 'inpaint',
      channelId: ch,
      options: { image: { attachment: png() }, mask: { attachment: { name: 'interlaced.png', bytes: upload } } } as never,
    });
    expect(await reply(ix)).toContain('accepted');
    await world.discord.waitFor(() => picwishCreates() > before);
    const sent = world.picwish!.requests.filter((r) => r.method === 'POST' && r.path === '/api/tasks/visual/inpaint').at(-1)!;
    // re-encoded by the bot as an opaque RGBA PNG, not passed through as the 1-bit interlaced upload
    expect(sent.fields!.mask_file).toMatchObject({ type: 'image/png' });
    expect((sent.fields!.mask_file as { size: number }).size).not.toBe(upload.length);
  });

  it('Vary (Region) rectangles on a result the upstream claims is 100000×100000: refused, no giant mask drawn', async () => {
    world.proxy.setOptions({ reportedSize: { width: 100_000, height: 100_000 } });
    let upscale: FakeMessage;
    try {
      upscale = await upscaled();
    } finally {
      world.proxy.setOptions({ reportedSize: null });
    }
    const before = submits();
    const press = world.discord.clickButton({ messageId: upscale.id, customId: button(upscale, 'Vary (Region)').customId });
    expect((await press.firstCallback(3000)).type).toBe(9);
    const sub = world.discord.submitModal({
      customId: String(press.modal()!['custom_id']),
      fields: { rects: '10,10,40,30', prompt: '' },
      messageId: upscale.id,
    });
    expect(await reply(sub)).toBe('The image is 100000×100000 pixels, more than I can work with (at most 4096×4096). Please use a smaller image.');
    expect(submits()).toBe(before);
  });

  it('a member a limit refuses costs nothing: no upload is downloaded and nothing reaches an upstream, on every path', async () => {
    const upscale = await upscaled();
    const inpaint = await inpainted();
    const swapped = await (async () => {
      const ch = channel();
      const started = world.discord.now();
      const ix = world.discord.slash({ name: 'faceswap', channelId: ch, options: { source: { attachment: png() }, target: { attachment: png() } } as never });
      await world.discord.waitFor(() => ix.original()?.content.includes('accepted'), { timeoutMs: 10_000 });
      return waitForResult(world.discord, ch, { after: started, timeoutMs: 20_000 });
    })();
    const admin = (options: Record<string, unknown>) =>
      reply(world.discord.slash({ name: 'admin', subcommand: 'limits', options: options as never, user: world.discord.owner, permissions: ALL_PERMISSIONS }));
    await admin({ cooldown: 3600 }); // alice's jobs above were moments ago
    try {
      const mjBefore =
        submits() +
        world.proxy.requestsTo('/submit/imagine').length +
        world.proxy.requestsTo('/submit/blend').length +
        world.proxy.requestsTo('/submit/describe').length;
      const pwBefore = picwishCreates();
      const ioBefore = world.imgOpen!.requests.filter((r) => r.method === 'POST').length;
      const file = (tag: string) => ({ name: `refused-${tag}.png`, bytes: makePng(64, 48, { seed: ++seq }) });
      const names: string[] = [];
      const attempt = async (ix: FakeInteraction, ...tags: string[]) => {
        names.push(...tags.map((t) => `refused-${t}.png`));
        expect(await reply(ix)).toMatch(/^Please wait a moment between jobs: you can start the next one <t:\d+:R>\.$/);
      };
      const s = (name: string, options: Record<string, unknown>, extra: { subcommand?: string } = {}) =>
        world.discord.slash({ name, options: options as never, ...extra });

      await attempt(s('imagine', { prompt: 'a refused fox', image: { attachment: file('imagine') } }), 'imagine');
      await attempt(s('blend', { image1: { attachment: file('blend1') }, image2: { attachment: file('blend2') } }), 'blend1', 'blend2');
      await attempt(s('describe', { image: { attachment: file('describe') } }), 'describe');
      await attempt(s('faceswap', { source: { attachment: file('swap1') }, target: { attachment: file('swap2') } }), 'swap1', 'swap2');
      await attempt(s('inpaint', { image: { attachment: file('inpaint') }, mask: { attachment: file('inpaintmask') } }), 'inpaint', 'inpaintmask');
      await attempt(s('tools', { image: { attachment: file('tools') } }, { subcommand: 'remove-background' }), 'tools');
      const varyMask = bilevelPng(512, 512, { white: true });
      await attempt(await modalWithFile(upscale, 'Vary (Region)', 'mask', { name: 'refused-vary.png', bytes: varyMask }), 'vary');
      await attempt(await modalWithFile(inpaint, 'Inpaint again', 'mask', file('again')), 'again');
      await attempt(await modalWithFile(swapped, 'Swap again', 'face', file('swapagain'), { fields: {} }), 'swapagain');

      const resultDownloads = world.discord.attachmentDownloads.length;
      const removeBg = world.discord.clickButton({ messageId: inpaint.id, customId: button(inpaint, 'Remove background').customId });
      expect(await world.discord.waitFor(() => removeBg.followups()[0]?.content)).toMatch(/^Please wait a moment between jobs/);
      expect(world.discord.attachmentDownloads.length).toBe(resultDownloads); // not even the bot's own result was fetched again

      expect(names.filter(downloaded)).toEqual([]);
      expect(
        submits() +
          world.proxy.requestsTo('/submit/imagine').length +
          world.proxy.requestsTo('/submit/blend').length +
          world.proxy.requestsTo('/submit/describe').length,
      ).toBe(mjBefore);
      expect(picwishCreates()).toBe(pwBefore);
      expect(world.imgOpen!.requests.filter((r) => r.method === 'POST').length).toBe(ioBefore);
    } finally {
      await admin({ cooldown: 0 });
    }
  });
});
