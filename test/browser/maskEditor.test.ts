import { mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PNG } from 'pngjs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeInteraction, FakeMessage } from '../fakes/discord/index.js';
import { makePng } from '../fakes/images.js';
import { button, waitForResult } from '../support/discordHelpers.js';
import { freePort } from '../support/tmp.js';
import { World } from '../support/world.js';

/**
 * The mask editor in a real headless Chromium (the distribution's, driven by playwright-core): the member opens the
 * link from the ephemeral reply, draws with the mouse and with a finger, edits the prompt and submits; the upstream
 * receives a mask whose white pixels are the drawn shapes, and the job is delivered. Spent, expired, forged and
 * someone else's links get a clear page. `.ci/run` installs chromium when it is missing; CHROMIUM_PATH overrides.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

type Pt = { x: number; y: number };

describe('mask editor in a real browser', () => {
  let world: World;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    world = await World.start({ proxy: { stepMs: 40 }, picwish: { stepMs: 40 }, env: { PUBLIC_URL: base, HTTP_PORT: String(port) }, app: { httpPort: port } });
    // a fresh profile per launch (playwright gives each browser its own temporary user data directory)
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await world?.close();
  });

  async function upscaled(tag: string): Promise<{ upscale: FakeMessage; width: number; height: number }> {
    world.discord.slash({ name: 'imagine', options: { prompt: `a lighthouse on a cliff ${tag}` }, user: world.discord.alice });
    const grid = await waitForResult(world.discord, world.discord.channel.id, { match: (m) => m.content.includes(tag) && !m.content.includes('Image #') });
    world.discord.clickButton({ messageId: grid.id, customId: button(grid, 'U1').customId, user: world.discord.alice });
    const upscale = await waitForResult(world.discord, world.discord.channel.id, { match: (m) => m.content.includes(tag) && m.content.includes('Image #1') });
    const task = [...world.proxy.tasks.values()].find((t) => t.action === 'UPSCALE' && t.prompt?.includes(tag))!;
    return { upscale, width: Number(task.width), height: Number(task.height) };
  }

  async function linkOf(ix: FakeInteraction): Promise<string> {
    const reply = await world.discord.waitFor(() => (ix.original()?.components.length ? ix.original() : undefined));
    return (reply.components as { components: { url: string }[] }[])[0]!.components[0]!.url;
  }

  async function pressVaryRegion(msg: FakeMessage): Promise<{ ix: FakeInteraction; url: string }> {
    const ix = world.discord.clickButton({ messageId: msg.id, customId: button(msg, 'Vary (Region)').customId, user: world.discord.alice });
    return { ix, url: await linkOf(ix) };
  }

  async function open(url: string, opts: { dark?: boolean; locale?: string } = {}): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({
      viewport: { width: 900, height: 1000 },
      hasTouch: true,
      colorScheme: opts.dark ? 'dark' : 'light',
      locale: opts.locale ?? 'en-US',
    });
    const page = await context.newPage();
    await page.goto(url);
    return { context, page };
  }

  async function ready(page: Page): Promise<{ left: number; top: number; width: number; height: number }> {
    await page.waitForSelector('#editor[data-ready="true"]');
    // (page functions as strings: the project's TypeScript has no DOM types)
    await page.waitForFunction('document.getElementById("picture").complete && document.getElementById("picture").naturalWidth > 0');
    const box = (await page.locator('#overlay').boundingBox())!;
    return { left: box.x, top: box.y, width: box.width, height: box.height };
  }

  async function mouseDrag(page: Page, points: Pt[]): Promise<void> {
    await page.mouse.move(points[0]!.x, points[0]!.y);
    await page.mouse.down();
    for (const p of points.slice(1)) await page.mouse.move(p.x, p.y, { steps: 6 });
    await page.mouse.up();
  }

  /** One finger drawn along the points (real touch events, which Chromium turns into touch pointer events). */
  async function fingerDrag(page: Page, points: Pt[]): Promise<void> {
    const cdp = await page.context().newCDPSession(page);
    const touch = (type: 'touchStart' | 'touchMove' | 'touchEnd', p?: Pt) =>
      cdp.send('Input.dispatchTouchEvent', { type, touchPoints: p ? [{ x: p.x, y: p.y, id: 1, radiusX: 1, radiusY: 1, force: 1 }] : [] });
    await touch('touchStart', points[0]);
    for (let i = 1; i < points.length; i++) {
      const a = points[i - 1]!;
      const b = points[i]!;
      for (let s = 1; s <= 6; s++) await touch('touchMove', { x: a.x + ((b.x - a.x) * s) / 6, y: a.y + ((b.y - a.y) * s) / 6 });
    }
    await touch('touchEnd');
    await cdp.detach();
  }

  /** Client point → image pixel, computed here independently of the page's own module. */
  const toImage = (box: { left: number; top: number; width: number; height: number }, size: { width: number; height: number }) => (p: Pt) => ({
    x: ((p.x - box.left) * size.width) / box.width,
    y: ((p.y - box.top) * size.height) / box.height,
  });

  function inPolygon(pts: Pt[], x: number, y: number): boolean {
    let inside = false;
    for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
      const a = pts[i]!;
      const b = pts[j]!;
      if (a.y > y !== b.y > y && x < ((b.x - a.x) * (y - a.y)) / (b.y - a.y) + a.x) inside = !inside;
    }
    return inside;
  }

  function nearPolyline(pts: Pt[], x: number, y: number, r: number): boolean {
    for (let i = 1; i < pts.length; i++) {
      const a = pts[i - 1]!;
      const b = pts[i]!;
      const dx = b.x - a.x;
      const dy = b.y - a.y;
      const t = Math.max(0, Math.min(1, ((x - a.x) * dx + (y - a.y) * dy) / (dx * dx + dy * dy || 1)));
      if ((a.x + t * dx - x) ** 2 + (a.y + t * dy - y) ** 2 <= r * r) return true;
    }
    return false;
  }

  /**
   * Compare a received mask with what was drawn, pixel by pixel: a pixel counts where the expected answer is the
   * same a little way off in every direction (within `tol` image pixels of an edge, the drawing may fall either way).
   */
  function compareMask(mask: PNG, expected: (x: number, y: number) => boolean, tol: number): { checked: number; wrong: number; white: number } {
    let checked = 0;
    let wrong = 0;
    let white = 0;
    for (let y = 0; y < mask.height; y++) {
      for (let x = 0; x < mask.width; x++) {
        const cx = x + 0.5;
        const cy = y + 0.5;
        const v = expected(cx, cy);
        const got = mask.data[(y * mask.width + x) * 4]! > 127;
        if (got) white++;
        if ([expected(cx - tol, cy), expected(cx + tol, cy), expected(cx, cy - tol), expected(cx, cy + tol)].some((e) => e !== v)) continue;
        checked++;
        if (got !== v) wrong++;
      }
    }
    return { checked, wrong, white };
  }

  it('Vary (Region): a rectangle and a lasso with the mouse, a brush stroke with a finger, the prompt edited; the proxy gets exactly that mask and the job is delivered', async () => {
    const { upscale, width, height } = await upscaled('b1');
    const { ix, url } = await pressVaryRegion(upscale);
    const { context, page } = await open(url);
    const box = await ready(page);
    const size = { width, height };
    const img = toImage(box, size);
    const at = (fx: number, fy: number): Pt => ({ x: box.left + box.width * fx, y: box.top + box.height * fy });

    // rectangle (the default tool), dragged from bottom-right to top-left
    const r0 = at(0.45, 0.4);
    const r1 = at(0.1, 0.08);
    await mouseDrag(page, [r0, r1]);
    // lasso: a triangle
    await page.click('button[data-tool="lasso"]');
    const tri = [at(0.6, 0.1), at(0.9, 0.15), at(0.75, 0.45)];
    await mouseDrag(page, [...tri, tri[0]!]);
    // brush with a finger, at a known size
    await page.click('button[data-tool="brush"]');
    await page.locator('#brush-size').fill('10');
    const stroke = [at(0.15, 0.7), at(0.5, 0.8), at(0.85, 0.65)];
    await fingerDrag(page, stroke);
    expect(await page.getAttribute('button[data-tool="brush"]', 'aria-pressed')).toBe('true');

    await page.fill('#prompt', 'a lighthouse on a cliff at dawn, a small boat');
    // the README's picture is refreshed on request (UPDATE_DOCS_SCREENSHOT=1), so that a test run leaves the checkout clean
    const shot = process.env.UPDATE_DOCS_SCREENSHOT ? 'docs/editor.png' : join(tmpdir(), `mj-relay-editor-${process.pid}.png`);
    mkdirSync(dirname(shot), { recursive: true });
    await page.screenshot({ path: shot });
    expect(statSync(shot).size).toBeGreaterThan(10_000); // a real picture of the page, not an empty frame

    const before = world.proxy.requestsTo('/submit/modal').length;
    await page.click('#submit');
    await page.waitForSelector('#status[data-kind="sent"]');
    expect(await page.textContent('#status')).toContain('Sent — the result will appear in Discord');

    const modal = world.proxy.requestsTo('/submit/modal')[before]!;
    expect((modal.body as { prompt: string }).prompt).toBe('a lighthouse on a cliff at dawn, a small boat');
    const mask = PNG.sync.read(Buffer.from(String((modal.body as { maskBase64: string }).maskBase64).split(',')[1]!, 'base64'));
    expect([mask.width, mask.height]).toEqual([width, height]);

    const [a, b] = [img(r0), img(r1)];
    const triangle = tri.map(img);
    const line = stroke.map(img);
    const diameter = Math.max(1, (Math.min(width, height) * (0.01 + (0.24 * 9) / 99)) | 0); // the slider at 10
    const expected = (x: number, y: number) =>
      (x >= Math.min(a.x, b.x) && x <= Math.max(a.x, b.x) && y >= Math.min(a.y, b.y) && y <= Math.max(a.y, b.y)) ||
      inPolygon(triangle, x, y) ||
      nearPolyline(line, x, y, diameter / 2);
    const tol = 2 * (width / box.width) + 1; // two screen pixels, plus one image pixel
    const cmp = compareMask(mask, expected, tol);
    expect(cmp.wrong).toBe(0);
    expect(cmp.checked).toBeGreaterThan(width * height * 0.9);
    expect(cmp.white).toBeGreaterThan(width * height * 0.1);

    // the ephemeral reply in Discord was edited, and the result is delivered
    await world.discord.waitFor(() => ix.original()?.content.includes('accepted') && ix.original()!.components.length === 0);
    await waitForResult(world.discord, world.discord.channel.id, { match: (m) => m.content.includes('a small boat') });

    // reused: the page says so, and nothing more goes upstream
    await page.reload();
    expect(await page.textContent('h1')).toBe('This link was already used');
    expect(world.proxy.requestsTo('/submit/modal')).toHaveLength(before + 1);
    await context.close();
  });

  it("someone else's browser, an expired link and a forged one get a clear page; nothing is sent", async () => {
    const { upscale } = await upscaled('b2');
    const { url } = await pressVaryRegion(upscale);
    const member = await open(url);
    const box = await ready(member.page);
    const stranger = await open(url);
    expect(await stranger.page.textContent('h1')).toBe('This link belongs to someone else');

    const actions = world.proxy.requestsTo('/submit/action').length;
    await mouseDrag(member.page, [
      { x: box.left + 20, y: box.top + 20 },
      { x: box.left + 120, y: box.top + 90 },
    ]);
    world.advanceClock(16 * 60_000);
    try {
      await member.page.click('#submit');
      await member.page.waitForSelector('#status[data-kind="error"]');
      expect(await member.page.textContent('#status')).toBe('This link has expired');
      await member.page.reload();
      expect(await member.page.textContent('h1')).toBe('This link has expired');
    } finally {
      world.advanceClock(-16 * 60_000);
    }
    const forged = await open(`${base}/editor/${'x'.repeat(43)}`);
    expect(await forged.page.textContent('h1')).toBe('This link does not work');
    expect(world.proxy.requestsTo('/submit/action')).toHaveLength(actions);
    for (const c of [member, stranger, forged]) await c.context.close();
  });

  it('/inpaint in Chinese, dark mode, tools by keyboard: the drawn area reaches PicWish and the result is delivered', async () => {
    const ix = world.discord.slash({
      name: 'inpaint',
      options: { image: { attachment: { name: 'room.png', bytes: makePng(320, 240, { seed: 3 }) } } } as never,
      locale: 'zh-CN',
    });
    const url = await linkOf(ix);
    const { context, page } = await open(url, { dark: true, locale: 'zh-CN' });
    const box = await ready(page);
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
    expect(await page.textContent('#submit')).toBe('提交');
    expect(await page.locator('#prompt').count()).toBe(0);
    const bg = await page.evaluate('getComputedStyle(document.body).backgroundColor');
    expect(bg).toBe('rgb(23, 24, 28)'); // the dark palette

    // keyboard: the tool buttons are real buttons (focus + Enter), and letters are shortcuts
    await page.focus('button[data-tool="lasso"]');
    await page.keyboard.press('Enter');
    expect(await page.getAttribute('button[data-tool="lasso"]', 'aria-pressed')).toBe('true');
    await page.keyboard.press('r');
    expect(await page.getAttribute('button[data-tool="rect"]', 'aria-pressed')).toBe('true');

    const p0 = { x: box.left + box.width * 0.25, y: box.top + box.height * 0.25 };
    const p1 = { x: box.left + box.width * 0.75, y: box.top + box.height * 0.6 };
    await mouseDrag(page, [
      { x: box.left + 5, y: box.top + 5 },
      { x: box.left + 40, y: box.top + 40 },
    ]); // drawn, then undone
    await page.keyboard.press('Control+z');
    await mouseDrag(page, [p0, p1]);

    const creates = () => world.picwish!.requests.filter((r) => r.method === 'POST' && r.path === '/api/tasks/visual/inpaint');
    const before = creates().length;
    const submittedAt = world.discord.now();
    await page.click('#submit');
    await page.waitForSelector('#status[data-kind="sent"]');
    expect(await page.textContent('#status')).toContain('已发送');
    const mask = PNG.sync.read(creates()[before]!.files!.mask_file!);
    const img = toImage(box, { width: 320, height: 240 });
    const [a, b] = [img(p0), img(p1)];
    const cmp = compareMask(mask, (x, y) => x >= a.x && x <= b.x && y >= a.y && y <= b.y, 2 * (320 / box.width) + 1);
    expect(cmp.wrong).toBe(0);
    expect(cmp.checked).toBeGreaterThan(320 * 240 * 0.9);
    await world.discord.waitFor(() => ix.original()?.content.includes('已提交') && ix.original()!.components.length === 0);
    await waitForResult(world.discord, world.discord.channel.id, { after: submittedAt, match: (m) => m.attachments.length > 0 });
    await context.close();
  });
});
