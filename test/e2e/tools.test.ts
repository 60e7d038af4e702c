import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sniffImage } from '../../src/images/sniff.js';
import type { FakeInteraction, FakeMessage } from '../fakes/discord/index.js';
import type { PicwishRecordedRequest } from '../fakes/picwish/index.js';
import { bigPng, makePng } from '../fakes/images.js';
import { botMessages, buttons, waitForResult } from '../support/discordHelpers.js';
import { World } from '../support/world.js';

/** /inpaint, /tools and the result buttons against the fake PicWish (2 requests/s per key, measured). */
describe('/inpaint and /tools (PicWish)', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.start({ picwish: { stepMs: 50 }, imgOpen: { stepMs: 50 }, proxy: { stepMs: 50 } });
  });
  afterAll(async () => {
    await world?.close();
  });

  let seq = 0;
  const png = (w = 64, h = 48) => ({ name: `pic${++seq}.png`, bytes: makePng(w, h, { seed: seq }) });
  const creates = (kind: string): PicwishRecordedRequest[] =>
    world.picwish!.requests.filter((r) => r.method === 'POST' && r.path === `/api/tasks/visual/${kind}`);

  async function run(
    name: string,
    options: Record<string, unknown>,
    extra: { subcommand?: string; attachmentSizeLimit?: number; channelId?: string } = {},
  ): Promise<FakeInteraction> {
    return world.discord.slash({ name, options: options as never, ...extra });
  }

  /** Start a command and wait for its result message (image or ❌). */
  async function result(name: string, options: Record<string, unknown>, extra: { subcommand?: string } = {}): Promise<FakeMessage> {
    // a channel per job: Discord's ~5 writes per 5 s per channel would otherwise pace the tests
    const channel = world.discord.addChannel(world.discord.guild.id, { name: `tool-${++seq}` });
    const started = world.discord.now();
    const ix = await run(name, options, { ...extra, channelId: channel.id });
    await world.discord
      .waitFor(() => ix.original()?.content.includes('accepted'), { timeoutMs: 10_000 })
      .catch(() => {
        throw new Error(`not accepted: ${ix.original()?.content}`);
      });
    return waitForResult(world.discord, channel.id, { after: started, timeoutMs: 20_000 });
  }

  /** Start a command and return the ephemeral refusal. */
  async function refusal(name: string, options: Record<string, unknown>, extra: { subcommand?: string; attachmentSizeLimit?: number } = {}): Promise<string> {
    const ix = await run(name, options, extra);
    return world.discord.waitFor(() => ix.original()?.content || undefined, { timeoutMs: 5000 });
  }

  it('registers /inpaint and /tools with its three subcommands', () => {
    const cmds = world.discord.registeredCommands(world.discord.guild.id);
    expect(cmds.map((c) => c.name)).toEqual(expect.arrayContaining(['faceswap', 'inpaint', 'tools']));
    const tools = cmds.find((c) => c.name === 'tools') as unknown as { options: { name: string; type: number }[] };
    expect(tools.options.map((o) => [o.name, o.type])).toEqual([
      ['remove-background', 1],
      ['upscale', 1],
      ['restore-face', 1],
    ]);
    expect(world.discord.openApiProblems).toEqual([]);
  });

  it('inpaint with a mask sends the image and a clean black/white mask, and delivers with its buttons', async () => {
    const image = png(64, 48);
    const mask = new PNG({ width: 64, height: 48 });
    for (let i = 0; i < mask.data.length; i += 4) mask.data.set((i / 4) % 64 < 20 ? [250, 250, 250, 255] : [10, 10, 10, 255], i); // greyish: normalised to pure white/black
    const before = creates('inpaint').length;
    const msg = await result('inpaint', { image: { attachment: image }, mask: { attachment: { name: 'mask.png', bytes: PNG.sync.write(mask) } } });
    expect(msg.content).toContain('Inpaint · mask');
    expect(msg.attachments).toHaveLength(1);
    expect(sniffImage(msg.attachments[0]!.bytes)?.mime).toBe('image/jpeg');
    expect(buttons(msg).map((b) => b.label)).toEqual(['Inpaint again', 'Restore face', 'Remove background', 'Upscale']);
    const sent = creates('inpaint').slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.fields!.image_file).toMatchObject({ size: image.bytes.length, type: 'image/png' });
    expect(sent[0]!.fields!.mask_file).toMatchObject({ type: 'image/png' });
    expect(sent[0]!.fields!.rectangles).toBeUndefined();
    expect(sent[0]!.fields!.sync).toBe('0');
  });

  it('inpaint with rectangles sends them as JSON in source pixels', async () => {
    const before = creates('inpaint').length;
    const msg = await result('inpaint', { image: { attachment: png(64, 48) }, rectangles: '1,2,10,12; 30 20 5 5' });
    expect(msg.content).toContain('Inpaint · 2 area(s)');
    expect(msg.attachments).toHaveLength(1);
    const sent = creates('inpaint').slice(before);
    expect(sent).toHaveLength(1);
    expect(JSON.parse(String(sent[0]!.fields!.rectangles))).toEqual([
      { x: 1, y: 2, width: 10, height: 12 },
      { x: 30, y: 20, width: 5, height: 5 },
    ]);
    expect(sent[0]!.fields!.mask_file).toBeUndefined();
  });

  it('refuses 51 rectangles, a malformed one, a non-image mask and a 16 MB image before anything is sent', async () => {
    const before = world.picwish!.requests.length;
    const fifty1 = Array.from({ length: 51 }, (_, i) => `${i},0,1,1`).join(';');
    expect(await refusal('inpaint', { image: { attachment: png() }, rectangles: fifty1 })).toBe("That's 51 areas; the limit is 50.");
    expect(await refusal('inpaint', { image: { attachment: png() }, rectangles: '1,2,10,12; 5,x,3,3' })).toContain("Area 2 (“5,x,3,3”) isn't x,y,w,h");
    expect(await refusal('inpaint', { image: { attachment: png(64, 48) }, rectangles: '60,40,10,10' })).toContain('goes outside the 64×48 image');
    expect(
      await refusal('inpaint', { image: { attachment: png() }, mask: { attachment: { name: 'mask.png', bytes: Buffer.from('this is text, not a picture') } } }),
    ).toContain('“mask.png” is not an image');
    expect(
      await refusal('inpaint', { image: { attachment: png(64, 48) }, mask: { attachment: { name: 'm.png', bytes: makePng(32, 32, { color: '#ffffff' }) } } }),
    ).toContain('The mask is 32×32 but the image is 64×48');
    expect(await refusal('inpaint', { image: { attachment: png() }, mask: { attachment: png() }, rectangles: '1,1,2,2' })).toContain(
      'either a mask or rectangles',
    );
    expect(await refusal('inpaint', { image: { attachment: png() } })).toContain('upload a mask image or type the areas');
    // a Nitro user may upload 16 MB, PicWish takes 15 MB: refused from the declared size, without a download
    const big = { name: 'huge.png', bytes: bigPng(16 * 1024 * 1024) };
    expect(await refusal('tools', { image: { attachment: big } }, { subcommand: 'remove-background', attachmentSizeLimit: 25 * 1024 * 1024 })).toMatch(
      /“huge\.png” is too large \(16\.\d MiB; the limit is 15\.0 MiB\)/,
    );
    expect(await refusal('inpaint', { image: { attachment: big }, rectangles: '1,1,2,2' }, { attachmentSizeLimit: 25 * 1024 * 1024 })).toContain(
      'the limit is 15.0 MiB',
    );
    expect(world.discord.attachmentDownloads.filter((d) => d.path.includes('huge.png'))).toEqual([]);
    expect(world.picwish!.requests.length).toBe(before);
  });

  it('/tools remove-background, upscale and restore-face call segmentation and scale with the right fields', async () => {
    const bg = await result('tools', { image: { attachment: png() } }, { subcommand: 'remove-background' });
    expect(bg.content).toContain('Remove background');
    expect(sniffImage(bg.attachments[0]!.bytes)?.mime).toBe('image/png');
    expect(buttons(bg).map((b) => b.label)).toEqual(['Restore face', 'Upscale']);
    expect(creates('segmentation').at(-1)!.fields!.format).toBe('png');
    // one pipeline: stored with what the PicWish adapter polls by, and the adapter's own deadline for segmentation
    const task = [...world.picwish!.tasks.values()].filter((t) => t.kind === 'segmentation').at(-1)!;
    const bgJob = (await world.app.services.repos.jobs.findByUpstream('picwish', task.taskId))!;
    expect(bgJob).toMatchObject({
      provider: 'picwish',
      kind: 'tool',
      status: 'succeeded',
      upstream: { tool: 'remove-background', path: '/api/tasks/visual/segmentation' },
    });
    expect(bgJob.deadlineAt - bgJob.createdAt).toBe(60_000);

    const up = await result('tools', { image: { attachment: png(40, 30) }, scale: 4 }, { subcommand: 'upscale' });
    expect(up.content).toContain('Upscale 4×');
    expect(up.attachments).toHaveLength(1);
    expect(creates('scale').at(-1)!.fields).toMatchObject({ type: 'clean', scale_factor: '4' });

    const face = await result('tools', { image: { attachment: png() } }, { subcommand: 'restore-face' });
    expect(face.content).toContain('Restore face');
    expect(creates('scale').at(-1)!.fields).toMatchObject({ type: 'face' });
    expect(creates('scale').at(-1)!.fields!.scale_factor).toBeUndefined();
  });

  it('a negative PicWish state ends in a clear message and never leaves progress spinning', async () => {
    const channels: string[] = [];
    for (const [state, text] of [
      [-7, "That file isn't a valid image"],
      [-8, 'This is taking longer than expected'],
    ] as const) {
      world.picwish!.failNext(1, { state });
      const msg = await result('tools', { image: { attachment: png() } }, { subcommand: 'remove-background' });
      expect(msg.content).toContain(`❌ ${text}`);
      expect(msg.attachments).toHaveLength(0);
      expect(msg.components).toEqual([]);
      channels.push(msg.channel_id);
    }
    await world.discord.waitFor(() => !channels.some((c) => botMessages(world.discord, c).some((m) => /⏳|▰|▱/.test(m.content))), { timeoutMs: 5000 });
  });

  it('a PicWish 429 on create is retried; a persistent one ends in a clear message with nothing posted', async () => {
    const before = creates('segmentation').length;
    world.picwish!.rateLimit429Next(1);
    const ok = await result('tools', { image: { attachment: png() } }, { subcommand: 'remove-background' });
    expect(ok.attachments).toHaveLength(1);
    expect(
      creates('segmentation')
        .slice(before)
        .map((r) => r.status),
    ).toEqual([429, 200]);

    const posted = botMessages(world.discord, world.discord.channel.id, { includeDeleted: true }).length;
    world.picwish!.rateLimit429Next(3);
    const text = await refusal('tools', { image: { attachment: png() } }, { subcommand: 'remove-background' });
    expect(text).toBe('The image service is busy. Please try again in a minute.');
    expect(botMessages(world.discord, world.discord.channel.id, { includeDeleted: true }).length).toBe(posted);
  });
});
