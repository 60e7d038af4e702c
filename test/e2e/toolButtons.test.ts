import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMessage } from '../fakes/discord/index.js';
import type { PicwishRecordedRequest } from '../fakes/picwish/index.js';
import { makePng } from '../fakes/images.js';
import { botMessages, button, buttons, waitForResult } from '../support/discordHelpers.js';
import { World } from '../support/world.js';

/** The bot's own buttons on tool results, and the PicWish request rate under load (2 requests/s per key, measured). */
describe('tool result buttons and the PicWish rate limit', () => {
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

  /** Start a command and wait for its result message (image or ❌). */
  async function result(name: string, options: Record<string, unknown>): Promise<FakeMessage> {
    // a channel per job: Discord's ~5 writes per 5 s per channel would otherwise pace the tests
    const channel = world.discord.addChannel(world.discord.guild.id, { name: `btn-${++seq}` });
    const started = world.discord.now();
    const ix = world.discord.slash({ name, channelId: channel.id, options: options as never });
    await world.discord.waitFor(() => ix.original()?.content.includes('accepted'), { timeoutMs: 10_000 });
    return waitForResult(world.discord, channel.id, { after: started, timeoutMs: 20_000 });
  }

  it('Inpaint again (modal with a File Upload or rectangles) and Remove background work on the result image', async () => {
    const first = await result('inpaint', { image: { attachment: png(64, 48) }, rectangles: '1,1,5,5' });
    const resultBytes = first.attachments[0]!.bytes;

    const click = world.discord.clickButton({ messageId: first.id, customId: button(first, 'Inpaint again').customId });
    expect((await click.firstCallback(3000)).type).toBe(9);
    const shown = click.modal()!;
    expect(JSON.stringify(shown.components)).toContain('"type":19');
    const before = creates('inpaint').length;
    const started = world.discord.now();
    const submit = world.discord.submitModal({ customId: String(shown.custom_id), fields: { rects: '2,2,8,8' } });
    await world.discord.waitFor(() => submit.original()?.content.includes('accepted'), { timeoutMs: 5000 });
    const again = await waitForResult(world.discord, first.channel_id, { after: started, timeoutMs: 20_000 });
    expect(again.attachments).toHaveLength(1);
    const sent = creates('inpaint').slice(before)[0]!;
    expect(sent.fields!.image_file).toMatchObject({ size: resultBytes.length, type: 'image/jpeg' }); // the result, not the original
    expect(JSON.parse(String(sent.fields!.rectangles))).toEqual([{ x: 2, y: 2, width: 8, height: 8 }]);

    // a refused modal input is told to the user and sends nothing
    const click2 = world.discord.clickButton({ messageId: first.id, customId: button(first, 'Inpaint again').customId });
    await click2.firstCallback(3000);
    const n = world.picwish!.requests.length;
    const bad = world.discord.submitModal({ customId: String(click2.modal()!.custom_id), fields: { rects: '1,1,500,5' } });
    expect(await world.discord.waitFor(() => bad.original()?.content || undefined, { timeoutMs: 5000 })).toContain('goes outside the 64×48 image');
    expect(world.picwish!.requests.length).toBe(n);

    const segBefore = creates('segmentation').length;
    const started2 = world.discord.now();
    const press = world.discord.clickButton({ messageId: first.id, customId: button(first, 'Remove background').customId });
    expect((await press.firstCallback(3000)).type).toBe(6);
    const cut = await waitForResult(world.discord, first.channel_id, { after: started2, timeoutMs: 20_000 });
    expect(cut.content).toContain('Remove background');
    expect(creates('segmentation').slice(segBefore)[0]!.fields!.image_file).toMatchObject({ size: resultBytes.length });
    await world.discord.waitFor(() => button(world.discord.message(first.id)!, 'Remove background').style === 1);
  });

  it('Restore face on a face-swap result runs PicWish on the swapped image', async () => {
    const swapped = await result('faceswap', { source: { attachment: png() }, target: { attachment: png(80, 80) }, engine: 'v1' });
    expect(buttons(swapped).map((b) => b.label)).toEqual(['Swap again', 'Restore face', 'Remove background', 'Upscale']);
    const before = creates('scale').length;
    const started2 = world.discord.now();
    world.discord.clickButton({ messageId: swapped.id, customId: button(swapped, 'Restore face').customId });
    const restored = await waitForResult(world.discord, swapped.channel_id, { after: started2, timeoutMs: 20_000 });
    expect(restored.content).toContain('Restore face');
    expect(restored.attachments).toHaveLength(1);
    const sent = creates('scale').slice(before)[0]!;
    expect(sent.fields).toMatchObject({ type: 'face', image_file: { size: swapped.attachments[0]!.bytes.length } });
    expect(buttons(restored).map((b) => b.label)).toEqual(['Remove background', 'Upscale']);
  });

  it('never sends more than 2 requests per second to PicWish, with many jobs at once (measured)', async () => {
    const started = world.discord.now();
    const tags = Array.from({ length: 5 }, () => png(48, 48));
    const channels = tags.map((_, i) => world.discord.addChannel(world.discord.guild.id, { name: `load-${i}` }).id);
    tags.forEach((img, i) => world.discord.slash({ name: 'tools', subcommand: 'upscale', channelId: channels[i], options: { image: { attachment: img } } }));
    await world.discord.waitFor(
      () =>
        channels.filter((c) => botMessages(world.discord, c).some((m) => m.createdAt > started && m.content.includes('Upscale') && m.attachments.length > 0))
          .length === 5 || undefined,
      { timeoutMs: 40_000 },
    );
    // over the whole file: every create and every poll of every job
    expect(world.picwish!.maxRequestsPerSecond()).toBeLessThanOrEqual(2);
    expect(world.picwish!.maxRequestsPerSecond()).toBe(2); // the limiter really was the bottleneck
    expect(world.picwish!.qps429()).toBe(0);
  }, 50_000);
});

describe('commands of unconfigured providers', () => {
  it('are not registered: no PicWish, no Img Open and MJ_FACE_SWAP=off → no /faceswap, /inpaint or /tools', async () => {
    const world = await World.start({ env: { MJ_FACE_SWAP: 'off' } });
    try {
      const names = world.discord.registeredCommands(world.discord.guild.id).map((c) => c.name);
      expect(names).toContain('imagine');
      for (const n of ['faceswap', 'inpaint', 'tools']) expect(names).not.toContain(n);
      const ready = world.logs.lines.find((l) => l.includes('mj-relay is ready'))!;
      expect(JSON.parse(ready).tools).toMatchObject({ faceswap: expect.stringMatching(/^off/), inpaint: expect.stringMatching(/^off/) });
    } finally {
      await world.close();
    }
  });

  it('a proxy-only deployment offers /faceswap with the InsightFace engine alone', async () => {
    const world = await World.start();
    try {
      const fs = world.discord.registeredCommands(world.discord.guild.id).find((c) => c.name === 'faceswap') as unknown as {
        options: { name: string; choices?: { value: string }[] }[];
      };
      expect(fs.options.map((o) => o.name)).toEqual(['source', 'target', 'engine', 'delivery']);
      expect(fs.options.find((o) => o.name === 'engine')!.choices!.map((c) => c.value)).toEqual(['proxy']);
    } finally {
      await world.close();
    }
  });
});
