// Tests of the fake Midjourney Proxy itself, over real HTTP.
import { createServer, type Server } from 'node:http';
import { PNG } from 'pngjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { MjButton, MjTask } from '../../src/upstream/mjTypes.js';
import { bigPng, imageInfo, makeGif, makeJpeg, makePng, makeWebp, toDataUrl } from './images.js';
import { startFakeMjProxy, type FakeMjProxy, type FakeMjProxyOptions } from './mjProxy/index.js';

const SECRET = 'fake-proxy-secret';
const AUTH = { 'mj-api-secret': SECRET };

let proxies: FakeMjProxy[] = [];
const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  proxies = [];
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((r) => {
          s.closeAllConnections();
          s.close(() => r());
        }),
    ),
  );
});

async function start(opts: FakeMjProxyOptions = {}): Promise<FakeMjProxy> {
  const p = await startFakeMjProxy({ stepMs: 5, ...opts });
  proxies.push(p);
  return p;
}

interface Res {
  status: number;
  text: string;
  contentType: string;
  json: any;
}

async function call(
  p: FakeMjProxy,
  path: string,
  body?: unknown,
  init: { headers?: Record<string, string>; method?: string; form?: boolean } = {},
): Promise<Res> {
  const headers: Record<string, string> = { ...AUTH, ...init.headers };
  let payload: string | undefined;
  if (body !== undefined) {
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      payload = new URLSearchParams(body as Record<string, string>).toString();
    } else {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
  }
  const res = await fetch(`${p.url}${path}`, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body: payload });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, contentType: res.headers.get('content-type') ?? '', json };
}

const fetchTask = async (p: FakeMjProxy, id: string): Promise<MjTask> => (await call(p, `/mj/task/${id}/fetch`)).json as MjTask;

/** imagine + wait for SUCCESS; returns the fetched task */
async function imagineDone(p: FakeMjProxy, prompt = 'a lighthouse at dusk', extra: Record<string, unknown> = {}): Promise<MjTask> {
  const r = await call(p, '/mj/submit/imagine', { prompt, ...extra });
  expect(r.json.code).toBe(1);
  await p.waitForStatus(String(r.json.result), 'SUCCESS');
  return fetchTask(p, String(r.json.result));
}

async function pressDone(p: FakeMjProxy, taskId: string, customId: string): Promise<MjTask> {
  const r = await call(p, '/mj/submit/action', { taskId, customId });
  expect(r.json.code).toBe(1);
  await p.waitForStatus(String(r.json.result), 'SUCCESS');
  return fetchTask(p, String(r.json.result));
}

const button = (t: MjTask, pred: (b: MjButton) => boolean): MjButton => {
  const b = t.buttons?.find(pred);
  if (!b) throw new Error('button not found');
  return b;
};

async function pngOf(url: string): Promise<PNG> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('image/png');
  return PNG.sync.read(Buffer.from(await res.arrayBuffer()));
}

describe('images', () => {
  it('builds real PNG / JPEG / WebP / GIF bytes with the asked size', () => {
    const png = makePng(40, 30, { color: '#ff0000' });
    const decoded = PNG.sync.read(png);
    expect([decoded.width, decoded.height, decoded.data[0], decoded.data[1]]).toEqual([40, 30, 255, 0]);
    expect(Buffer.compare(makePng(8, 8, { seed: 2 }), makePng(8, 8, { seed: 2 }))).toBe(0);
    const jpg = makeJpeg(37, 21);
    expect([...jpg.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    expect(jpg.includes(Buffer.from([0xff, 0xc0]))).toBe(true);
    expect(imageInfo(jpg)).toMatchObject({ format: 'jpeg', width: 37, height: 21 });
    expect(imageInfo(makeWebp(33, 17))).toMatchObject({ format: 'webp', width: 33, height: 17 });
    expect(imageInfo(makeGif(5, 3))).toMatchObject({ format: 'gif', width: 5, height: 3 });
    expect(toDataUrl(png).startsWith('data:image/png;base64,iVBOR')).toBe(true);
  });

  it('bigPng is a valid PNG over the size limit', () => {
    const big = bigPng(10 * 1024 * 1024 + 1);
    expect(big.length).toBeGreaterThan(10 * 1024 * 1024);
    const info = imageInfo(big);
    expect(info?.format).toBe('png');
    expect(PNG.sync.read(big).width).toBe(info?.width);
  });
});

describe('imagine lifecycle', () => {
  it('NOT_START → SUBMITTED → IN_PROGRESS (preview) → SUCCESS with the 9 grid buttons and a real PNG', async () => {
    const p = await start();
    p.pause();
    const r = await call(p, '/mj/submit/imagine', { prompt: 'a lighthouse at dusk', state: 'g:1|c:2|u:3' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ code: 1, description: '提交成功', properties: { discordInstanceId: expect.any(String) } });
    const id = String(r.json.result);
    expect(id).toMatch(/^\d{16}$/);
    expect(Math.abs(Number(id.slice(0, 13)) - Date.now())).toBeLessThan(60_000);

    let t = await fetchTask(p, id);
    expect(t).toMatchObject({
      id,
      action: 'IMAGINE',
      status: 'NOT_START',
      state: 'g:1|c:2|u:3',
      description: '/imagine a lighthouse at dusk',
      mode: 'FAST',
      botType: 'MID_JOURNEY',
      imageUrl: null,
      buttons: [],
    });
    expect(t.properties?.messageHash).toMatch(/^[0-9a-f-]{36}$/);
    expect(t.properties?.finalPrompt).toBe('a lighthouse at dusk --v 7');

    p.advanceAll();
    t = await fetchTask(p, id);
    expect([t.status, t.progress, typeof t.startTime]).toEqual(['SUBMITTED', '0%', 'number']);
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      p.advanceAll();
      t = await fetchTask(p, id);
      expect(t.status).toBe('IN_PROGRESS');
      seen.push(String(t.progress));
    }
    expect(seen).toEqual(['0%', '15%', '46%', '78%']);
    expect(t.imageUrl).toBe(`${p.url}/images/${id}-preview.png`);
    expect((await pngOf(String(t.imageUrl))).width).toBe(128);
    expect((await fetch(`${p.url}/images/${id}.png`)).status).toBe(404); // final image not yet

    p.resume();
    await p.waitForStatus(id, 'SUCCESS');
    t = await fetchTask(p, id);
    expect(t).toMatchObject({ status: 'SUCCESS', progress: '100%', failReason: '', width: 256, height: 256 });
    expect(t.finishTime).toBeGreaterThanOrEqual(Number(t.startTime));
    const h = String(t.properties?.messageHash);
    expect(t.buttons).toEqual([
      ...[1, 2, 3, 4].map((n) => ({ customId: `MJ::JOB::upsample::${n}::${h}`, emoji: '', label: `U${n}`, style: 2, type: 2 })),
      { customId: `MJ::JOB::reroll::0::${h}::SOLO`, emoji: '🔄', label: '', style: 2, type: 2 },
      ...[1, 2, 3, 4].map((n) => ({ customId: `MJ::JOB::variation::${n}::${h}`, emoji: '', label: `V${n}`, style: 2, type: 2 })),
    ]);
    expect(t.imageUrl).toBe(`${p.url}/images/${id}.png`);
    const png = await pngOf(String(t.imageUrl));
    expect([png.width, png.height]).toEqual([256, 256]);
    expect(p.task(id)?.fake.hash).toBe(h);
  });

  it('path-mode prefixes are accepted and recorded; task ids are unique', async () => {
    const p = await start();
    const ids = new Set<string>();
    for (const prefix of ['/mj-relax', '/mj-turbo', '/mj-fast', '']) {
      const r = await call(p, `${prefix}/mj/submit/imagine`, { prompt: 'cat' });
      expect(r.json.code).toBe(1);
      ids.add(String(r.json.result));
      expect(p.task(String(r.json.result))?.mode).toBe(prefix ? prefix.slice(4).toUpperCase() : 'FAST');
    }
    expect(ids.size).toBe(4);
    expect(p.requestsTo('/submit/imagine').map((r) => r.mode)).toEqual(['relax', 'turbo', 'fast', undefined]);
    expect(p.requestsTo('/submit/imagine').every((r) => r.route === '/mj/submit/imagine')).toBe(true);
    expect(p.requestsTo('/submit/imagine')[0]?.body).toEqual({ prompt: 'cat' });
  });

  it('validates imagine: empty prompt, reference images, banned words', async () => {
    const p = await start();
    expect((await call(p, '/mj/submit/imagine', { prompt: '  ' })).json.code).toBe(4);
    expect((await call(p, '/mj/submit/imagine', { prompt: 'x', base64Array: ['data:image/png;base64,@@@'] })).json.code).toBe(4);
    const ok = await call(p, '/mj/submit/imagine', {
      prompt: 'x',
      base64Array: [toDataUrl(makePng(8, 8)), toDataUrl(makeJpeg(8, 8))],
      base64: toDataUrl(makePng(4, 4)),
    });
    expect(ok.json.code).toBe(1);
    expect(p.task(String(ok.json.result))?.fake).toMatchObject({ imageCount: 2, ignored: ['base64'] });
    const banned = await call(p, '/mj/submit/imagine', { prompt: 'a Forbidden-Word here' });
    expect(banned.json).toMatchObject({ code: 24, result: null, properties: { bannedWord: 'forbidden-word' } });
    expect(p.tasks.size).toBe(1);
  });

  it('bannedAtRunTime: accepted, then FAILURE "可能包含敏感词"', async () => {
    const p = await start({ bannedAtRunTime: true });
    const r = await call(p, '/mj/submit/imagine', { prompt: 'forbidden-word' });
    expect(r.json.code).toBe(1);
    const t = await p.waitForStatus(String(r.json.result), 'FAILURE');
    expect([t.failReason, t.progress]).toEqual(['可能包含敏感词', '']);
  });
});

describe('actions and modals', () => {
  it('U2 → UPSCALE with the upscale panel; Make Square only for non-square --ar; UPSCALE_HD', async () => {
    const p = await start();
    const grid = await imagineDone(p, 'a lighthouse at dusk');
    const up = await pressDone(p, grid.id, button(grid, (b) => b.label === 'U2').customId);
    expect(up).toMatchObject({ action: 'UPSCALE', parentId: grid.id, width: 512, height: 512, prompt: 'a lighthouse at dusk', botType: 'MID_JOURNEY' });
    expect(up.properties?.action_index).toBe(2);
    const h = String(up.properties?.messageHash);
    expect(h).not.toBe(grid.properties?.messageHash);
    expect(up.buttons?.map((b) => [b.label, b.emoji, b.customId])).toEqual([
      ['Upscale (Subtle)', 'upscale_1', `MJ::JOB::upsample_v7_2x_subtle::1::${h}::SOLO`],
      ['Upscale (Creative)', 'upscale_1', `MJ::JOB::upsample_v7_2x_creative::1::${h}::SOLO`],
      ['Vary (Subtle)', '🪄', `MJ::JOB::low_variation::1::${h}::SOLO`],
      ['Vary (Strong)', '🪄', `MJ::JOB::high_variation::1::${h}::SOLO`],
      ['Vary (Region)', '🖌️', `MJ::Inpaint::1::${h}::SOLO`],
      ['Zoom Out 2x', '🔍', `MJ::Outpaint::50::1::${h}::SOLO`],
      ['Zoom Out 1.5x', '🔍', `MJ::Outpaint::75::1::${h}::SOLO`],
      ['Custom Zoom', '🔍', `MJ::CustomZoom::${h}`],
      ['', '⬅️', `MJ::JOB::pan_left::1::${h}::SOLO`],
      ['', '➡️', `MJ::JOB::pan_right::1::${h}::SOLO`],
      ['', '⬆️', `MJ::JOB::pan_up::1::${h}::SOLO`],
      ['', '⬇️', `MJ::JOB::pan_down::1::${h}::SOLO`],
      ['', '❤️', `MJ::BOOKMARK::${h}`],
      // Midjourney's video: every upscale can be animated (contract §3.10a)
      ['Animate (High motion)', '🎞️', `MJ::JOB::animate_high::1::${h}::SOLO`],
      ['Animate (Low motion)', '🎞️', `MJ::JOB::animate_low::1::${h}::SOLO`],
    ]);
    expect(up.buttons?.every((b) => b.style === 2 && b.type === 2)).toBe(true);
    expect((await pngOf(String(up.imageUrl))).width).toBe(512);

    const wide = await imagineDone(p, 'a wide shot --ar 16:9');
    const wideUp = await pressDone(p, wide.id, button(wide, (b) => b.label === 'U1').customId);
    expect(button(wideUp, (b) => b.label === 'Make Square').customId).toMatch(/^MJ::Outpaint::100::1::[0-9a-f-]{36}::SOLO$/);

    const hd = await pressDone(p, up.id, button(up, (b) => b.label === 'Upscale (Creative)').customId);
    expect(hd).toMatchObject({ action: 'UPSCALE_HD', width: 1024 });
    expect(hd.buttons?.some((b) => b.customId.includes('upsample'))).toBe(false);
    expect(hd.buttons?.some((b) => b.label === 'Vary (Region)')).toBe(true);

    const v6 = await start({ version: 'v6r1' });
    const g6 = await imagineDone(v6);
    const u6 = await pressDone(v6, g6.id, button(g6, (b) => b.label === 'U1').customId);
    expect(u6.buttons?.[0]?.customId).toMatch(/^MJ::JOB::upsample_v6r1_2x_subtle::1::/);
  });

  it('action validation: unknown task 404/3, parent not SUCCESS 4, foreign customId 4', async () => {
    const p = await start();
    const grid = await imagineDone(p);
    const unknown = await call(p, '/mj/submit/action', { taskId: '1700000000000999', customId: grid.buttons?.[0]?.customId });
    expect([unknown.status, unknown.json.code]).toEqual([404, 3]);
    p.pause();
    const pending = await call(p, '/mj/submit/imagine', { prompt: 'x' });
    const notDone = await call(p, '/mj/submit/action', { taskId: pending.json.result, customId: 'MJ::JOB::upsample::1::abc' });
    expect(notDone.json).toMatchObject({ code: 4, description: '关联任务状态错误' });
    const foreign = await call(p, '/mj/submit/action', { taskId: grid.id, customId: 'MJ::JOB::upsample::1::00000000-0000-0000-0000-000000000000' });
    expect(foreign.json.code).toBe(4);
    const upscalePanelOnGrid = await call(p, '/mj/submit/action', { taskId: grid.id, customId: `MJ::CustomZoom::${grid.properties?.messageHash}` });
    expect(upscalePanelOnGrid.json.code).toBe(4);
  });

  it('Custom Zoom → 21 MODAL; modal without --zoom → 4, with --zoom 1.5 → 1 and it completes', async () => {
    const p = await start();
    const grid = await imagineDone(p, 'a lighthouse');
    const up = await pressDone(p, grid.id, button(grid, (b) => b.label === 'U1').customId);
    const r = await call(p, '/mj/submit/action', { taskId: up.id, customId: button(up, (b) => b.label === 'Custom Zoom').customId });
    expect(r.json).toMatchObject({ code: 21, description: 'Waiting for window confirm', properties: { finalPrompt: 'a lighthouse --v 7', remix: true } });
    const modalId = String(r.json.result);
    let t = await fetchTask(p, modalId);
    expect(t).toMatchObject({ status: 'MODAL', action: 'ZOOM', description: 'Waiting for window confirm' });
    await new Promise((res) => setTimeout(res, 60));
    expect((await fetchTask(p, modalId)).status).toBe('MODAL'); // does not advance by itself

    expect((await call(p, '/mj/submit/modal', { taskId: modalId, prompt: 'a lighthouse' })).json.code).toBe(4);
    expect((await call(p, '/mj/submit/modal', { taskId: modalId, prompt: 'a lighthouse --zoom 2.5' })).json.code).toBe(4);
    expect((await call(p, '/mj/submit/modal', { taskId: '1700000000000998', prompt: 'x --zoom 1.5' })).status).toBe(404);
    const ok = await call(p, '/mj/submit/modal', { taskId: modalId, prompt: 'a lighthouse --zoom 1.5' });
    expect(ok.json).toMatchObject({ code: 1, result: modalId });
    expect((await call(p, '/mj/submit/modal', { taskId: modalId, prompt: 'a lighthouse --zoom 1.5' })).json.code).toBe(4);
    t = await p.waitForStatus(modalId, 'SUCCESS');
    expect(p.task(modalId)?.fake.modalPrompt).toBe('a lighthouse --zoom 1.5');
    expect(t.properties?.finalPrompt).toBe('a lighthouse --zoom 1.5');
    expect(t.buttons).toHaveLength(9);
  });

  it('Vary (Region): mask of the wrong size → 4, right size → 1 (data URL; bare base64 on trueai)', async () => {
    const p = await start();
    const grid = await imagineDone(p, 'a lighthouse');
    const up = await pressDone(p, grid.id, button(grid, (b) => b.label === 'U3').customId);
    const press = async (): Promise<string> => {
      const r = await call(p, '/mj/submit/action', { taskId: up.id, customId: button(up, (b) => b.label === 'Vary (Region)').customId });
      expect(r.json).toMatchObject({ code: 21, properties: { finalPrompt: '' } });
      return String(r.json.result);
    };
    const id = await press();
    expect(
      (await call(p, '/mj/submit/modal', { taskId: id, prompt: 'a boat', maskBase64: toDataUrl(makePng(256, 256, { color: '#000000' })) })).json.code,
    ).toBe(4);
    expect((await call(p, '/mj/submit/modal', { taskId: id, maskBase64: toDataUrl(makeJpeg(512, 512)) })).json.code).toBe(4);
    expect((await call(p, '/mj/submit/modal', { taskId: id, prompt: 'a boat' })).json.code).toBe(4);
    const ok = await call(p, '/mj/submit/modal', { taskId: id, prompt: 'a boat', maskBase64: toDataUrl(makePng(512, 512, { color: '#ffffff' })) });
    expect(ok.json).toMatchObject({ code: 1, result: id });
    expect(p.task(id)?.fake.maskSize).toEqual({ width: 512, height: 512 });
    expect((await p.waitForStatus(id, 'SUCCESS')).action).toBe('VARIATION');

    const bareId = await press();
    const bare = makePng(512, 512, { color: '#000000' }).toString('base64');
    expect((await call(p, '/mj/submit/modal', { taskId: bareId, maskBase64: bare })).json.code).toBe(1);
    expect(p.task(bareId)?.prompt).toBe('a lighthouse'); // blank prompt → the parent's
  });

  it('Remix: account remix or enableRemix makes V1 / pan / reroll answer 21; autoSubmit queues', async () => {
    const p = await start({ remix: true });
    const grid = await imagineDone(p, 'a fox');
    const v1 = await call(p, '/mj/submit/action', { taskId: grid.id, customId: button(grid, (b) => b.label === 'V1').customId });
    expect(v1.json).toMatchObject({ code: 21, properties: { finalPrompt: 'a fox --v 7' } });
    expect(p.task(String(v1.json.result))).toMatchObject({ status: 'MODAL', action: 'VARIATION' });
    const reroll = await call(p, '/mj/submit/action', { taskId: grid.id, customId: button(grid, (b) => b.emoji === '🔄').customId });
    expect(reroll.json.code).toBe(21);
    const u1 = await call(p, '/mj/submit/action', { taskId: grid.id, customId: button(grid, (b) => b.label === 'U1').customId });
    expect(u1.json.code).toBe(1); // upscales never need a modal
    const remixed = await call(p, '/mj/submit/modal', { taskId: v1.json.result, prompt: 'a red fox' });
    expect(remixed.json.code).toBe(1);
    expect((await p.waitForStatus(String(v1.json.result), 'SUCCESS')).prompt).toBe('a red fox');

    const q = await start();
    const g2 = await imagineDone(q, 'a fox');
    const plain = await call(q, '/mj/submit/action', { taskId: g2.id, customId: button(g2, (b) => b.label === 'V2').customId });
    expect(plain.json.code).toBe(1);
    const forced = await call(q, '/mj/submit/action', { taskId: g2.id, customId: button(g2, (b) => b.label === 'V2').customId, enableRemix: true });
    expect(forced.json.code).toBe(21);

    const auto = await start({ remix: true, autoSubmit: true });
    const g3 = await imagineDone(auto);
    expect((await call(auto, '/mj/submit/action', { taskId: g3.id, customId: button(g3, (b) => b.label === 'V3').customId })).json.code).toBe(1);
  });

  it('describe → four keycap prompts; PicReader::n → 21, ::all → 4 ids, Retry → DESCRIBE', async () => {
    const p = await start();
    const r = await call(p, '/mj/submit/describe', { base64: toDataUrl(makePng(400, 300)) });
    expect(r.json.code).toBe(1);
    await p.waitForStatus(String(r.json.result), 'SUCCESS');
    const d = await fetchTask(p, String(r.json.result));
    expect(d.action).toBe('DESCRIBE');
    const fp = String(d.properties?.finalPrompt);
    expect(fp).toMatch(/^1️⃣ .+\n\n2️⃣ .+\n\n3️⃣ .+\n\n4️⃣ .+$/u);
    expect(d.promptEn).toBe(fp);
    const prompts = fp
      .split(/[1-4]️⃣ /u)
      .map((s) => s.trim())
      .filter(Boolean);
    expect(new Set(prompts).size).toBe(4);
    expect(prompts.every((x) => x.endsWith('--ar 4:3'))).toBe(true);
    expect(d.buttons?.map((b) => [b.customId, b.label, b.emoji])).toEqual([
      ['MJ::Job::PicReader::1', '', '1️⃣'],
      ['MJ::Job::PicReader::2', '', '2️⃣'],
      ['MJ::Job::PicReader::3', '', '3️⃣'],
      ['MJ::Job::PicReader::4', '', '4️⃣'],
      ['MJ::Picread::Retry', '', '🔄'],
      ['MJ::Job::PicReader::all', 'Imagine all', '🎉'],
    ]);
    expect((await pngOf(String(d.imageUrl))).width).toBe(400);

    const pick = await call(p, '/mj/submit/action', { taskId: d.id, customId: 'MJ::Job::PicReader::3' });
    expect(pick.json).toMatchObject({ code: 21, properties: { finalPrompt: prompts[2] } });
    expect(p.task(String(pick.json.result))).toMatchObject({ action: 'IMAGINE', status: 'MODAL' });

    const all = await call(p, '/mj/submit/action', { taskId: d.id, customId: 'MJ::Job::PicReader::all' });
    expect(all.json.code).toBe(1);
    const ids = String(all.json.result).split(',');
    expect(ids).toHaveLength(4);
    expect(ids.map((id) => p.task(id)?.prompt)).toEqual(prompts);
    expect(ids.every((id) => p.task(id)?.action === 'IMAGINE')).toBe(true);

    const retry = await call(p, '/mj/submit/action', { taskId: d.id, customId: 'MJ::Picread::Retry' });
    expect(p.task(String(retry.json.result))?.action).toBe('DESCRIBE');

    const plus = await start({ flavor: 'plus' });
    const r2 = await call(plus, '/mj/submit/describe', { base64: toDataUrl(makePng(8, 8)) });
    await plus.waitForStatus(String(r2.json.result), 'SUCCESS');
    expect((await call(plus, '/mj/submit/action', { taskId: r2.json.result, customId: 'MJ::Job::PicReader::all' })).json.code).toBe(4);
    expect((await call(p, '/mj/submit/describe', {})).json.code).toBe(4);
    const link = await call(p, '/mj/submit/describe', { link: 'https://cdn.example/a.png' });
    expect(p.task(String(link.json.result))?.imageUrl).toBe('https://cdn.example/a.png');
  });

  it('shorten → five keycap candidates; PromptAnalyzer::n → 21; TA v11 rejects it and BOOKMARK', async () => {
    const p = await start();
    const r = await call(p, '/mj/submit/shorten', { prompt: 'a very beautiful lighthouse at the dusk --ar 3:2' });
    await p.waitForStatus(String(r.json.result), 'SUCCESS');
    const s = await fetchTask(p, String(r.json.result));
    const md = String(s.properties?.finalPrompt);
    expect(s.action).toBe('SHORTEN');
    expect(md).toMatch(/\*\*lighthouse\*\*/);
    expect(md.indexOf('Important tokens')).toBeLessThan(md.indexOf('Shortened prompts'));
    const candidates = [...md.matchAll(/^([1-5])️⃣ (.+)$/gmu)].map((m) => m[2]);
    expect(candidates).toHaveLength(5);
    expect(new Set(candidates).size).toBe(5);
    expect(s.description).toBe(md);
    expect(s.imageUrl).toBeNull();
    const uuid = String(s.properties?.messageHash);
    expect(s.buttons?.map((b) => b.customId)).toEqual(
      [1, 2, 3, 4, 5].map((n) => `MJ::Job::PromptAnalyzer::${uuid}::${n}`).concat(`MJ::Job::PromptAnalyzer::${uuid}::details`),
    );
    expect(button(s, (b) => b.customId.endsWith('::details')).label).toBe('Show Details');
    const pick = await call(p, '/mj/submit/action', { taskId: s.id, customId: `MJ::Job::PromptAnalyzer::${uuid}::2` });
    expect(pick.json).toMatchObject({ code: 21, properties: { finalPrompt: candidates[1] } });
    const details = await call(p, '/mj/submit/action', { taskId: s.id, customId: `MJ::Job::PromptAnalyzer::${uuid}::details` });
    expect(p.task(String(details.json.result))?.action).toBe('SHORTEN');

    const v11 = await start({ trueaiV11: true });
    const r2 = await call(v11, '/mj/submit/shorten', { prompt: 'a cat' });
    const s2 = await v11.waitForStatus(String(r2.json.result), 'SUCCESS');
    const rej = await call(v11, '/mj/submit/action', { taskId: s2.id, customId: s2.fake.buttons[0]?.customId });
    expect(rej.json).toMatchObject({ code: 4, description: '未知的 Action 类型' });
    const g = await imagineDone(v11);
    const up = await pressDone(v11, g.id, button(g, (b) => b.label === 'U1').customId);
    expect((await call(v11, '/mj/submit/action', { taskId: up.id, customId: button(up, (b) => b.emoji === '❤️').customId })).json.code).toBe(4);
  });

  it('BOOKMARK → code 1 with the parent id, no new task', async () => {
    const p = await start();
    const g = await imagineDone(p);
    const up = await pressDone(p, g.id, button(g, (b) => b.label === 'U4').customId);
    const before = p.tasks.size;
    const r = await call(p, '/mj/submit/action', { taskId: up.id, customId: button(up, (b) => b.emoji === '❤️').customId });
    expect(r.json).toMatchObject({ code: 1, result: up.id });
    expect(p.tasks.size).toBe(before);
  });
});

describe('flavours', () => {
  it('task-form: form-urlencoded action/modal work, JSON → 415, tasks have no buttons', async () => {
    const p = await start({ flavor: 'task-form' });
    const r = await call(p, '/mj/submit/imagine', { prompt: 'a boat', base64: toDataUrl(makePng(8, 8)), base64Array: [] });
    expect(r.json.code).toBe(1);
    const gridId = String(r.json.result);
    expect(p.task(gridId)?.fake).toMatchObject({ imageCount: 1, ignored: ['base64Array'] });
    await p.waitForStatus(gridId, 'SUCCESS');
    const grid = await fetchTask(p, gridId);
    expect(grid.buttons).toBeUndefined();
    const h = String(grid.properties?.messageHash);
    expect(h).toMatch(/^[0-9a-f-]{36}$/);
    expect((await call(p, '/mj/submit/action', { taskId: gridId, customId: `MJ::JOB::upsample::1::${h}` })).status).toBe(404);
    const json = await call(p, '/mj/task/action', { taskId: gridId, customId: `MJ::JOB::upsample::1::${h}` });
    expect(json.status).toBe(415);
    expect((await call(p, '/mj/task/action', { taskId: gridId, customId: 'MJ::JOB::upsample::1::nothash' }, { form: true })).json.code).toBe(4);
    const form = await call(p, '/mj/task/action', { taskId: gridId, customId: `MJ::JOB::upsample::1::${h}` }, { form: true });
    expect(form.json.code).toBe(1);
    const up = await p.waitForStatus(String(form.json.result), 'SUCCESS');
    expect(up.action).toBe('UPSCALE');
    expect((await fetchTask(p, up.id)).buttons).toBeUndefined();
    const zoom = await call(p, '/mj/task/action', { taskId: up.id, customId: `MJ::CustomZoom::${up.fake.hash}` }, { form: true });
    expect(zoom.json.code).toBe(21);
    expect((await call(p, '/mj/task/modal', { taskId: zoom.json.result, prompt: 'a boat --zoom 1.5' })).status).toBe(415);
    expect((await call(p, '/mj/task/modal', { taskId: String(zoom.json.result), prompt: 'a boat --zoom 1.5' }, { form: true })).json.code).toBe(1);
    // a raw "+" becoming a space corrupts the mask
    const region = await call(p, '/mj/task/action', { taskId: up.id, customId: `MJ::Inpaint::1::${up.fake.hash}::SOLO` }, { form: true });
    const mask = toDataUrl(makePng(512, 512, { seed: 9 }));
    expect(mask.includes('+')).toBe(true);
    const res = await fetch(`${p.url}/mj/task/modal`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/x-www-form-urlencoded' },
      body: `taskId=${region.json.result}&maskBase64=${mask}`,
    });
    expect(((await res.json()) as { code: number }).code).toBe(4);
    expect((await call(p, '/mj/task/modal', { taskId: String(region.json.result), maskBase64: mask }, { form: true })).json.code).toBe(1);
  });

  it('novicezk: no action route, prefixes 404, change / simple-change work, no buttons', async () => {
    const p = await start({ flavor: 'novicezk' });
    const r = await call(p, '/mj/submit/imagine', { prompt: 'a boat' });
    const id = String(r.json.result);
    await p.waitForStatus(id, 'SUCCESS');
    const t = await fetchTask(p, id);
    expect(t.buttons).toBeUndefined();
    expect(t.properties?.messageHash).toMatch(/^[0-9a-f-]{36}$/);
    expect((await call(p, '/mj/submit/action', { taskId: id, customId: `MJ::JOB::upsample::1::${t.properties?.messageHash}` })).status).toBe(404);
    expect((await call(p, '/mj-fast/mj/submit/imagine', { prompt: 'x' })).status).toBe(404);
    expect((await call(p, '/mj/submit/shorten', { prompt: 'x' })).status).toBe(404);
    const ch = await call(p, '/mj/submit/change', { taskId: id, action: 'UPSCALE', index: 2 });
    expect(ch.json.code).toBe(1);
    expect(p.task(String(ch.json.result))).toMatchObject({ action: 'UPSCALE', description: `/up ${id} U2` });
    expect((await call(p, '/mj/submit/change', { taskId: id, action: 'REROLL', index: 0 })).json.code).toBe(1);
    expect((await call(p, '/mj/submit/change', { taskId: id, action: 'VARIATION', index: 7 })).json.code).toBe(4);
    expect((await call(p, '/mj/submit/change', { taskId: '1700000000000123', action: 'UPSCALE', index: 1 })).json.code).toBe(3);
    const simple = await call(p, '/mj/submit/simple-change', { content: `${id} V3` });
    expect(p.task(String(simple.json.result))?.action).toBe('VARIATION');
    expect((await call(p, '/mj/submit/simple-change', { content: 'nonsense' })).json.code).toBe(4);
    const unknown = await call(p, '/mj/task/1700000000000555/fetch');
    expect([unknown.status, unknown.text]).toEqual([200, '']);
    const ta = await start();
    expect((await call(ta, '/mj/task/1700000000000555/fetch')).status).toBe(204);
    expect((await call(ta, '/mj/submit/change', { taskId: id, action: 'UPSCALE', index: 1 })).status).toBe(404);
  });

  it('blend validates count and dimensions (TA Result envelope on a bad enum); face swap', async () => {
    const p = await start();
    const img = (seed: number): string => toDataUrl(makePng(16, 16, { seed }));
    expect((await call(p, '/mj/submit/blend', { base64Array: [img(1)] })).json.code).toBe(4);
    const bad = await call(p, '/mj/submit/blend', { base64Array: [img(1), img(2)], dimensions: 'WIDE' });
    expect(bad.status).toBe(200);
    expect(bad.json).toMatchObject({ success: false, code: -1, message: expect.any(String), timestamp: expect.any(Number) });
    const ok = await call(p, '/mj/submit/blend', { base64Array: [img(1), img(2), img(3)], dimensions: 'PORTRAIT' });
    const b = await p.waitForStatus(String(ok.json.result), 'SUCCESS');
    expect(b.action).toBe('BLEND');
    expect(b.fake.imageCount).toBe(3);
    expect(b.buttons).toHaveLength(9);

    expect((await call(p, '/mj/insight-face/swap', { sourceBase64: img(1) })).json.code).toBe(4);
    expect((await call(p, '/mj/insight-face/swap', { sourceBase64: img(1), targetBase64: img(1) })).json.code).toBe(4);
    const sw = await call(p, '/mj/insight-face/swap', { sourceBase64: img(1), targetBase64: toDataUrl(makeJpeg(300, 200)), state: 'fs' });
    const s = await p.waitForStatus(String(sw.json.result), 'SUCCESS');
    expect(s).toMatchObject({ action: 'SWAP_FACE', botType: 'INSIGHT_FACE', width: 300, height: 200, state: 'fs', buttons: [] });
    expect((await pngOf(String(s.imageUrl))).height).toBe(200);
  });
});

describe('queries', () => {
  it('list-by-condition / list-by-ids: shuffled, unknown omitted; can be disabled', async () => {
    const p = await start();
    p.pause();
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(String((await call(p, '/mj/submit/imagine', { prompt: `p${i}` })).json.result));
    const ask = [...ids, '1700000000000999'];
    const r = await call(p, '/mj/task/list-by-condition', { ids: ask });
    const got = (r.json as MjTask[]).map((t) => t.id);
    expect(got).toHaveLength(6);
    expect([...got].sort()).toEqual([...ids].sort());
    expect(got).not.toEqual(ids);
    const r2 = await call(p, '/mj/task/list-by-ids', { ids: [ids[0], ids[1]] });
    expect((r2.json as MjTask[]).map((t) => t.id)).toEqual([ids[1], ids[0]]);
    p.disableListByCondition();
    expect((await call(p, '/mj/task/list-by-condition', { ids })).status).toBe(404);
    expect((await call(p, '/mj/task/list-by-ids', { ids })).status).toBe(404);
    expect((await call(p, `/mj/task/${ids[0]}/fetch`)).status).toBe(200);
  });

  it('image-seed: digits; unknown 404/3; seedAvailable=false → 4', async () => {
    const p = await start();
    const t = await imagineDone(p);
    const r = await call(p, `/mj/task/${t.id}/image-seed`);
    expect(r.json.code).toBe(1);
    expect(String(r.json.result)).toMatch(/^\d+$/);
    const u = await call(p, '/mj/task/1700000000000999/image-seed');
    expect([u.status, u.json.code]).toEqual([404, 3]);
    const q = await start({ seedAvailable: false });
    const t2 = await imagineDone(q);
    expect((await call(q, `/mj/task/${t2.id}/image-seed`)).json.code).toBe(4);
  });

  it('cancel: TA → FAILURE "取消任务" with an empty 200; plus → CANCEL', async () => {
    const p = await start();
    p.pause();
    const id = String((await call(p, '/mj/submit/imagine', { prompt: 'x' })).json.result);
    const c = await call(p, `/mj/task/${id}/cancel`, undefined, { method: 'POST' });
    expect([c.status, c.text]).toEqual([200, '']);
    expect(p.task(id)).toMatchObject({ status: 'FAILURE', failReason: '取消任务' });
    const q = await start({ flavor: 'plus' });
    q.pause();
    const id2 = String((await call(q, '/mj/submit/imagine', { prompt: 'x' })).json.result);
    expect((await call(q, `/mj/task/${id2}/cancel`, undefined, { method: 'POST' })).json.code).toBe(1);
    expect(q.task(id2)?.status).toBe('CANCEL');
  });
});

describe('auth', () => {
  const cases: { style: 'mj-api-secret' | 'authorization' | 'bearer'; good: Record<string, string>; bad: Record<string, string>[] }[] = [
    { style: 'mj-api-secret', good: { 'mj-api-secret': 's3' }, bad: [{ 'mj-api-secret': 'nope' }, { authorization: 's3' }, {}] },
    { style: 'authorization', good: { authorization: 's3' }, bad: [{ authorization: 'Bearer s3' }, { 'mj-api-secret': 's3' }, {}] },
    { style: 'bearer', good: { authorization: 'Bearer s3' }, bad: [{ authorization: 's3' }, { authorization: 'Bearer nope' }, {}] },
  ];
  for (const c of cases) {
    it(`${c.style}: accepts the right header, rejects wrong ones`, async () => {
      const p = await start({ authStyle: c.style, secret: 's3' });
      const noDefault = { 'mj-api-secret': '' };
      const ok = await call(p, '/mj/submit/imagine', { prompt: 'x' }, { headers: { ...noDefault, ...c.good } });
      expect(ok.json.code).toBe(1);
      for (const bad of c.bad) {
        const headers: Record<string, string> = { ...noDefault, ...bad };
        const res = await fetch(`${p.url}/mj/submit/imagine`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: '{"prompt":"x"}',
        });
        expect(res.status).toBe(401);
        expect(await res.text()).toBe('Authorization header missing.');
      }
      expect(p.authFailures).toBe(c.bad.length);
      expect(p.tasks.size).toBe(1);
    });
  }

  it('non-trueai flavours answer 401 with an empty body; secret "" disables auth', async () => {
    const p = await start({ flavor: 'novicezk' });
    const res = await call(p, '/mj/task/1/fetch', undefined, { headers: { 'mj-api-secret': 'wrong' } });
    expect([res.status, res.text]).toEqual([401, '']);
    const open = await start({ secret: '' });
    expect((await call(open, '/mj/submit/imagine', { prompt: 'x' }, { headers: { 'mj-api-secret': '' } })).json.code).toBe(1);
  });
});

describe('notifyHook', () => {
  async function receiver(): Promise<{ url: string; bodies: { ct: string; task: MjTask }[] }> {
    const bodies: { ct: string; task: MjTask }[] = [];
    const srv = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push({ ct: String(req.headers['content-type']), task: JSON.parse(Buffer.concat(chunks).toString('utf8')) as MjTask });
        res.end('ok');
      });
    });
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const addr = srv.address();
    return { url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/hook?k=secret`, bodies };
  }

  it('POSTs the task on SUBMITTED, each progress, SUCCESS; none for MODAL; disableNotify drops them', async () => {
    const p = await start();
    const rx = await receiver();
    const r = await call(p, '/mj/submit/imagine', { prompt: 'a fox', notifyHook: rx.url, state: 'st' });
    const id = String(r.json.result);
    await p.waitForStatus(id, 'SUCCESS');
    await p.waitFor(() => rx.bodies.some((b) => b.task.status === 'SUCCESS') && p.notifications.every((n) => n.httpStatus !== undefined));
    const seq = rx.bodies.map((b) => `${b.task.status}:${b.task.progress}`);
    expect(seq).toEqual(['SUBMITTED:0%', 'IN_PROGRESS:0%', 'IN_PROGRESS:15%', 'IN_PROGRESS:46%', 'IN_PROGRESS:78%', 'SUCCESS:100%']);
    expect(rx.bodies.every((b) => b.ct === 'application/json; charset=utf-8')).toBe(true);
    const last = rx.bodies.at(-1)?.task;
    expect(last).toMatchObject({ id, state: 'st', properties: { notifyHook: rx.url } });
    expect(last?.buttons).toHaveLength(9);
    expect(p.notifications.map((n) => n.httpStatus)).toEqual([200, 200, 200, 200, 200, 200]);

    // MODAL: no callback until the modal is submitted
    const up = await pressDone(p, id, button(last as MjTask, (b) => b.label === 'U1').customId);
    const before = rx.bodies.length;
    const z = await call(p, '/mj/submit/action', { taskId: up.id, customId: button(up, (b) => b.label === 'Custom Zoom').customId, notifyHook: rx.url });
    expect(z.json.code).toBe(21);
    await new Promise((res) => setTimeout(res, 50));
    expect(rx.bodies.length).toBe(before);
    expect(p.notifications.filter((n) => n.taskId === z.json.result)).toHaveLength(0);
    await call(p, '/mj/submit/modal', { taskId: z.json.result, prompt: 'a fox --zoom 1.2' });
    await p.waitForStatus(String(z.json.result), 'SUCCESS');
    await p.waitFor(() => rx.bodies.some((b) => b.task.id === z.json.result && b.task.status === 'SUCCESS'));
    expect(rx.bodies.filter((b) => b.task.id === z.json.result).every((b) => b.task.status !== 'MODAL')).toBe(true);

    p.disableNotify();
    const r2 = await call(p, '/mj/submit/imagine', { prompt: 'quiet', notifyHook: rx.url });
    await p.waitForStatus(String(r2.json.result), 'SUCCESS');
    expect(p.notifications.filter((n) => n.taskId === r2.json.result)).toHaveLength(0);
    expect(p.droppedNotifications.filter((n) => n.taskId === r2.json.result).length).toBeGreaterThan(0);
  });

  it('records failures to deliver (no retries) and FAILURE callbacks', async () => {
    const p = await start();
    const rx = await receiver();
    p.failNext(1, 'Banned prompt detected, try again');
    const r = await call(p, '/mj/submit/imagine', { prompt: 'x', notifyHook: rx.url });
    await p.waitForStatus(String(r.json.result), 'FAILURE');
    await p.waitFor(() => rx.bodies.length === 2);
    expect(rx.bodies.map((b) => b.task.status)).toEqual(['SUBMITTED', 'FAILURE']);
    expect(rx.bodies[1]?.task.failReason).toBe('Banned prompt detected, try again');

    const dead = await call(p, '/mj/submit/imagine', { prompt: 'y', notifyHook: 'http://127.0.0.1:1/hook' });
    await p.waitForStatus(String(dead.json.result), 'SUCCESS');
    await p.waitFor(() => p.notifications.filter((n) => n.taskId === dead.json.result).every((n) => n.error !== undefined));
    expect(p.notifications.filter((n) => n.taskId === dead.json.result)).toHaveLength(6);
  });
});

describe('lifecycle control, queue and forced codes', () => {
  it('stick / stickNext / failTask / complete', async () => {
    const p = await start();
    p.stickNext(1);
    const a = String((await call(p, '/mj/submit/imagine', { prompt: 'a' })).json.result);
    const b = String((await call(p, '/mj/submit/imagine', { prompt: 'b' })).json.result);
    await p.waitForStatus(b, 'SUCCESS');
    await new Promise((r) => setTimeout(r, 60));
    expect(p.task(a)?.status).toBe('IN_PROGRESS');
    expect(p.complete(a)).toBe(true);
    expect(p.task(a)?.status).toBe('SUCCESS');
    const c = String((await call(p, '/mj/submit/imagine', { prompt: 'c' })).json.result);
    p.stick(c);
    await p.waitForStatus(c, 'IN_PROGRESS');
    expect(p.failTask(c, 'Job timed out')).toBe(true);
    expect(p.task(c)).toMatchObject({ status: 'FAILURE', failReason: 'Job timed out', progress: '' });
  });

  it('maxConcurrent: over it → 22 with numberOfQueues, NOT_START until a slot frees', async () => {
    const p = await start({ maxConcurrent: 1, maxQueue: 1 });
    p.pause();
    const first = await call(p, '/mj/submit/imagine', { prompt: 'one' });
    const second = await call(p, '/mj/submit/imagine', { prompt: 'two' });
    expect(first.json.code).toBe(1);
    expect(second.json).toMatchObject({ code: 22, properties: { numberOfQueues: 1 } });
    expect((await call(p, '/mj/submit/imagine', { prompt: 'three' })).json).toMatchObject({ code: 9, result: null });
    p.resume();
    await p.waitForStatus(String(first.json.result), 'SUCCESS');
    expect(p.task(String(second.json.result))?.status).not.toBe('SUCCESS');
    await p.waitForStatus(String(second.json.result), 'SUCCESS');
    const t2 = p.task(String(second.json.result));
    expect(Number(t2?.startTime)).toBeGreaterThanOrEqual(Number(p.task(String(first.json.result))?.finishTime));
  });

  it('nextSubmitCode forces outcomes without creating tasks', async () => {
    const p = await start();
    p.nextSubmitCode(23, undefined, 2);
    expect((await call(p, '/mj/submit/imagine', { prompt: 'x' })).json).toMatchObject({ code: 23, result: null });
    expect((await call(p, '/mj/submit/shorten', { prompt: 'x' })).json.code).toBe(23);
    p.nextSubmitCode(3);
    expect((await call(p, '/mj/submit/describe', { base64: toDataUrl(makePng(4, 4)) })).json).toMatchObject({ code: 3, description: '无可用的账号实例' });
    p.nextSubmitCode(9);
    expect((await call(p, '/mj/submit/imagine', { prompt: 'x' })).json).toMatchObject({ code: 9, description: '提交失败，队列已满，请稍后重试' });
    p.nextSubmitCode(24, 'banned!');
    expect((await call(p, '/mj/insight-face/swap', { sourceBase64: 'a', targetBase64: 'b' })).json).toMatchObject({ code: 24, description: 'banned!' });
    expect(p.tasks.size).toBe(0);
    const t = await imagineDone(p);
    p.nextSubmitCode(4, 'nope');
    expect((await call(p, '/mj/submit/action', { taskId: t.id, customId: t.buttons?.[0]?.customId })).json.code).toBe(4);
    expect(p.tasks.size).toBe(1);
  });
});

describe('transport faults', () => {
  it('failNext / invalidJsonNext / wrongContentTypeNext / setLatency, with match', async () => {
    const p = await start();
    p.failNext(1, { status: 502, body: 'bad gateway' }, '/submit/imagine');
    expect((await call(p, '/mj/task/1/fetch')).status).toBe(204); // not matched
    const f = await call(p, '/mj/submit/imagine', { prompt: 'x' });
    expect([f.status, f.text]).toEqual([502, 'bad gateway']);
    p.failNextRequests(1);
    const f2 = await call(p, '/mj/submit/imagine', { prompt: 'x' });
    expect(f2.status).toBe(500);
    expect(f2.json).toMatchObject({ success: false, message: '操作失败' });
    p.invalidJsonNext(1);
    const ij = await call(p, '/mj/submit/imagine', { prompt: 'x' });
    expect([ij.status, ij.text, ij.contentType]).toEqual([200, '{"code":1,', 'application/json; charset=utf-8']);
    p.wrongContentTypeNext(1);
    const wc = await call(p, '/mj/submit/imagine', { prompt: 'x' });
    expect(wc.contentType).toMatch(/^text\/html/);
    expect(wc.text).toMatch(/^<html>/);
    expect(p.tasks.size).toBe(0);
    p.setLatency(80);
    const t0 = Date.now();
    expect((await call(p, '/mj/submit/imagine', { prompt: 'x' })).json.code).toBe(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(75);
    p.setLatency(0);
    expect(p.requests.filter((r) => r.fault).map((r) => r.fault)).toEqual(['fail', 'fail', 'invalid-json', 'wrong-content-type']);
  });

  it('hangNext: the client timeout fires; close() destroys the hung socket', async () => {
    const p = await start();
    p.hangNext(1, '/fetch');
    await expect(fetch(`${p.url}/mj/task/1/fetch`, { headers: AUTH, signal: AbortSignal.timeout(100) })).rejects.toThrow();
    p.hangNext(1);
    const pending = fetch(`${p.url}/mj/task/1/fetch`, { headers: AUTH });
    await p.waitFor(() => p.requests.length === 2);
    const t0 = Date.now();
    await p.close();
    await expect(pending).rejects.toThrow();
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('resetNext destroys the socket; down() refuses connections, up() re-listens on the same port', async () => {
    const p = await start();
    p.resetNext(1);
    await expect(fetch(`${p.url}/mj/task/1/fetch`, { headers: AUTH })).rejects.toThrow();
    expect((await call(p, '/mj/task/1/fetch')).status).toBe(204);
    const url = p.url;
    await p.down();
    const err = await fetch(`${url}/mj/task/1/fetch`, { headers: AUTH }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(String((err as { cause?: { code?: string } }).cause?.code)).toBe('ECONNREFUSED');
    await p.up();
    expect(p.url).toBe(url);
    expect((await call(p, '/mj/task/1/fetch')).status).toBe(204);
  });

  it('JSON routes answer 415 to form bodies', async () => {
    const p = await start();
    expect((await call(p, '/mj/submit/imagine', { prompt: 'x' }, { form: true })).status).toBe(415);
  });
});
