import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeInteraction, FakeMessage } from '../fakes/discord/index.js';
import { makePng } from '../fakes/images.js';
import { button, buttons, waitForResult } from '../support/discordHelpers.js';
import { freePort } from '../support/tmp.js';
import { World } from '../support/world.js';

/**
 * The mask editor's server side, spoken to over plain HTTP (the page itself is driven in a real browser in
 * test/browser/maskEditor.test.ts): the "Open editor" link in the ephemeral reply, the page and the picture through
 * the token, a submit that continues exactly as the modal's would, and links that are spent, expired, forged or
 * someone else's refused with nothing sent upstream.
 */
describe('mask editor links (PUBLIC_URL set)', () => {
  let world: World;
  let base: string;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    world = await World.start({ proxy: { stepMs: 40 }, picwish: { stepMs: 40 }, env: { PUBLIC_URL: base, HTTP_PORT: String(port) }, app: { httpPort: port } });
  });
  afterAll(async () => {
    await world?.close();
  });

  let seq = 0;
  async function upscaled(): Promise<{ upscale: FakeMessage; width: number; height: number }> {
    const tag = `m${++seq}`;
    world.discord.slash({ name: 'imagine', options: { prompt: `a quiet harbour ${tag}` }, user: world.discord.alice });
    const grid = await waitForResult(world.discord, world.discord.channel.id, { match: (m) => m.content.includes(tag) && !m.content.includes('Image #') });
    world.discord.clickButton({ messageId: grid.id, customId: button(grid, 'U1').customId, user: world.discord.alice });
    const upscale = await waitForResult(world.discord, world.discord.channel.id, { match: (m) => m.content.includes(tag) && m.content.includes('Image #1') });
    const task = [...world.proxy.tasks.values()].find((t) => t.action === 'UPSCALE' && t.prompt?.includes(tag))!;
    return { upscale, width: Number(task.width), height: Number(task.height) };
  }

  /** Press a button and return its ephemeral reply's editor link. */
  async function editorLink(msg: FakeMessage, label: string, user = world.discord.alice): Promise<{ ix: FakeInteraction; url: string }> {
    const ix = world.discord.clickButton({ messageId: msg.id, customId: button(msg, label).customId, user });
    expect((await ix.firstCallback()).type).toBe(5); // an ephemeral reply, not a modal
    const reply = await world.discord.waitFor(() => (ix.original()?.components.length ? ix.original() : undefined));
    expect(reply.ephemeral).toBe(true);
    const link = (reply.components as { components: { style: number; url?: string; label?: string }[] }[])[0]!.components[0]!;
    expect(link.style).toBe(5);
    expect(link.label).toBe('Open editor');
    return { ix, url: link.url! };
  }

  /** A browser of our own: keeps the cookie the first page view sets. */
  function browser() {
    let cookie = '';
    return {
      async get(url: string) {
        const res = await fetch(url, { headers: cookie ? { cookie } : {} });
        const set = res.headers.get('set-cookie');
        if (set) cookie = set.split(';')[0]!;
        return res;
      },
      post(url: string, body: unknown, headers: Record<string, string> = {}) {
        return fetch(`${url}/submit`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: base, ...(cookie ? { cookie } : {}), ...headers },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        });
      },
    };
  }

  /** White inside the rectangle, black elsewhere. */
  function rectMask(width: number, height: number, r: { x: number; y: number; w: number; h: number }): string {
    const png = new PNG({ width, height });
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const v = x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h ? 255 : 0;
        png.data.set([v, v, v, 255], (y * width + x) * 4);
      }
    }
    return PNG.sync.write(png).toString('base64');
  }

  it('Vary (Region): the link opens the editor, the drawn mask goes to submit/modal with the edited prompt, the reply and the result follow', async () => {
    const { upscale, width, height } = await upscaled();
    const { ix, url } = await editorLink(upscale, 'Vary (Region)');
    expect(url).toMatch(new RegExp(`^${base}/editor/[A-Za-z0-9_-]{43}$`));

    const b = browser();
    const page = await b.get(url);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await page.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/); // no inline script
    expect(html).toContain(`data-width="${width}" data-height="${height}"`);
    expect(html).toContain('a quiet harbour'); // the prompt box, filled as the modal would be

    const img = await b.get(`${url}/image`);
    expect(img.status).toBe(200);
    expect(img.headers.get('content-type')).toMatch(/^image\//);
    for (const asset of ['editor.js', 'maskGeometry.js', 'editor.css']) expect((await b.get(`${base}/editor/assets/${asset}`)).status).toBe(200);

    const modalsBefore = world.proxy.requestsTo('/submit/modal').length;
    const res = await b.post(url, { mask: rectMask(width, height, { x: 20, y: 30, w: 100, h: 60 }), prompt: 'a quiet harbour with a red boat' });
    const out = (await res.json()) as { ok: boolean; message: string };
    expect(out).toEqual({ ok: true, message: 'Sent — the result will appear in Discord. You can close this page.' });

    const modal = world.proxy.requestsTo('/submit/modal')[modalsBefore]!;
    expect((modal.body as { prompt: string }).prompt).toBe('a quiet harbour with a red boat');
    const sent = PNG.sync.read(Buffer.from(String((modal.body as { maskBase64: string }).maskBase64).split(',')[1]!, 'base64'));
    expect([sent.width, sent.height]).toEqual([width, height]);
    const px = (x: number, y: number) => sent.data[(y * width + x) * 4];
    expect([px(20, 30), px(119, 89), px(19, 30), px(120, 89), px(5, 5)]).toEqual([255, 255, 0, 0, 0]);

    // the member's ephemeral reply now says the job was accepted, and the link is gone
    await world.discord.waitFor(() => ix.original()?.content.includes('accepted'));
    expect(ix.original()!.components).toEqual([]);
    await waitForResult(world.discord, world.discord.channel.id, { match: (m) => m.content.includes('a red boat') });

    // spent: a second submit and a new page view say so, and nothing more goes upstream
    const again = await b.post(url, { mask: rectMask(width, height, { x: 0, y: 0, w: 10, h: 10 }) });
    expect(again.status).toBe(410);
    expect(((await again.json()) as { why: string }).why).toBe('used');
    const reopened = await b.get(url);
    expect(reopened.status).toBe(410);
    expect(await reopened.text()).toContain('This link was already used');
    expect(world.proxy.requestsTo('/submit/modal')).toHaveLength(modalsBefore + 1);
    expect(world.discord.openApiProblems).toEqual([]);
  });

  it('an empty or wrongly sized mask is refused like an upload, and the link still works afterwards', async () => {
    const { upscale, width, height } = await upscaled();
    const { url } = await editorLink(upscale, 'Vary (Region)');
    const b = browser();
    await b.get(url);
    const actionsBefore = world.proxy.requestsTo('/submit/action').length;

    const empty = await b.post(url, { mask: rectMask(width, height, { x: 0, y: 0, w: 0, h: 0 }) });
    expect(empty.status).toBe(422);
    expect(((await empty.json()) as { message: string }).message).toMatch(/empty|nothing|white/i);
    const small = await b.post(url, { mask: makePng(10, 10, { color: '#ffffff' }).toString('base64') });
    expect(((await small.json()) as { message: string }).message).toContain('same size');
    const garbage = await b.post(url, '{"mask": 12}');
    expect(garbage.status).toBe(400);
    expect(world.proxy.requestsTo('/submit/action')).toHaveLength(actionsBefore);

    const ok = await b.post(url, { mask: rectMask(width, height, { x: 1, y: 1, w: 8, h: 8 }) });
    expect(((await ok.json()) as { ok: boolean }).ok).toBe(true);
  });

  it('a forged token, another browser, a cross-site post and an expired link: a clear page, nothing upstream', async () => {
    const { upscale, width, height } = await upscaled();
    const forged = await fetch(`${base}/editor/${'A'.repeat(43)}`);
    expect(forged.status).toBe(404);
    expect(await forged.text()).toContain('This link does not work');

    const { url } = await editorLink(upscale, 'Vary (Region)');
    const alice = browser();
    expect((await alice.get(url)).status).toBe(200);
    // someone the link reached later, in another browser
    const mallory = browser();
    const theirs = await mallory.get(url);
    expect(theirs.status).toBe(403);
    expect(await theirs.text()).toContain('This link belongs to someone else');
    expect((await mallory.get(`${url}/image`)).status).toBe(403);
    const stolen = await mallory.post(url, { mask: rectMask(width, height, { x: 0, y: 0, w: 50, h: 50 }) });
    expect(stolen.status).toBe(403);
    // a page elsewhere posting with the member's cookie
    const crossSite = await alice.post(url, { mask: rectMask(width, height, { x: 0, y: 0, w: 50, h: 50 }) }, { origin: 'https://evil.example' });
    expect(crossSite.status).toBe(403);

    const before = world.proxy.requestsTo('/submit/action').length;
    world.advanceClock(16 * 60_000);
    try {
      const late = await alice.post(url, { mask: rectMask(width, height, { x: 0, y: 0, w: 50, h: 50 }) });
      expect(late.status).toBe(410);
      expect(((await late.json()) as { why: string }).why).toBe('expired');
      const latePage = await alice.get(url);
      expect(await latePage.text()).toContain('This link has expired');
    } finally {
      world.advanceClock(-16 * 60_000);
    }
    expect(world.proxy.requestsTo('/submit/action')).toHaveLength(before);
  });

  it('/inpaint without a mask offers the editor; the drawn mask reaches PicWish, the result is delivered, and its Inpaint again offers the editor too (zh-CN)', async () => {
    const image = makePng(96, 64, { seed: 7 });
    const ix = world.discord.slash({ name: 'inpaint', options: { image: { attachment: { name: 'street.png', bytes: image } } } as never, locale: 'zh-CN' });
    const reply = await world.discord.waitFor(() => (ix.original()?.components.length ? ix.original() : undefined));
    expect(reply.content).toContain('96×64');
    const link = (reply.components as { components: { url: string; label: string }[] }[])[0]!.components[0]!;
    expect(link.label).toBe('打开编辑器');
    const b = browser();
    const html = await (await b.get(link.url)).text();
    expect(html).toContain('<html lang="zh-CN">');
    expect(html).not.toContain('id="prompt"'); // inpainting takes no prompt
    const creates = () => world.picwish!.requests.filter((r) => r.method === 'POST' && r.path === '/api/tasks/visual/inpaint');
    const before = creates().length;
    const res = await b.post(link.url, { mask: rectMask(96, 64, { x: 10, y: 10, w: 30, h: 20 }) });
    expect(((await res.json()) as { message: string }).message).toContain('已发送');
    const sent = creates()[before]!;
    const mask = PNG.sync.read(sent.files!.mask_file!);
    expect([mask.width, mask.height, mask.data[(15 * 96 + 15) * 4], mask.data[(50 * 96 + 80) * 4]]).toEqual([96, 64, 255, 0]);
    // the reply says the job was submitted (in Chinese) and the link is gone; the result is delivered
    await world.discord.waitFor(() => ix.original()?.content.includes('已提交') && ix.original()!.components.length === 0);
    const delivered = await waitForResult(world.discord, world.discord.channel.id, {
      after: ix.sentAt,
      match: (m) => m.attachments.length > 0 && buttons(m).some((x) => x.customId.startsWith('mj:t:')),
    });

    // "Inpaint again" on that result: the editor too, on the result image at its own size
    const again = world.discord.clickButton({ messageId: delivered.id, customId: buttons(delivered)[0]!.customId, locale: 'zh-CN' });
    expect((await again.firstCallback()).type).toBe(5);
    const againUrl = (
      (await world.discord.waitFor(() => (again.original()?.components.length ? again.original() : undefined))).components as {
        components: { url: string }[];
      }[]
    )[0]!.components[0]!.url;
    const b2 = browser();
    const page = await (await b2.get(againUrl)).text();
    const [, w, h] = /data-width="(\d+)" data-height="(\d+)"/.exec(page)!;
    const creates2 = creates().length;
    const res2 = await b2.post(againUrl, { mask: rectMask(Number(w), Number(h), { x: 2, y: 2, w: 20, h: 20 }) });
    expect(((await res2.json()) as { ok: boolean }).ok).toBe(true);
    expect(creates()).toHaveLength(creates2 + 1);
    await world.discord.waitFor(() => again.original()?.content.includes('已提交'));
  });
});

describe('mask editor without PUBLIC_URL', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.start({ proxy: { stepMs: 40 } });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('Vary (Region) still opens the modal, which says the editor needs PUBLIC_URL', async () => {
    world.discord.slash({ name: 'imagine', options: { prompt: 'a windmill' }, user: world.discord.alice });
    const grid = await waitForResult(world.discord, world.discord.channel.id, { match: (m) => m.content.includes('windmill') });
    world.discord.clickButton({ messageId: grid.id, customId: button(grid, 'U2').customId, user: world.discord.alice });
    const upscale = await waitForResult(world.discord, world.discord.channel.id, { match: (m) => m.content.includes('Image #2') });
    const ix = world.discord.clickButton({ messageId: upscale.id, customId: button(upscale, 'Vary (Region)').customId, user: world.discord.alice });
    expect((await ix.firstCallback()).type).toBe(9);
    expect(JSON.stringify(ix.modal())).toContain('PUBLIC_URL');
    const zh = world.discord.clickButton({
      messageId: upscale.id,
      customId: button(upscale, 'Vary (Region)').customId,
      user: world.discord.alice,
      locale: 'zh-CN',
    });
    await zh.firstCallback();
    expect(JSON.stringify(zh.modal())).toContain('浏览器编辑器需要机器人设置 PUBLIC_URL');
    expect(world.discord.openApiProblems).toEqual([]);
  });
});
