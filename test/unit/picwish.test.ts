import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Job, JobUpdate } from '../../src/jobs/model.js';
import { describeImageToolError, PicwishProvider } from '../../src/jobs/picwishProvider.js';
import { createLogger } from '../../src/log.js';
import { createDownloadAgent, downloadBytes } from '../../src/upstream/http.js';
import { ImageToolError } from '../../src/upstream/imageToolError.js';
import { PICWISH_PATHS, PicwishClient, type PicwishCreated, type PicwishTask } from '../../src/upstream/picwish.js';
import { RateLimiter, RateLimiters } from '../../src/upstream/rateLimiter.js';
import { makeJpeg, makePng } from '../fakes/images.js';
import type { FakePicwish } from '../fakes/picwish/index.js';
import { caughtImageToolError, newPicwishKey, picwishJob, picwishRig } from '../support/picwish.js';

/** where these tests fetch the fakes' result images (the bot's own downloads go through its guarded agent) */
const downloads = createDownloadAgent();
afterAll(() => downloads.close());

const logger = createLogger({ level: 'silent', pretty: false });
const { fake, fastPair, track, closeAll } = picwishRig(logger);
afterEach(closeAll);

const newKey = newPicwishKey;
const job = picwishJob;
const caught = caughtImageToolError;

async function runToEnd(p: PicwishProvider, j: Job, maxMs = 8000): Promise<{ final: JobUpdate; seen: JobUpdate[] }> {
  const seen: JobUpdate[] = [];
  const until = Date.now() + maxMs;
  while (Date.now() < until) {
    const u = (await p.poll([j])).get(j.id);
    if (u) {
      seen.push(u);
      if (u.status === 'succeeded' || u.status === 'failed') return { final: u, seen };
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('job did not finish');
}

async function queryUntilDone(c: PicwishClient, created: PicwishCreated, maxMs = 5000): Promise<PicwishTask> {
  const until = Date.now() + maxMs;
  while (Date.now() < until) {
    const t = await c.query(created.path, created.taskId);
    if (t.state === 1 || t.state < 0) return t;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('task did not finish');
}

/** Multipart straight to the fake (to check the fake's own validation). */
async function rawCreate(
  f: FakePicwish,
  key: string,
  path: string,
  fields: Record<string, string | Buffer>,
): Promise<{ status: number; body: { status: number; message?: string; data?: { task_id: string } } }> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v === 'string') form.append(k, v);
    else form.append(k, new Blob([new Uint8Array(v)], { type: 'image/png' }), 'x.png');
  }
  const res = await fetch(`${f.url}${path}`, { method: 'POST', headers: { 'X-API-KEY': key }, body: form });
  return { status: res.status, body: (await res.json()) as { status: number; message?: string; data?: { task_id: string } } };
}

const img = () => makePng(40, 30, { seed: 3 });

describe('PicwishClient creates and queries', () => {
  it('inpaint with rectangles: multipart, X-API-KEY, sync=0, image_file, rectangles as a JSON string; GET <path>/<task_id>; a real JPEG result', async () => {
    const { f, c, key } = await fastPair();
    const rects = [
      { x: 1, y: 2, width: 10, height: 5 },
      { x: 20, y: 0, width: 3, height: 3 },
    ];
    const created = await c.inpaint({ image: img(), imageName: 'photo one.png', rectangles: rects });
    expect(created.path).toBe(PICWISH_PATHS.inpaint);
    const req = f.requestsTo('/api/tasks/visual/inpaint').at(0)!;
    expect(req.method).toBe('POST');
    expect(String(req.headers['content-type'])).toMatch(/^multipart\/form-data; boundary=/);
    expect(req.key).toBe(key);
    expect(req.fields).toEqual({
      sync: '0',
      return_type: '1',
      image_file: { file: 'photo_one.png', size: img().length, type: 'image/png' },
      rectangles: JSON.stringify(rects),
    });

    const seen: number[] = [];
    let t: PicwishTask;
    do {
      t = await c.query(created.path, created.taskId);
      seen.push(t.state);
      await new Promise((r) => setTimeout(r, 15));
    } while (t.state !== 1 && seen.length < 200);
    expect(seen).toContain(4);
    expect(t).toMatchObject({ state: 1, progress: 100, width: 40, height: 30 });
    const q = f.requests.filter((r) => r.method === 'GET' && r.path === `/api/tasks/visual/inpaint/${created.taskId}`);
    expect(q.length).toBe(seen.length);
    expect(q.every((r) => r.key === key)).toBe(true);
    const bytes = await downloadBytes(t.imageUrl!, { dispatcher: downloads, maxBytes: 1_000_000, timeoutMs: 2000 });
    expect([bytes[0], bytes[1]]).toEqual([0xff, 0xd8]);
  });

  it('inpaint with a mask sends mask_file and no rectangles; exactly one of mask/rectangles and ≤ 50 rectangles are checked before sending', async () => {
    const { f, c } = await fastPair();
    await c.inpaint({ image: img(), imageName: 'a.png', mask: makePng(40, 30, { color: '#ffffff' }), maskName: 'm.png' });
    const fields = f.requestsTo('/api/tasks/visual/inpaint').at(-1)!.fields!;
    expect(fields.mask_file).toMatchObject({ file: 'm.png', type: 'image/png' });
    expect(fields).not.toHaveProperty('rectangles');

    const before = f.requests.length;
    const r = { x: 0, y: 0, width: 1, height: 1 };
    await expect(c.inpaint({ image: img(), imageName: 'a.png' })).rejects.toMatchObject({ kind: 'rejected', notSent: true });
    await expect(c.inpaint({ image: img(), imageName: 'a.png', mask: img(), rectangles: [r] })).rejects.toMatchObject({ kind: 'rejected', notSent: true });
    await expect(c.inpaint({ image: img(), imageName: 'a.png', rectangles: Array.from({ length: 51 }, () => r) })).rejects.toMatchObject({ kind: 'rejected' });
    await expect(c.inpaint({ image: img(), imageName: 'a.png', rectangles: [{ x: -1, y: 0, width: 1, height: 1 }] })).rejects.toMatchObject({
      kind: 'rejected',
    });
    await expect(c.inpaint({ image: img(), imageName: 'a.png', rectangles: Array.from({ length: 50 }, () => r) })).resolves.toBeDefined();
    expect(f.requests.length).toBe(before + 1);
  });

  it('segmentation asks for PNG and gets a PNG; scale sends type and scale_factor', async () => {
    const { f, c } = await fastPair();
    const seg = await c.segmentation({ image: img(), imageName: 'cut.png' });
    expect(seg.path).toBe(PICWISH_PATHS.segmentation);
    expect(f.requestsTo(PICWISH_PATHS.segmentation)[0]!.fields).toMatchObject({ sync: '0', format: 'png', image_file: { file: 'cut.png' } });
    const done = await queryUntilDone(c, seg);
    const png = await downloadBytes(done.imageUrl!, { dispatcher: downloads, maxBytes: 1_000_000, timeoutMs: 2000 });
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');

    const up = await c.scale({ image: makeJpeg(16, 16), imageName: 'face.jpg', type: 'face', scaleFactor: 4 });
    expect(f.requestsTo(PICWISH_PATHS.scale)[0]!.fields).toMatchObject({
      sync: '0',
      type: 'face',
      scale_factor: '4',
      image_file: { file: 'face.jpg', type: 'image/jpeg' },
    });
    expect(await queryUntilDone(c, up)).toMatchObject({ state: 1, width: 64, height: 64 });
    await c.scale({ image: img(), imageName: 'x.png', type: 'clean' });
    expect(f.requestsTo(PICWISH_PATHS.scale).at(-1)!.fields).not.toHaveProperty('scale_factor');
    await expect(c.scale({ image: img(), imageName: 'x.png', type: 'clean', scaleFactor: 3 as 2 })).rejects.toMatchObject({ kind: 'rejected', notSent: true });
  });

  it('the fake enforces the contract on raw requests (exactly one image, exactly one mask source, ≤ 50 rectangles)', async () => {
    const { f, c, key } = await fastPair();
    const rect = JSON.stringify([{ x: 0, y: 0, width: 1, height: 1 }]);
    expect((await rawCreate(f, key, PICWISH_PATHS.inpaint, { image_file: img(), image_url: 'http://x/a.png', rectangles: rect })).status).toBe(400);
    expect((await rawCreate(f, key, PICWISH_PATHS.inpaint, { rectangles: rect })).status).toBe(400);
    expect((await rawCreate(f, key, PICWISH_PATHS.inpaint, { image_file: img() })).status).toBe(400);
    expect((await rawCreate(f, key, PICWISH_PATHS.inpaint, { image_file: img(), mask_file: img(), rectangles: rect })).status).toBe(400);
    const many = JSON.stringify(Array.from({ length: 51 }, () => ({ x: 0, y: 0, width: 1, height: 1 })));
    expect((await rawCreate(f, key, PICWISH_PATHS.inpaint, { image_file: img(), rectangles: many })).body).toEqual({
      status: 400,
      message: 'at most 50 rectangles',
    });
    expect((await rawCreate(f, key, PICWISH_PATHS.inpaint, { image_file: img(), rectangles: rect })).status).toBe(200);
    // image_url inputs are fetched by the fake; an unreachable one ends in state -3
    const viaUrl = await rawCreate(f, key, PICWISH_PATHS.segmentation, { image_url: `${f.url}/inputs/missing.png` });
    expect(viaUrl.status).toBe(200);
    expect(await queryUntilDone(c, { taskId: viaUrl.body.data!.task_id, path: PICWISH_PATHS.segmentation })).toMatchObject({
      state: -3,
      errorKind: 'download-failed',
    });
    const good = await rawCreate(f, key, PICWISH_PATHS.segmentation, { image_url: f.host(img()) });
    expect(await queryUntilDone(c, { taskId: good.body.data!.task_id, path: PICWISH_PATHS.segmentation })).toMatchObject({ state: 1 });
  });
});

describe('PicWish errors → kinds and message keys', () => {
  it('every negative state ends the job with the right message', async () => {
    const { f, c } = await fastPair();
    const p = new PicwishProvider(c, { logger });
    const table: [number, string][] = [
      [-1, 'errors.tools.failed'],
      [-2, 'errors.tools.failed'],
      [-3, 'errors.tools.downloadFailed'],
      [-5, 'errors.tools.tooLarge'],
      [-7, 'errors.tools.invalidImage'],
      [-8, 'errors.tools.timeout'],
      [-9, 'errors.tools.failed'],
    ];
    for (const [state, key] of table) {
      f.failNext(1, { state });
      const created = await c.inpaint({ image: img(), imageName: 'a.png', rectangles: [{ x: 0, y: 0, width: 2, height: 2 }] });
      const t = await queryUntilDone(c, created);
      expect(t.state).toBe(state);
      const { final } = await runToEnd(p, job(created));
      expect(final, `state ${state}`).toEqual({ status: 'failed', error: { key } });
    }
  });

  it('real bad inputs: bytes that are no image → -7, a file over 15 MB → -5 (when the client lets it through), and the client refuses > 15 MB by default', async () => {
    const { c } = await fastPair({}, { maxInputBytes: 20 * 1024 * 1024 });
    const p = new PicwishProvider(c, { logger });
    const junk = await c.segmentation({ image: Buffer.from('definitely not an image'), imageName: 'a.png' });
    expect((await runToEnd(p, job(junk))).final.error).toEqual({ key: 'errors.tools.invalidImage' });
    const big = Buffer.concat([makePng(8, 8), Buffer.alloc(15 * 1024 * 1024 + 10)]);
    const huge = await c.segmentation({ image: big, imageName: 'big.png' });
    expect((await runToEnd(p, job(huge))).final.error).toEqual({ key: 'errors.tools.tooLarge' });

    const { f: f2, c: strict } = await fastPair();
    const e = await caught(strict.segmentation({ image: big, imageName: 'big.png' }));
    expect(e).toMatchObject({ kind: 'too-large', notSent: true });
    expect(f2.requests.length).toBe(0);
  });

  it('HTTP 400 / 402 / 413 / 500 on create → rejected / credit / tooLarge / unreachable; creates are never resent', async () => {
    const { f, c } = await fastPair({ maxBodyBytes: 64 * 1024 });
    const create = () => c.segmentation({ image: img(), imageName: 'a.png' });
    const cases: [number, string, string][] = [
      [400, 'rejected', 'errors.tools.rejected'],
      [402, 'credit', 'errors.tools.credit'],
      [413, 'too-large', 'errors.tools.tooLarge'],
      [500, 'unreachable', 'errors.tools.unreachable'],
    ];
    for (const [status, kind, key] of cases) {
      const n = f.requests.length;
      f.failNext(1, { status, message: `vendor says ${status}` });
      const e = await caught(create());
      expect(e).toMatchObject({ kind, status });
      expect(describeImageToolError(e).key).toBe(key);
      expect(f.requests.length).toBe(n + 1);
    }
    f.failNext(1, { status: 400, message: 'image_file is required' });
    expect(describeImageToolError(await caught(create()))).toEqual({ key: 'errors.tools.rejected', params: { reason: 'image_file is required' } });
    // a real 413: the body is over the fake's limit
    const e413 = await caught(c.segmentation({ image: Buffer.concat([img(), Buffer.alloc(100 * 1024)]), imageName: 'a.png' }));
    expect(e413).toMatchObject({ kind: 'too-large', status: 413 });
  });

  it('HTTP 500 on a query is retried through the limiter; too many 429s end as rate-limited (not a job failure)', async () => {
    const { f, c } = await fastPair({ retryAfterSec: null }, { queryRetries: 2 });
    const created = await c.segmentation({ image: img(), imageName: 'a.png' });
    f.failNext(1, { status: 500, on: 'query' });
    await expect(c.query(created.path, created.taskId)).resolves.toMatchObject({ taskId: created.taskId });

    f.rateLimit429Next(5);
    const e = await caught(c.query(created.path, created.taskId));
    expect(e).toMatchObject({ kind: 'rate-limited', notSent: false });
    const p = new PicwishProvider(c, { logger });
    f.rateLimit429Next(5);
    expect((await p.poll([job(created)])).size).toBe(0); // silent: the deadline still applies
  });

  it('401 (wrong key) → auth, the key never in the error though the fake echoes it; unknown task → 404 → lostTrack', async () => {
    const { f, c } = await fastPair();
    const wrongKey = 'WRONG-picwish-key-123456';
    const wrong = new PicwishClient({ baseUrl: f.url, apiKey: wrongKey, logger, limiter: new RateLimiter({ perWindow: 100 }) });
    track(wrong);
    const e = await caught(wrong.segmentation({ image: img(), imageName: 'a.png' }));
    expect(e).toMatchObject({ kind: 'auth', status: 401 });
    expect(f.requests.at(-1)?.status).toBe(401);
    for (const text of [e.message, e.reason ?? '', String(e), JSON.stringify(e)]) expect(text).not.toContain(wrongKey);
    expect(e.reason).toContain('[redacted]');
    expect(describeImageToolError(e)).toEqual({ key: 'errors.tools.auth' });

    const created = await c.segmentation({ image: img(), imageName: 'a.png' });
    const p = new PicwishProvider(wrong, { logger });
    const j = job(created);
    expect((await p.poll([j])).get(j.id)).toEqual({ status: 'failed', error: { key: 'errors.tools.auth' } });

    const nf = await caught(c.query(PICWISH_PATHS.segmentation, '00000000-0000-0000-0000-000000000000'));
    expect(nf).toMatchObject({ kind: 'not-found', status: 404 });
    const ghost = job({ taskId: 'no-such-task', path: PICWISH_PATHS.inpaint });
    expect((await new PicwishProvider(c, { logger }).poll([ghost])).get(ghost.id)).toEqual({ status: 'failed', error: { key: 'errors.tools.lostTrack' } });
  });
});

describe('PicwishProvider', () => {
  it('reports queued/running with progress, then success with the result URL and no buttons', async () => {
    const { c } = await fastPair();
    const created = await c.inpaint({ image: img(), imageName: 'a.png', rectangles: [{ x: 0, y: 0, width: 2, height: 2 }] });
    const { final, seen } = await runToEnd(new PicwishProvider(c, { logger }), job(created));
    expect(seen.some((u) => u.status === 'running' && typeof u.progress === 'number' && u.progress > 0)).toBe(true);
    expect(final).toMatchObject({ status: 'succeeded', progress: 100, result: { buttons: [], width: 40, height: 30 } });
    expect(final.result?.imageUrl).toMatch(/\/results\/.+\.jpg\?Expires=/);
  });

  it('a stuck task fails at its deadline with errors.tools.timeout; a job without a path is lost', async () => {
    const { f, c } = await fastPair();
    const created = await c.segmentation({ image: img(), imageName: 'a.png' });
    f.stick(created.taskId);
    const { final } = await runToEnd(new PicwishProvider(c, { logger }), job(created, { deadlineAt: Date.now() + 300 }));
    expect(final).toEqual({ status: 'failed', error: { key: 'errors.tools.timeout' } });
    const j = job(created, { upstream: {} });
    expect((await new PicwishProvider(c, { logger }).poll([j])).get(j.id)).toEqual({ status: 'failed', error: { key: 'errors.tools.lostTrack' } });
  });

  it('clients of one key share one limiter; a query that cannot get a slot in time is not sent', async () => {
    const key = newKey();
    const f = await fake({ apiKeys: [key] });
    const limiters = new RateLimiters();
    const a = new PicwishClient({ baseUrl: f.url, apiKey: key, logger, limiters });
    const b = new PicwishClient({ baseUrl: f.url, apiKey: key, logger, limiters });
    const other = new PicwishClient({ baseUrl: f.url, apiKey: newKey(), logger, limiters });
    const alone = new PicwishClient({ baseUrl: f.url, apiKey: key, logger });
    track(a, b, other, alone);
    expect(a.limiter).toBe(b.limiter);
    expect(other.limiter).not.toBe(a.limiter);
    expect(alone.limiter).not.toBe(a.limiter); // no registry given: a limiter of its own
    const created = await a.segmentation({ image: img(), imageName: 'a.png' });
    await b.query(created.path, created.taskId); // second slot of this second
    const n = f.requests.length;
    const e = await caught(b.query(created.path, created.taskId, { maxWaitMs: 50 }));
    expect(e).toMatchObject({ kind: 'rate-limited', notSent: true });
    expect(f.requests.length).toBe(n);
  });

  it('the fake itself answers 429 when a key goes over 2 requests/s (so the test above means something)', async () => {
    const key = newKey();
    const f = await fake({ apiKeys: [key] });
    const greedy = new PicwishClient({ baseUrl: f.url, apiKey: key, logger, limiter: new RateLimiter({ perWindow: 100 }), queryRetries: 0 });
    track(greedy);
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => greedy.query(PICWISH_PATHS.inpaint, 'nope')));
    expect(results.filter((r) => r.status === 'rejected' && (r.reason as ImageToolError).kind === 'rate-limited').length).toBe(3);
    expect(f.qps429(key)).toBe(3);
    expect(f.maxRequestsPerSecond(key)).toBe(5);
  });
});
