import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMessage } from '../fakes/discord/index.js';
import { makePng } from '../fakes/images.js';
import { button, buttons, waitForResult } from '../support/discordHelpers.js';
import { World } from '../support/world.js';

/** The buttons on results relay the exact upstream customId and taskId; modal steps round-trip. */
describe('result buttons', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.start({ proxy: { stepMs: 50 } });
  });
  afterAll(async () => {
    await world?.close();
  });

  let seq = 0;
  async function imagine(prompt: string, user = world.discord.alice): Promise<{ result: FakeMessage; taskId: string }> {
    const started = world.discord.now();
    const tag = `p${++seq}`;
    world.discord.slash({ name: 'imagine', options: { prompt: `${prompt} ${tag}` }, user });
    const result = await waitForResult(world.discord, world.discord.channel.id, {
      after: started - 1,
      match: (m) => m.content.includes(tag) && !m.content.includes(' by <@') && !m.content.includes('Image #'),
    });
    const submit = world.proxy.requestsTo('/submit/imagine').find((r) => String((r.body as { prompt: string }).prompt).endsWith(tag));
    const task = [...world.proxy.tasks.values()].find((t) => t.prompt?.endsWith(tag) && t.action === 'IMAGINE');
    expect(submit).toBeDefined();
    return { result, taskId: task!.id };
  }

  async function click(msg: FakeMessage, labelOrEmoji: string, user = world.discord.alice) {
    const b = button(msg, labelOrEmoji);
    const ix = world.discord.clickButton({ messageId: msg.id, customId: b.customId, user });
    return { ix, cb: await ix.firstCallback(3000) };
  }

  function actionsFor(taskId: string) {
    return world.proxy.requestsTo('/submit/action').filter((r) => (r.body as { taskId: string }).taskId === taskId);
  }

  it('each grid button (U1–U4, 🔄, V1–V4) sends exactly its customId and the task id', async () => {
    const { result, taskId } = await imagine('a red fox --ar 3:2');
    const upstream = world.proxy.task(taskId)!.buttons!;
    for (const label of ['U1', 'U2', 'U3', 'U4', '🔄', 'V1', 'V2', 'V3', 'V4']) {
      const { cb } = await click(result, label);
      expect(cb.type).toBe(6); // deferred update: the grid stays
      const expected = upstream.find((b) => (b.label || b.emoji) === label)!.customId;
      await world.discord.waitFor(() => actionsFor(taskId).some((r) => (r.body as { customId: string }).customId === expected));
    }
    const sent = actionsFor(taskId).map((r) => (r.body as { customId: string }).customId);
    expect(sent.sort()).toEqual(upstream.map((b) => b.customId).sort());
    // pressed buttons are drawn as used
    await world.discord.waitFor(() => buttons(world.discord.message(result.id)!).every((b) => b.style === 1));
  });

  it('each upscale-panel button sends exactly its customId and the upscale task id', async () => {
    const { result, taskId } = await imagine('a lighthouse --ar 16:9');
    await click(result, 'U1');
    const upscale = await waitForResult(world.discord, world.discord.channel.id, {
      match: (m) => m.content.includes('Image #1') && m.content.includes('lighthouse'),
    });
    const upTask = [...world.proxy.tasks.values()].find((t) => t.action === 'UPSCALE' && t.parentId === taskId);
    expect(upTask).toBeDefined();
    const labels = buttons(upscale).map((b) => b.label ?? b.emoji);
    expect(labels).toEqual(
      expect.arrayContaining([
        'Upscale (Subtle)',
        'Upscale (Creative)',
        'Vary (Subtle)',
        'Vary (Strong)',
        'Vary (Region)',
        'Zoom Out 2x',
        'Zoom Out 1.5x',
        'Custom Zoom',
        'Make Square',
        '⬅️',
        '➡️',
        '⬆️',
        '⬇️',
      ]),
    );
    for (const b of buttons(upscale)) expect(b.emoji === undefined || !/^[a-z_0-9]+$/.test(b.emoji)).toBe(true); // never a custom emoji name
    const direct = [
      'Upscale (Subtle)',
      'Upscale (Creative)',
      'Vary (Subtle)',
      'Vary (Strong)',
      'Zoom Out 2x',
      'Zoom Out 1.5x',
      'Make Square',
      '⬅️',
      '➡️',
      '⬆️',
      '⬇️',
    ];
    for (const label of direct) {
      const { ix } = await click(upscale, label);
      const expected = upTask!.buttons!.find((b) => b.label === label || (!b.label && b.emoji === label))!.customId;
      await world.discord
        .waitFor(() => actionsFor(upTask!.id).some((r) => (r.body as { customId: string }).customId === expected))
        .catch((e) => {
          throw new Error(
            `${label}: ${expected} not sent; bot said ${ix
              .followups()
              .map((m) => m.content)
              .join(' | ')}; ${e}`,
          );
        });
    }
    expect(actionsFor(upTask!.id)).toHaveLength(direct.length);
  });

  it('Custom Zoom opens a modal prefilled with the prompt and --zoom 2, validates the value, and completes through the modal route', async () => {
    const { result } = await imagine('a castle');
    await click(result, 'U2');
    const upscale = await waitForResult(world.discord, world.discord.channel.id, {
      match: (m) => m.content.includes('Image #2') && m.content.includes('castle'),
    });
    const upTask = [...world.proxy.tasks.values()].find((t) => t.action === 'UPSCALE' && t.prompt?.includes('castle'))!;

    const { ix, cb } = await click(upscale, 'Custom Zoom');
    expect(cb.type).toBe(9); // a modal is the first response
    const prefill = JSON.stringify(ix.modal());
    expect(prefill).toContain('--zoom 2');
    expect(prefill).toContain('a castle');
    const modalId = (ix.modal() as { custom_id: string }).custom_id;

    // out of range: refused, nothing sent
    const bad = world.discord.submitModal({ customId: modalId, fields: { prompt: 'a castle --zoom 3' }, user: world.discord.alice, messageId: upscale.id });
    await bad.firstCallback();
    await world.discord.waitFor(() => bad.original()?.content.includes('between 1 and 2'));
    expect(actionsFor(upTask.id)).toHaveLength(0);

    const ok = world.discord.submitModal({
      customId: modalId,
      fields: { prompt: 'a castle at night --zoom 1.5' },
      user: world.discord.alice,
      messageId: upscale.id,
    });
    await world.discord.waitFor(() => ok.original()?.content.includes('accepted'));
    const action = actionsFor(upTask.id)[0]!;
    expect((action.body as { customId: string }).customId).toMatch(/^MJ::CustomZoom::/);
    const modal = world.proxy.requestsTo('/submit/modal').at(-1)!;
    expect((modal.body as { prompt: string }).prompt).toBe('a castle at night --zoom 1.5');
    const zoomTask = world.proxy.task((modal.body as { taskId: string }).taskId)!;
    expect(zoomTask.fake.modalPrompt).toBe('a castle at night --zoom 1.5');
    await waitForResult(world.discord, world.discord.channel.id, { match: (m) => m.content.includes('a castle at night') });
  });

  it('Vary (Region) turns typed rectangles into a mask of the image size and an uploaded mask passes through', async () => {
    const { result } = await imagine('a garden');
    await click(result, 'U3');
    const upscale = await waitForResult(world.discord, world.discord.channel.id, {
      match: (m) => m.content.includes('Image #3') && m.content.includes('garden'),
    });
    const upTask = [...world.proxy.tasks.values()].find((t) => t.action === 'UPSCALE' && t.prompt?.includes('garden'))!;

    const { ix, cb } = await click(upscale, 'Vary (Region)');
    expect(cb.type).toBe(9);
    const modalId = (ix.modal() as { custom_id: string }).custom_id;
    const sub = world.discord.submitModal({
      customId: modalId,
      fields: { rects: '10,10,40,30; 100,100,20,20', prompt: '' },
      user: world.discord.alice,
      messageId: upscale.id,
    });
    await world.discord.waitFor(() => sub.original()?.content.includes('accepted'));
    const modalReq = world.proxy.requestsTo('/submit/modal').at(-1)!;
    const mask = String((modalReq.body as { maskBase64: string }).maskBase64);
    expect(mask.startsWith('data:image/png;base64,')).toBe(true);
    const png = PNG.sync.read(Buffer.from(mask.split(',')[1]!, 'base64'));
    expect([png.width, png.height]).toEqual([upTask.width, upTask.height]);
    const px = (x: number, y: number) => png.data[(y * png.width + x) * 4]!;
    expect(px(20, 20)).toBe(255); // inside the first rectangle: repaint
    expect(px(5, 5)).toBe(0); // outside: keep
    expect(world.proxy.task((modalReq.body as { taskId: string }).taskId)!.fake.maskSize).toEqual({ width: upTask.width, height: upTask.height });

    // an uploaded mask of the right size
    const again = await click(upscale, 'Vary (Region)');
    const upload = makePng(upTask.width as number, upTask.height as number, { color: [255, 255, 255] });
    const sub2 = world.discord.submitModal({
      customId: (again.ix.modal() as { custom_id: string }).custom_id,
      fields: { rects: '', prompt: 'a garden with a pond' },
      files: { mask: [{ name: 'mask.png', bytes: upload }] },
      user: world.discord.alice,
      messageId: upscale.id,
    });
    await world.discord.waitFor(() => sub2.original()?.content.includes('accepted'));
    const modalReq2 = world.proxy.requestsTo('/submit/modal').at(-1)!;
    expect((modalReq2.body as { prompt: string }).prompt).toBe('a garden with a pond');

    // a mask of the wrong size is refused before anything is sent
    const before = world.proxy.requestsTo('/submit/action').length;
    const third = await click(upscale, 'Vary (Region)');
    const wrong = world.discord.submitModal({
      customId: (third.ix.modal() as { custom_id: string }).custom_id,
      fields: { rects: '' },
      files: { mask: [{ name: 'mask.png', bytes: makePng(10, 10) }] },
      user: world.discord.alice,
      messageId: upscale.id,
    });
    await world.discord.waitFor(() => wrong.original()?.content.includes('same size'));
    expect(world.proxy.requestsTo('/submit/action')).toHaveLength(before);
  });

  it('an unannounced remix MODAL offers an edit; the edited prompt completes the job', async () => {
    const { result, taskId } = await imagine('a meadow');
    world.proxy.setOptions({ remix: true });
    try {
      const { ix } = await click(result, 'V2');
      const followup = await world.discord.waitFor(() => ix.followups().find((m) => m.content.includes('Remix')));
      expect(followup.ephemeral).toBe(true);
      const edit = button(followup, 'Edit prompt');
      const editIx = world.discord.clickButton({ messageId: followup.id, customId: edit.customId, user: world.discord.alice });
      expect((await editIx.firstCallback()).type).toBe(9);
      expect(JSON.stringify(editIx.modal())).toContain('a meadow');
      const sub = world.discord.submitModal({
        customId: (editIx.modal() as { custom_id: string }).custom_id,
        fields: { prompt: 'a meadow in winter' },
        user: world.discord.alice,
        messageId: followup.id,
      });
      await sub.firstCallback();
      const modalReq = await world.discord.waitFor(() =>
        world.proxy.requestsTo('/submit/modal').find((r) => (r.body as { prompt?: string }).prompt === 'a meadow in winter'),
      );
      const remixTask = world.proxy.task((modalReq.body as { taskId: string }).taskId)!;
      expect(remixTask.parentId).toBe(taskId);
      await waitForResult(world.discord, world.discord.channel.id, { match: (m) => m.content.includes('a meadow in winter') });
    } finally {
      world.proxy.setOptions({ remix: false });
    }
  });

  it("refuses a non-owner's click without calling the upstream", async () => {
    const { result, taskId } = await imagine('a bridge');
    const { ix } = await click(result, 'U1', world.discord.bob);
    await world.discord.waitFor(() => ix.followups()[0] ?? (ix.original()?.content ? ix.original() : undefined));
    const reply = ix.original() ?? ix.followups()[0]!;
    expect(reply.ephemeral).toBe(true);
    expect(reply.content).toContain(`Only <@${world.discord.alice.id}>`);
    expect(actionsFor(taskId)).toHaveLength(0);
  });

  it('submits a double click once', async () => {
    const { result, taskId } = await imagine('a tower');
    const b = button(result, 'U4');
    const first = world.discord.clickButton({ messageId: result.id, customId: b.customId, user: world.discord.alice });
    const second = world.discord.clickButton({ messageId: result.id, customId: b.customId, user: world.discord.alice });
    await first.firstCallback();
    await second.firstCallback();
    await world.discord.waitFor(() => [...first.followups(), ...second.followups()].find((m) => m.content.includes('Already')));
    await new Promise((r) => setTimeout(r, 300));
    expect(actionsFor(taskId).filter((r) => String((r.body as { customId: string }).customId).includes('upsample::4'))).toHaveLength(1);
  });

  it('sends nothing for an unknown or forged custom_id and says so', async () => {
    const { result } = await imagine('a boat');
    const before = world.proxy.requests.length;
    for (const forged of ['mj:b:doesnotexist', 'mj:zz:whatever', 'not-ours']) {
      const ix = world.discord.clickButton({ messageId: result.id, customId: forged, user: world.discord.alice, force: true });
      await world.discord.waitFor(() => ix.original()?.content);
      expect(ix.original()!.ephemeral).toBe(true);
      expect(ix.original()!.content).toMatch(/expired|recognise/);
    }
    expect(world.proxy.requests.filter((r) => r.route.includes('/submit/'))).toHaveLength(
      world.proxy.requests.slice(0, before).filter((r) => r.route.includes('/submit/')).length,
    );
  });
});
