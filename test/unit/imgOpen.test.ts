import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeImageToolError, ImgOpenProvider, type ImgOpenTaskSource } from '../../src/jobs/imgOpenProvider.js';
import type { Job, JobUpdate } from '../../src/jobs/model.js';
import { createLogger } from '../../src/log.js';
import { createDownloadAgent, downloadBytes } from '../../src/upstream/http.js';
import { ImageToolError, type ImageToolErrorKind } from '../../src/upstream/imageToolError.js';
import { ImgOpenClient, newBusinessTaskId, type ImgOpenClientOptions, type ImgOpenTaskStatus } from '../../src/upstream/imgOpen.js';
import { makePng } from '../fakes/images.js';
import { startFakeImgOpen, type FakeImgOpen, type FakeImgOpenOptions } from '../fakes/imgOpen/index.js';
import { makeJob } from '../support/unitKit.js';

/** where these tests fetch the fakes' result images (the bot's own downloads go through its guarded agent) */
const downloads = createDownloadAgent();
afterAll(() => downloads.close());

const logger = createLogger({ level: 'silent', pretty: false });
const KEY_ID = 'AKID-imgopen-0123456789';
const KEY_SECRET = 'SECRET-imgopen-abcdefghij';
const FAKE: FakeImgOpenOptions = { accessKeyId: KEY_ID, accessKeySecret: KEY_SECRET, stepMs: 30 };

const fakes: FakeImgOpen[] = [];
const clients: ImgOpenClient[] = [];

async function fake(opts: FakeImgOpenOptions = {}): Promise<FakeImgOpen> {
  const f = await startFakeImgOpen({ ...FAKE, ...opts });
  fakes.push(f);
  return f;
}

function client(f: FakeImgOpen, opts: Partial<ImgOpenClientOptions> = {}): ImgOpenClient {
  const c = new ImgOpenClient({
    baseUrl: f.url,
    accessKeyId: KEY_ID,
    accessKeySecret: KEY_SECRET,
    logger,
    retry: { initialDelayMs: 5, maxDelayMs: 20 },
    ...opts,
  });
  clients.push(c);
  return c;
}

function job(over: Partial<Job> & { upstream: Job['upstream'] }): Job {
  return makeJob({ provider: 'imgopen', kind: 'faceswap', upstreamId: undefined, status: 'queued', prompt: '', deadlineAt: Date.now() + 20_000, ...over });
}

const fastProvider = (source: ImgOpenTaskSource, extra: Partial<ConstructorParameters<typeof ImgOpenProvider>[1]> = {}) =>
  new ImgOpenProvider(source, { logger, schedule: { firstMs: 0, intervalMs: 20, factor: 1, maxMs: 20 }, ...extra });

/** Poll one job through the adapter until it finishes (bounded). */
async function runToEnd(p: ImgOpenProvider, j: Job, maxMs = 8000): Promise<{ final: JobUpdate; seen: JobUpdate[] }> {
  const seen: JobUpdate[] = [];
  const until = Date.now() + maxMs;
  while (Date.now() < until) {
    const u = (await p.poll([j])).get(j.id);
    if (u) {
      seen.push(u);
      if (u.status === 'succeeded' || u.status === 'failed') return { final: u, seen };
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('job did not finish');
}

async function queryUntilDone(c: ImgOpenClient, toolCode: string, id: string, maxMs = 5000): Promise<ImgOpenTaskStatus> {
  const until = Date.now() + maxMs;
  while (Date.now() < until) {
    const s = await c.query(toolCode, id);
    if (s.state === 'success' || s.state === 'failure') return s;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('task did not finish');
}

async function closedPortUrl(): Promise<string> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return `http://127.0.0.1:${port}/gone.png`;
}

async function caught(p: Promise<unknown>): Promise<ImageToolError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ImageToolError);
    return e as ImageToolError;
  }
  throw new Error('expected a rejection');
}

function expectNoSecrets(e: ImageToolError): void {
  const text = `${e.message} ${e.reason ?? ''} ${String(e)} ${JSON.stringify(e)}`;
  for (const s of [KEY_ID, KEY_SECRET, 'WRONG-secret-zzzzzzzz', 'WRONG-id-yyyyyyyy']) expect(text).not.toContain(s);
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

describe('ImgOpenClient creates', () => {
  let f: FakeImgOpen;
  let c: ImgOpenClient;
  let src = '';
  let dst = '';
  beforeAll(async () => {
    // one long-lived fake for the simple create checks; the afterEach only closes per-test fakes
    f = await startFakeImgOpen(FAKE);
    c = new ImgOpenClient({ baseUrl: f.url, accessKeyId: KEY_ID, accessKeySecret: KEY_SECRET, logger });
    src = f.host(makePng(80, 60, { seed: 1 }));
    dst = f.host(makePng(120, 90, { seed: 2 }));
  });
  afterAll(async () => {
    await c.close();
    await f.close();
  });

  it('face swap V1: JSON POST to tool/roop with both auth headers and exactly the documented fields; result is a real PNG', async () => {
    const id = newBusinessTaskId('t');
    const created = await c.faceSwapV1({ sourceUrl: src, targetUrl: dst, businessTaskId: id });
    expect(created).toMatchObject({ businessTaskId: id, toolCode: 'roop' });
    expect(created.vendorTaskId).toBeTruthy();
    const req = f.requestsTo('/AIGCImgOpenServ/saas/tool/roop').at(-1)!;
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toContain('application/json');
    expect(req.headers['x-request-req-accesskeyid']).toBe(KEY_ID);
    expect(req.headers['x-request-req-accesskeysecret']).toBe(KEY_SECRET);
    expect(req.query).toEqual({});
    expect(req.body).toEqual({ sourceUrl: src, targetUrl: dst, businessTaskId: id });

    const done = await queryUntilDone(c, 'roop', id);
    expect(done).toMatchObject({ state: 'success', rawStatus: 1 });
    const q = f.requestsTo('/AIGCImgOpenServ/saas/tool/roop/queryTask').at(-1)!;
    expect(q.method).toBe('POST');
    expect(q.body).toEqual({ businessTaskId: id });
    expect(q.headers['x-request-req-accesskeysecret']).toBe(KEY_SECRET);
    // the fake really fetched both inputs
    expect(f.requests.filter((r) => r.path.startsWith('/inputs/')).length).toBeGreaterThanOrEqual(2);
    const png = await downloadBytes(done.resultUrl!, { dispatcher: downloads, maxBytes: 1_000_000, timeoutMs: 2000 });
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(120); // the target's width
  });

  it('face swap V2: tool/v2/roop, fidelityWeight sent as a string, omitted when not given, refused locally out of range', async () => {
    const id = newBusinessTaskId('v2');
    await c.faceSwapV2({ sourceUrl: src, targetUrl: dst, businessTaskId: id, fidelityWeight: 0.35 });
    expect(f.requestsTo('/tool/v2/roop').at(-1)!.body).toEqual({ sourceUrl: src, targetUrl: dst, businessTaskId: id, fidelityWeight: '0.35' });
    expect((await queryUntilDone(c, 'v2/roop', id)).state).toBe('success');
    expect(f.requestsTo('/tool/v2/roop/queryTask').length).toBeGreaterThan(0);

    const id2 = newBusinessTaskId('v2');
    await c.faceSwapV2({ sourceUrl: src, targetUrl: dst, businessTaskId: id2, fidelityWeight: 1 });
    expect(f.requestsTo('/tool/v2/roop').at(-1)!.body).toMatchObject({ fidelityWeight: '1' });
    await c.faceSwapV2({ sourceUrl: src, targetUrl: dst, businessTaskId: newBusinessTaskId('v2') });
    expect(f.requestsTo('/tool/v2/roop').at(-1)!.body).not.toHaveProperty('fidelityWeight');

    const before = f.requests.length;
    for (const w of [1.5, -0.1, Number.NaN]) {
      const e = await caught(c.faceSwapV2({ sourceUrl: src, targetUrl: dst, businessTaskId: newBusinessTaskId('v2'), fidelityWeight: w }));
      expect(e).toMatchObject({ kind: 'rejected', notSent: true });
    }
    expect(f.requests.length).toBe(before);
  });

  it('multiple face swap: tool/face/fusion with sourceUrl as an array of 1–2 and a 1-based faceIdx', async () => {
    const id = newBusinessTaskId('mf');
    const created = await c.faceFusion({ sourceUrls: [src, dst], targetUrl: dst, faceIdx: 2, businessTaskId: id });
    expect(created.toolCode).toBe('face/fusion');
    expect(f.requestsTo('/tool/face/fusion').at(-1)!.body).toEqual({ sourceUrl: [src, dst], targetUrl: dst, faceIdx: 2, businessTaskId: id });
    expect((await queryUntilDone(c, 'face/fusion', id)).state).toBe('success');
    expect(f.requestsTo('/AIGCImgOpenServ/saas/tool/face/fusion/queryTask').length).toBeGreaterThan(0);

    const one = newBusinessTaskId('mf');
    await c.faceFusion({ sourceUrls: [src], targetUrl: dst, businessTaskId: one });
    expect(f.requestsTo('/tool/face/fusion').at(-1)!.body).toEqual({ sourceUrl: [src], targetUrl: dst, businessTaskId: one });

    const before = f.requests.length;
    await expect(c.faceFusion({ sourceUrls: [src, src, src], targetUrl: dst, businessTaskId: newBusinessTaskId() })).rejects.toMatchObject({
      kind: 'rejected',
      notSent: true,
    });
    await expect(c.faceFusion({ sourceUrls: [], targetUrl: dst, businessTaskId: newBusinessTaskId() })).rejects.toMatchObject({ kind: 'rejected' });
    await expect(c.faceFusion({ sourceUrls: [src], targetUrl: dst, faceIdx: 0, businessTaskId: newBusinessTaskId() })).rejects.toMatchObject({
      kind: 'rejected',
    });
    await expect(c.faceFusion({ sourceUrls: [src], targetUrl: dst, faceIdx: 1.5, businessTaskId: newBusinessTaskId() })).rejects.toMatchObject({
      kind: 'rejected',
    });
    await expect(c.faceSwapV1({ sourceUrl: 'data:image/png;base64,AAAA', targetUrl: dst, businessTaskId: newBusinessTaskId() })).rejects.toMatchObject({
      kind: 'rejected',
    });
    await expect(c.faceSwapV1({ sourceUrl: src, targetUrl: dst, businessTaskId: 'has space' })).rejects.toMatchObject({ kind: 'rejected' });
    expect(f.requests.length).toBe(before);
  });

  it('newBusinessTaskId: [A-Za-z0-9_-]{1,64}, prefix sanitised, never repeats', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 2000; i++) ids.add(newBusinessTaskId('dc-12345'));
    expect(ids.size).toBe(2000);
    for (const id of [...ids].slice(0, 20)) expect(id).toMatch(/^dc-12345-[A-Za-z0-9_-]+$/);
    expect(newBusinessTaskId('a b/c:d'.repeat(20))).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(newBusinessTaskId('')).toMatch(/^mjr-/);
  });
});

describe('ImgOpenClient auth and errors', () => {
  it('authLocation query: both values as query parameters, no auth headers', async () => {
    const f = await fake({ authLocation: 'query' });
    const c = client(f, { authLocation: 'query' });
    const id = newBusinessTaskId();
    await c.faceSwapV1({ sourceUrl: f.host(makePng(8, 8)), targetUrl: f.host(makePng(8, 8)), businessTaskId: id });
    const r = f.requestsTo('/tool/roop').at(-1)!;
    expect(r.query).toEqual({ 'X-Request-req-accessKeyId': KEY_ID, 'X-Request-req-accessKeySecret': KEY_SECRET });
    expect(r.headers['x-request-req-accesskeyid']).toBeUndefined();
    expect((await queryUntilDone(c, 'roop', id)).state).toBe('success');
  });

  it('wrong keys → auth (code "401" or HTTP 401), and the keys never appear in the error even though the fake echoes them', async () => {
    const f = await fake();
    const wrong = client(f, { accessKeyId: 'WRONG-id-yyyyyyyy', accessKeySecret: 'WRONG-secret-zzzzzzzz' });
    const e = await caught(wrong.faceSwapV1({ sourceUrl: f.host(makePng(8, 8)), targetUrl: f.host(makePng(8, 8)), businessTaskId: newBusinessTaskId() }));
    expect(e).toMatchObject({ kind: 'auth', code: '401', status: 200 });
    expect(f.requests.at(-1)!.code).toBe('401');
    expectNoSecrets(e);
    expect(describeImageToolError(e)).toEqual({ key: 'errors.tools.auth' });

    const f2 = await fake({ authFailure: 'http', authLocation: 'query' });
    const wrong2 = client(f2, { accessKeyId: 'WRONG-id-yyyyyyyy', accessKeySecret: 'WRONG-secret-zzzzzzzz', authLocation: 'query' });
    const e2 = await caught(wrong2.query('roop', newBusinessTaskId()));
    expect(e2).toMatchObject({ kind: 'auth', status: 401, code: undefined });
    expectNoSecrets(e2);
  });

  it('envelope codes: "402" → credit, "400" → rejected with the vendor message, unknown codes → rejected', async () => {
    const f = await fake();
    const c = client(f);
    const args = () => ({ sourceUrl: f.host(makePng(8, 8)), targetUrl: f.host(makePng(8, 8)), businessTaskId: newBusinessTaskId() });
    f.failNext(1, { code: '402', msg: '余额不足 insufficient balance' });
    const credit = await caught(c.faceSwapV1(args()));
    expect(credit).toMatchObject({ kind: 'credit', code: '402' });
    expect(describeImageToolError(credit)).toEqual({ key: 'errors.tools.credit' });

    f.failNext(1, { code: '400', msg: 'targetUrl is invalid, see https://example.com/docs' });
    const rejected = await caught(c.faceSwapV1(args()));
    expect(rejected).toMatchObject({ kind: 'rejected', code: '400', reason: 'targetUrl is invalid, see [link]' });
    expect(describeImageToolError(rejected)).toEqual({ key: 'errors.tools.rejected', params: { reason: 'targetUrl is invalid, see [link]' } });

    f.failNext(1, { code: '5001', msg: 'weird' });
    expect((await caught(c.faceSwapV1(args()))).kind).toBe('rejected');

    // a duplicate businessTaskId is refused by the vendor
    const dup = args();
    await c.faceSwapV1(dup);
    expect((await caught(c.faceSwapV1(dup))).kind).toBe('rejected');
  });

  it('creates are never retried (HTTP 500 → one request, unreachable); queries are (idempotent)', async () => {
    const f = await fake();
    const c = client(f);
    const a = { sourceUrl: f.host(makePng(8, 8)), targetUrl: f.host(makePng(8, 8)), businessTaskId: newBusinessTaskId() };
    f.failNext(1, { status: 500, on: 'create' });
    const e = await caught(c.faceSwapV1(a));
    expect(e).toMatchObject({ kind: 'unreachable', status: 500 });
    expect(f.requestsTo('/tool/roop').length).toBe(1);

    const ok = { ...a, businessTaskId: newBusinessTaskId() };
    await c.faceSwapV1(ok);
    f.failNext(2, { status: 503, on: 'query' });
    const s = await c.query('roop', ok.businessTaskId);
    expect(['running', 'success']).toContain(s.state);
    expect(f.requestsTo('/tool/roop/queryTask').length).toBe(3);
  });

  it('HTTP 429 → rate-limited with Retry-After; a wrong base path → not-found', async () => {
    const f = await fake();
    const c = client(f);
    f.rateLimit429Next(1);
    const e = await caught(c.faceSwapV1({ sourceUrl: f.host(makePng(8, 8)), targetUrl: f.host(makePng(8, 8)), businessTaskId: newBusinessTaskId() }));
    expect(e).toMatchObject({ kind: 'rate-limited', status: 429, retryAfterMs: 1000 });
    expect(describeImageToolError(e)).toEqual({ key: 'errors.tools.rateLimited' });

    const bad = client(f, { baseUrl: `${f.url}/nope` });
    const nf = await caught(bad.query('roop', newBusinessTaskId()));
    expect(nf.kind).toBe('not-found');
  });
});

describe('ImgOpenClient query normalisation', () => {
  it('finds the result URL in outputImageUrl, differentialImageRspList or anywhere under data', async () => {
    for (const resultShape of ['outputImageUrl', 'differential', 'nested'] as const) {
      const f = await fake({ resultShape });
      const c = client(f);
      const id = newBusinessTaskId();
      await c.faceSwapV1({ sourceUrl: f.host(makePng(8, 8)), targetUrl: f.host(makePng(8, 8)), businessTaskId: id });
      const s = await queryUntilDone(c, 'roop', id);
      expect(s.state).toBe('success');
      expect(s.resultUrl).toBe(`${f.url}/results/${id}.png`);
    }
  });

  it('follows a configured status map (e.g. SD-style 2 = success) and never reads an input URL as a result', async () => {
    const f = await fake({ statusCodes: { running: 1, success: 2, failure: 3 } });
    const c = client(f, { statusMap: { running: [1, 3], success: [2], failure: [] } });
    const id = newBusinessTaskId();
    await c.faceSwapV1({ sourceUrl: f.host(makePng(8, 8)), targetUrl: f.host(makePng(8, 8)), businessTaskId: id });
    expect((await queryUntilDone(c, 'roop', id)).state).toBe('success');

    // success status without any result URL (only echoed inputs) is not success
    const n = c.normalise('roop', { status: 2, sourceUrl: 'https://x/a.png', targetUrl: 'https://x/b.png', callbackUrl: 'https://me/cb' });
    expect(n.state).toBe('unknown');
    // numeric strings are read as numbers
    expect(c.normalise('roop', { status: '1' }).state).toBe('running');
    expect(c.normalise('roop', null).state).toBe('unknown');
  });

  it('an unmapped status is "unknown"; the adapter keeps the job running until its deadline, then fails it with timeout', async () => {
    const f = await fake();
    const c = client(f);
    const id = newBusinessTaskId();
    await c.faceSwapV1({ sourceUrl: f.host(makePng(8, 8)), targetUrl: f.host(makePng(8, 8)), businessTaskId: id });
    f.stick(id, 7);
    expect(await c.query('roop', id)).toMatchObject({ state: 'unknown', rawStatus: 7 });

    const p = fastProvider(c);
    const j = job({ upstream: { businessTaskId: id, toolCode: 'roop' }, deadlineAt: Date.now() + 400 });
    const { final, seen } = await runToEnd(p, j);
    expect(seen.length).toBeGreaterThan(2);
    expect(seen.slice(0, -1).every((u) => u.status === 'running')).toBe(true);
    expect(final).toEqual({ status: 'failed', error: { key: 'errors.tools.timeout' } });
    expect(Date.now()).toBeGreaterThanOrEqual(j.deadlineAt);
  });

  it('img_audit_status false → failure with moderationBlocked; the adapter says errors.tools.moderation', async () => {
    const f = await fake();
    const c = client(f);
    const id = newBusinessTaskId();
    f.failNext(1, { moderation: true });
    await c.faceSwapV1({ sourceUrl: f.host(makePng(8, 8)), targetUrl: f.host(makePng(8, 8)), businessTaskId: id });
    const s = await queryUntilDone(c, 'roop', id);
    expect(s).toMatchObject({ state: 'failure', moderationBlocked: true, failureKind: 'moderation' });
    const { final } = await runToEnd(fastProvider(c), job({ upstream: { businessTaskId: id, toolCode: 'roop' } }));
    expect(final).toEqual({ status: 'failed', error: { key: 'errors.tools.moderation' } });
  });
});

describe('ImgOpenProvider', () => {
  it('runs a face swap to success: running updates, then the result URL with no buttons', async () => {
    const f = await fake({ runSteps: 4 });
    const c = client(f);
    const id = newBusinessTaskId();
    await c.faceSwapV2({ sourceUrl: f.host(makePng(8, 8)), targetUrl: f.host(makePng(32, 16)), businessTaskId: id, fidelityWeight: 0.5 });
    const { final, seen } = await runToEnd(fastProvider(c), job({ upstream: { businessTaskId: id, toolCode: 'v2/roop' } }));
    expect(seen[0]?.status).toBe('running');
    expect(final).toEqual({ status: 'succeeded', progress: 100, result: { imageUrl: `${f.url}/results/${id}.png`, buttons: [] } });
  });

  it('maps vendor-side failures: unreachable input → downloadFailed, non-image input → invalidImage, "no face" → noFace, other → failed', async () => {
    const f = await fake();
    const c = client(f);
    const p = fastProvider(c);
    const cases: { source: string; fail?: { state: number; desc: string }; key: string }[] = [
      { source: await closedPortUrl(), key: 'errors.tools.downloadFailed' },
      { source: f.host(Buffer.from('this is not an image at all'), 'txt'), key: 'errors.tools.invalidImage' },
      { source: f.host(makePng(8, 8)), fail: { state: 2, desc: 'no face detected in source image' }, key: 'errors.tools.noFace' },
      { source: f.host(makePng(8, 8)), fail: { state: 2, desc: '未检测到人脸' }, key: 'errors.tools.noFace' },
      { source: f.host(makePng(8, 8)), fail: { state: 2, desc: 'internal error' }, key: 'errors.tools.failed' },
    ];
    for (const k of cases) {
      const id = newBusinessTaskId();
      if (k.fail) f.failNext(1, k.fail);
      await c.faceSwapV1({ sourceUrl: k.source, targetUrl: f.host(makePng(8, 8)), businessTaskId: id });
      const { final } = await runToEnd(p, job({ upstream: { businessTaskId: id, toolCode: 'roop' } }));
      expect(final).toEqual({ status: 'failed', error: { key: k.key } });
    }
  });

  it('fails a job after three consecutive non-"200" codes; a good answer in between resets the count', async () => {
    const f = await fake();
    const c = client(f);
    const id = newBusinessTaskId();
    await c.faceSwapV1({ sourceUrl: f.host(makePng(8, 8)), targetUrl: f.host(makePng(8, 8)), businessTaskId: id });
    f.stick(id);
    const p = fastProvider(c, { schedule: { firstMs: 0, intervalMs: 0, factor: 1, maxMs: 0 } });
    const j = job({ upstream: { businessTaskId: id, toolCode: 'roop' } });

    f.failNext(2, { code: '402', on: 'query' });
    expect((await p.poll([j])).get(j.id)).toBeUndefined();
    expect((await p.poll([j])).get(j.id)).toBeUndefined();
    expect((await p.poll([j])).get(j.id)?.status).toBe('running'); // resets
    f.failNext(3, { code: '402', on: 'query' });
    expect((await p.poll([j])).get(j.id)).toBeUndefined();
    expect((await p.poll([j])).get(j.id)).toBeUndefined();
    expect((await p.poll([j])).get(j.id)).toEqual({ status: 'failed', error: { key: 'errors.tools.credit' } });
  });

  it('HTTP 401 on a query fails the job at once; unreachable queries are silent; a job without a handle is lost', async () => {
    const f = await fake({ authFailure: 'http' });
    const wrong = client(f, { accessKeySecret: 'WRONG-secret-zzzzzzzz' });
    const p = fastProvider(wrong);
    const j = job({ upstream: { businessTaskId: newBusinessTaskId(), toolCode: 'roop' } });
    expect((await p.poll([j])).get(j.id)).toEqual({ status: 'failed', error: { key: 'errors.tools.auth' } });

    const down = new ImgOpenClient({
      baseUrl: (await closedPortUrl()).replace('/gone.png', ''),
      accessKeyId: KEY_ID,
      accessKeySecret: KEY_SECRET,
      logger,
      retry: { retries: 0 },
    });
    clients.push(down);
    const j2 = job({ upstream: { businessTaskId: newBusinessTaskId(), toolCode: 'roop' } });
    expect((await fastProvider(down).poll([j2])).size).toBe(0);

    const j3 = job({ upstream: {} });
    expect((await p.poll([j3])).get(j3.id)).toEqual({ status: 'failed', error: { key: 'errors.tools.lostTrack' } });
  });

  it('polls on its back-off schedule (first after firstMs, then ×factor up to the cap)', async () => {
    let now = 1_000_000;
    const calls: number[] = [];
    const source: ImgOpenTaskSource = {
      query: async () => {
        calls.push(now);
        return { state: 'running', rawStatus: 0, data: {} };
      },
    };
    const p = new ImgOpenProvider(source, { logger, now: () => now, schedule: { firstMs: 3000, intervalMs: 3000, factor: 1.5, maxMs: 7000 } });
    const j = job({ createdAt: now, deadlineAt: now + 600_000, upstream: { businessTaskId: 'b1', toolCode: 'roop' } });
    for (let t = 0; t <= 30_000; t += 500) {
      now = 1_000_000 + t;
      await p.poll([j]);
    }
    expect(calls.map((c) => c - 1_000_000)).toEqual([3000, 6000, 10500, 17500, 24500]);
  });

  it('keeps at most `concurrency` queries in flight (default 4)', async () => {
    const f = await fake();
    const c = client(f);
    f.setLatency(60);
    let inFlight = 0;
    let maxInFlight = 0;
    const counting: ImgOpenTaskSource = {
      query: async (tool, id) => {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        try {
          return await c.query(tool, id);
        } finally {
          inFlight--;
        }
      },
    };
    const jobs = Array.from({ length: 10 }, () => job({ upstream: { businessTaskId: newBusinessTaskId(), toolCode: 'roop' } }));
    const started = Date.now();
    const out = await fastProvider(counting).poll(jobs);
    expect(maxInFlight).toBe(4);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3 * 60 - 5); // three waves at least
    expect(out.size).toBe(0); // unknown tasks answer code "400": first strike, no update yet
    expect(f.requestsTo('/queryTask').length).toBe(10);
  });
});

describe('describeImageToolError', () => {
  it('maps every kind to an errors.tools.* key', () => {
    const table: [ImageToolErrorKind, string][] = [
      ['auth', 'errors.tools.auth'],
      ['credit', 'errors.tools.credit'],
      ['rejected', 'errors.tools.rejected'],
      ['rate-limited', 'errors.tools.rateLimited'],
      ['unreachable', 'errors.tools.unreachable'],
      ['bad-response', 'errors.tools.failed'],
      ['not-found', 'errors.tools.lostTrack'],
      ['too-large', 'errors.tools.tooLarge'],
      ['invalid-image', 'errors.tools.invalidImage'],
      ['download-failed', 'errors.tools.downloadFailed'],
      ['timeout', 'errors.tools.timeout'],
      ['failed', 'errors.tools.failed'],
      ['moderation', 'errors.tools.moderation'],
      ['no-face', 'errors.tools.noFace'],
    ];
    for (const [kind, key] of table) expect(describeImageToolError(new ImageToolError('imgopen', kind, 'x')).key).toBe(key);
    expect(describeImageToolError(new ImageToolError('imgopen', 'rejected', 'x', { reason: `@everyone ${'y'.repeat(300)}` })).params?.reason).toMatch(
      /^everyone y+…$/,
    );
    expect(describeImageToolError(new Error('boom'))).toEqual({ key: 'errors.tools.failed' });
  });
});
