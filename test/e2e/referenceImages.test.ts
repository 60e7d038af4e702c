import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeInteraction, FakeMessage } from '../fakes/discord/index.js';
import { makePng } from '../fakes/images.js';
import { uploadedImageUrl } from '../fakes/mjProxy/submits.js';
import { button, buttons, waitForResult } from '../support/discordHelpers.js';
import { World } from '../support/world.js';

const png = (w: number, h: number, seed: number) => makePng(w, h, { seed });
const attach = (name: string, bytes: Buffer) => ({ attachment: { name, bytes, contentType: 'image/png' } });

const isProbe = (body: unknown) =>
  Array.isArray((body as { base64Array?: unknown[] } | undefined)?.base64Array) && (body as { base64Array: unknown[] }).base64Array.length === 0;
const uploadsTo = (world: World) => world.proxy.requestsTo('/submit/upload-discord-images').filter((r) => !isProbe(r.body));

/** The member's ephemeral answer. */
async function answer(world: World, ix: FakeInteraction): Promise<FakeMessage> {
  await ix.firstCallback(3000);
  return world.discord.waitFor(() => {
    const m = ix.original();
    return m && (m.content || m.embeds.length) ? m : undefined;
  });
}

describe('reference images, version rules and model-aware results (trueai: the upload route)', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.start({ proxy: { stepMs: 50 } });
  });
  afterAll(async () => {
    await world?.close();
  });

  /** what reached the upstream (the start-up feature probe's empty upload aside) */
  const sent = () => world.proxy.requests.filter((r) => r.route.includes('/submit/') && !isProbe(r.body)).length;

  it('uploads the style and omni references through the proxy and places them after the text, image prompts first', async () => {
    const { discord, proxy } = world;
    const image = png(64, 64, 1);
    const style = png(64, 48, 2);
    const omni = png(48, 64, 3);
    const started = Date.now();
    const ix = discord.slash({
      name: 'imagine',
      options: {
        prompt: 'a red fox in snow --ar 3:2',
        image: attach('fox.png', image),
        sref: attach('style.png', style),
        sref_weight: 250,
        oref: attach('omni.png', omni),
        oref_weight: 80,
      },
    });
    expect((await answer(world, ix)).content).toContain('accepted');

    const uploads = uploadsTo(world);
    expect(uploads).toHaveLength(1);
    expect((uploads[0]!.body as { base64Array: string[] }).base64Array).toEqual([
      `data:image/png;base64,${style.toString('base64')}`,
      `data:image/png;base64,${omni.toString('base64')}`,
    ]);
    const submit = proxy.requestsTo('/submit/imagine').at(-1)!.body as { prompt: string; base64Array: string[] };
    // the image prompt travels as base64Array (the proxy hosts it and puts its URL first); the references sit in the prompt
    expect(submit.base64Array).toEqual([`data:image/png;base64,${image.toString('base64')}`]);
    expect(submit.prompt).toBe(`a red fox in snow --sref ${uploadedImageUrl(style)} --sw 250 --oref ${uploadedImageUrl(omni)} --ow 80 --ar 3:2`);

    // the result says which model ran it, and how fast
    const result = await waitForResult(discord, discord.channel.id, { after: started, match: (m) => m.content.includes('a red fox in snow') });
    expect(result.content).toContain(`<@${discord.alice.id}> (v 7 · fast)`);
    expect(discord.openApiProblems).toEqual([]);
  });

  it.each([
    ['a fox --v 6.1', { oref: true }, 'en-US', '`--oref` (omni reference) works on Midjourney V7 and later, but this prompt runs on V6.1.'],
    [
      'a fox --cref https://example.com/me.png',
      {},
      'en-US',
      '`--cref` (character reference) belongs to V6; on V7 it was replaced by the omni reference. Use `--oref <image>`',
    ],
    ['a fox --hd', {}, 'en-US', '`--hd` works on Midjourney V8 and later, but this prompt runs on V7.'],
    ['a fox --bs 2', {}, 'en-US', '`--bs` (batch size) is for videos only.'],
    ['a fox', { oref_weight: 50 }, 'en-US', '`--ow` sets the weight of a reference, but there is none'],
    ['a fox --v 6', { oref: true }, 'zh-CN', '`--oref`（全能参考）只能在 Midjourney V7 及以上版本使用，而这个提示词使用的是 V6。'],
  ] as [string, { oref?: boolean; oref_weight?: number }, string, string][])(
    'refuses %s before anything is downloaded or sent (%o, %s)',
    async (prompt, extra, locale, expected) => {
      const { discord } = world;
      const before = { submits: sent(), downloads: discord.attachmentDownloads.length };
      const options: Record<string, unknown> = { prompt, ...extra };
      if (extra.oref) options.oref = attach('omni.png', png(32, 32, 4));
      const msg = await answer(world, discord.slash({ name: 'imagine', options: options as never, locale }));
      expect(msg.ephemeral).toBe(true);
      expect(msg.content).toContain(expected);
      expect(sent()).toBe(before.submits);
      expect(uploadsTo(world)).toHaveLength(1); // only the first story's
      expect(discord.attachmentDownloads.length).toBe(before.downloads);
    },
  );

  it('shows "v 8 · fast" and, on a V8 upscale without upscale/zoom/pan, a hint how to get them', async () => {
    const { discord } = world;
    const started = Date.now();
    await answer(world, discord.slash({ name: 'imagine', options: { prompt: 'a lighthouse at dusk --v 8' } }));
    const grid = await waitForResult(discord, discord.channel.id, { after: started, match: (m) => m.content.includes('a lighthouse at dusk') });
    expect(grid.content).toContain('(v 8 · fast)');
    expect(grid.content).not.toContain('Zoom or Pan'); // a grid's U1–U4 lead on: no hint there

    const pressed = Date.now();
    await discord.clickButton({ messageId: grid.id, customId: button(grid, 'U1').customId }).firstCallback(3000);
    const upscale = await waitForResult(discord, discord.channel.id, {
      after: pressed,
      match: (m) => m.content.includes('a lighthouse at dusk') && m.id !== grid.id,
    });
    const labels = buttons(upscale).map((b) => b.label ?? b.emoji);
    expect(labels.some((l) => /Upscale|Zoom|Make Square|⬅️|➡️|⬆️|⬇️/.test(l ?? ''))).toBe(false);
    expect(labels).toContain('Vary (Subtle)');
    expect(upscale.content).toContain('(v 8 · fast)');
    expect(upscale.content).toContain(
      'ℹ️ v 8 has no Upscale, Zoom or Pan buttons: add `--hd` to the prompt for a high-resolution image, or re-run it with `--v 7` to get them.',
    );
  });

  it('keeps the upscale panel and no hint on V7', async () => {
    const { discord } = world;
    const started = Date.now();
    await answer(world, discord.slash({ name: 'imagine', options: { prompt: 'a windmill' } }));
    const grid = await waitForResult(discord, discord.channel.id, { after: started, match: (m) => m.content.includes('a windmill') });
    const pressed = Date.now();
    await discord.clickButton({ messageId: grid.id, customId: button(grid, 'U2').customId }).firstCallback(3000);
    const upscale = await waitForResult(discord, discord.channel.id, { after: pressed, match: (m) => m.content.includes('a windmill') && m.id !== grid.id });
    expect(buttons(upscale).map((b) => b.label)).toContain('Upscale (Subtle)');
    expect(upscale.content).toContain('(v 7 · fast)');
    expect(upscale.content).not.toContain('ℹ️');
  });

  it('/help lists only the commands configured here, in the member’s language', async () => {
    const { discord } = world;
    const en = await answer(world, discord.slash({ name: 'help' }));
    expect(en.ephemeral).toBe(true);
    const [commands, how, params] = en.embeds as { title: string; description: string }[];
    expect(commands!.title).toBe('What this bot offers here');
    expect(commands!.description).toContain('**/imagine** — Create images from a text prompt');
    expect(commands!.description).toContain('**/help**');
    // no PicWish and no Img Open configured: their commands are not registered, so not offered
    expect(commands!.description).not.toMatch(/\/(inpaint|tools)\b/);
    expect(commands!.description).not.toContain('/admin'); // not for a member without Manage Server
    expect(how!.description).toContain('U1–U4');
    expect(params!.description).toContain('Prompts without `--v` run on **V7** here.');
    expect(params!.description).toContain('`--oref <image>`');
    expect(params!.description).toContain('`--hd`');
    expect(params!.description).toContain('`--video`');

    const registered = discord.registeredCommands().map((c) => c.name);
    for (const name of registered.filter((n) => n !== 'admin' && /^[a-z]+$/.test(n))) expect(commands!.description).toContain(`/${name}**`);

    const zh = await answer(world, discord.slash({ name: 'help', locale: 'zh-CN' }));
    const [zhCommands, , zhParams] = zh.embeds as { title: string; description: string }[];
    expect(zhCommands!.title).toBe('这个机器人在本服务器提供的功能');
    expect(zhCommands!.description).toContain('**/绘图** — 根据文字描述生成图片');
    expect(zhParams!.description).toContain('没有写 `--v` 的提示词在这里使用 **V7**');
    expect(discord.openApiProblems).toEqual([]);
  });
});

describe('reference images where the proxy has no upload route (novicezk): the attachment’s signed URL', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.start({ proxy: { stepMs: 50, flavor: 'novicezk' }, env: { MJ_DEFAULT_VERSION: '6.1' } });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('passes the validated attachment URL as the style reference, and follows MJ_DEFAULT_VERSION', async () => {
    const { discord, proxy } = world;
    const style = png(40, 40, 7);
    await answer(world, discord.slash({ name: 'imagine', options: { prompt: 'a teapot', sref: attach('style.png', style) } }));
    expect(uploadsTo(world)).toHaveLength(0);
    const prompt = (proxy.requestsTo('/submit/imagine').at(-1)!.body as { prompt: string }).prompt;
    expect(prompt).toMatch(/^a teapot --sref http:\/\/127\.0\.0\.1:\d+\/attachments\/\S+style\.png\?\S+$/);
    expect(discord.attachmentDownloads.length).toBeGreaterThanOrEqual(1); // checked like any upload before it was passed on

    // the default version here is 6.1: an omni reference is refused, a character reference is not
    const refused = await answer(world, discord.slash({ name: 'imagine', options: { prompt: 'a teapot', oref: attach('o.png', png(32, 32, 8)) } }));
    expect(refused.content).toContain('this prompt runs on V6.1');
    const before = proxy.requestsTo('/submit/imagine').length;
    await answer(world, discord.slash({ name: 'imagine', options: { prompt: 'a teapot --cref https://example.com/me.png' } }));
    expect(proxy.requestsTo('/submit/imagine').length).toBe(before + 1);
  });
});
