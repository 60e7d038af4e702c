import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { MjProxyClient, type MjClientOptions } from '../../src/upstream/mjProxy.js';
import { MjError } from '../../src/upstream/mjTypes.js';

// ------------------------------------------------------------------ a scripted loopback proxy

interface Recorded {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

type Reply = { status?: number; json?: unknown; text?: string; headers?: Record<string, string>; delayMs?: number } | { reset: true } | { hang: true };
type Script = Reply | Reply[] | ((req: Recorded) => Reply);

class ScriptedProxy {
  readonly requests: Recorded[] = [];
  private readonly routes = new Map<string, { script: Script; calls: number }>();
  private server!: Server;
  inFlight = 0;
  maxInFlight = 0;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** `route` = "POST /mj/submit/imagine"; an array plays in order and repeats its last entry. */
  on(route: string, script: Script): this {
    this.routes.set(route, { script, calls: 0 });
    return this;
  }

  reset(): void {
    this.routes.clear();
    this.requests.length = 0;
    this.maxInFlight = 0;
    this.server.closeAllConnections();
  }

  hits(route: string): Recorded[] {
    return this.requests.filter((r) => `${r.method} ${r.path.split('?')[0]}` === route);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rec: Recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
    this.requests.push(rec);
    const entry = this.routes.get(`${rec.method} ${rec.path.split('?')[0]}`);
    let reply: Reply = { status: 404, text: '' };
    if (entry) {
      const s = entry.script;
      reply = typeof s === 'function' ? s(rec) : Array.isArray(s) ? (s[Math.min(entry.calls, s.length - 1)] as Reply) : s;
      entry.calls++;
    }
    if ('reset' in reply) return void req.socket.destroy();
    if ('hang' in reply) return;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    this.inFlight--;
    const body = reply.json !== undefined ? JSON.stringify(reply.json) : (reply.text ?? '');
    const type = reply.json !== undefined ? 'application/json' : 'text/plain';
    res.writeHead(reply.status ?? 200, { 'content-type': type, ...reply.headers });
    res.end(body);
  }
}

// ------------------------------------------------------------------ fixtures

const SECRET = 'sk-test-SECRET-9f8e7d6c5b4a';
const HOOK = 'http://bot.internal:8787/mj/hook?k=hook-secret-123';
const PNG = `data:image/png;base64,${'iVBORw0KGgo+/=AAAA'.repeat(8)}+/==`;

const proxy = new ScriptedProxy();
const logLines: string[] = [];
const logger = createLogger({
  level: 'debug',
  pretty: false,
  destination: { write: (line: string) => void logLines.push(line) },
});
const clients: MjProxyClient[] = [];

function client(over: Partial<MjClientOptions> = {}): MjProxyClient {
  const c = new MjProxyClient({
    baseUrl: proxy.url,
    flavor: 'trueai',
    authStyle: 'mj-api-secret',
    secret: SECRET,
    timeouts: { connectMs: 500, headersMs: 1_000, bodyMs: 1_000, totalMs: 1_000 },
    retry: { retries: 2, initialDelayMs: 5, maxDelayMs: 20 },
    breaker: { threshold: 5, halfOpenAfterMs: 150 },
    logger,
    ...over,
  });
  clients.push(c);
  return c;
}

async function rejection(p: Promise<unknown>): Promise<MjError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(MjError);
    return e as MjError;
  }
  throw new Error('expected the call to reject');
}

const ok = (result: unknown, extra: object = {}) => ({ json: { code: 1, description: '提交成功', result, properties: {}, ...extra } });
const body = (r: Recorded | undefined) => JSON.parse(r?.body ?? 'null') as Record<string, unknown>;

beforeAll(() => proxy.start());
afterAll(() => proxy.stop());
beforeEach(() => proxy.reset());
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

// ------------------------------------------------------------------ envelope codes

describe('submit envelope codes', () => {
  it('code 1 with a string result → accepted', async () => {
    proxy.on('POST /mj/submit/imagine', ok('1730000000000123'));
    await expect(client().imagine({ prompt: 'cat' })).resolves.toEqual({ kind: 'accepted', taskId: '1730000000000123' });
  });

  it('code 1 with a numeric result → id coerced to a string', async () => {
    proxy.on('POST /mj/submit/imagine', ok(1730000000000124));
    await expect(client().imagine({ prompt: 'cat' })).resolves.toEqual({ kind: 'accepted', taskId: '1730000000000124' });
  });

  it('code 1 with a comma-separated result (PicReader::all) → taskId + extraTaskIds', async () => {
    proxy.on('POST /mj/submit/action', ok('111, 222,333,444'));
    const out = await client().action({ taskId: '9', customId: 'MJ::Job::PicReader::all' });
    expect(out).toEqual({ kind: 'accepted', taskId: '111', extraTaskIds: ['222', '333', '444'] });
  });

  it('code 22 → accepted with the queue position', async () => {
    proxy.on('POST /mj/submit/imagine', { json: { code: 22, description: '排队中，前面还有2个任务', result: '555', properties: { numberOfQueues: 2 } } });
    await expect(client().imagine({ prompt: 'cat' })).resolves.toEqual({ kind: 'accepted', taskId: '555', queuePosition: 2 });
  });

  it('code 1 on a non-200 status is still accepted (the envelope wins)', async () => {
    proxy.on('POST /mj/submit/imagine', { status: 202, ...ok('77') });
    await expect(client().imagine({ prompt: 'cat' })).resolves.toMatchObject({ kind: 'accepted', taskId: '77' });
  });

  it('a success envelope without a task id → bad-response', async () => {
    proxy.on('POST /mj/submit/imagine', ok(null));
    expect((await rejection(client().imagine({ prompt: 'cat' }))).kind).toBe('bad-response');
  });

  it('code 21 + task in MODAL → modal outcome prefilled from the envelope finalPrompt', async () => {
    proxy
      .on('POST /mj/submit/action', {
        json: { code: 21, description: 'Waiting for window confirm', result: '125', properties: { finalPrompt: 'a lighthouse --ar 3:2', remix: true } },
      })
      .on('GET /mj/task/125/fetch', { json: { id: '125', status: 'MODAL', prompt: 'old', properties: { finalPrompt: 'from task' } } });
    const out = await client().action({ taskId: '1', customId: 'MJ::CustomZoom::abc' });
    expect(out).toEqual({ kind: 'modal', modalTaskId: '125', prefill: 'a lighthouse --ar 3:2' });
    expect(proxy.hits('GET /mj/task/125/fetch')).toHaveLength(1);
  });

  it('code 21 prefill falls back to the task finalPrompt, then its prompt; an empty envelope finalPrompt (inpaint) stays empty', async () => {
    proxy
      .on('POST /mj/submit/action', [
        { json: { code: 21, result: 126, properties: {} } },
        { json: { code: 21, result: '127' } },
        { json: { code: 21, result: '128', properties: { finalPrompt: '', remix: true } } },
      ])
      .on('GET /mj/task/126/fetch', { json: { id: 126, status: 'MODAL', prompt: 'p', properties: { finalPrompt: 'task final' } } })
      .on('GET /mj/task/127/fetch', { json: { id: '127', status: 'MODAL', prompt: 'just the prompt' } })
      .on('GET /mj/task/128/fetch', { json: { id: '128', status: 'MODAL', prompt: 'parent prompt' } });
    const c = client();
    await expect(c.action({ taskId: '1', customId: 'x' })).resolves.toEqual({ kind: 'modal', modalTaskId: '126', prefill: 'task final' });
    await expect(c.action({ taskId: '1', customId: 'x' })).resolves.toEqual({ kind: 'modal', modalTaskId: '127', prefill: 'just the prompt' });
    await expect(c.action({ taskId: '1', customId: 'x' })).resolves.toEqual({ kind: 'modal', modalTaskId: '128', prefill: '' });
  });

  it('code 21 + task not MODAL (old NZ "already done") → existing', async () => {
    proxy
      .on('POST /mj/submit/change', { json: { code: 21, description: '任务已存在', result: '130', properties: { status: 'SUCCESS', imageUrl: 'http://x' } } })
      .on('GET /mj/task/130/fetch', { json: { id: '130', status: 'SUCCESS' } });
    const out = await client({ flavor: 'novicezk' }).action({ taskId: '1', customId: 'MJ::JOB::upsample::2::h' });
    expect(out).toEqual({ kind: 'existing', taskId: '130' });
  });

  it('code 21 whose fetch fails but the envelope says remix → modal from the envelope', async () => {
    proxy
      .on('POST /mj/submit/action', { json: { code: 21, result: '131', properties: { finalPrompt: 'remix me', remix: true } } })
      .on('GET /mj/task/131/fetch', { status: 500, text: 'boom' });
    const out = await client().action({ taskId: '1', customId: 'MJ::JOB::variation::1::h' });
    expect(out).toEqual({ kind: 'modal', modalTaskId: '131', prefill: 'remix me' });
  });

  it('code 21 on a face swap that turns out MODAL → failure', async () => {
    proxy.on('POST /mj/insight-face/swap', { json: { code: 21, result: '132' } }).on('GET /mj/task/132/fetch', { json: { id: '132', status: 'MODAL' } });
    expect((await rejection(client().faceSwap({ source: PNG, target: PNG }))).kind).toBe('failure');
  });

  it('code 23 → queue-full', async () => {
    proxy.on('POST /mj/submit/imagine', { json: { code: 23, description: '队列已满，请稍后尝试', result: null } });
    const e = await rejection(client().imagine({ prompt: 'cat' }));
    expect(e.kind).toBe('queue-full');
    expect(e.details.code).toBe(23);
    expect(e.retryable).toBe(true);
  });

  it('code 9 with a queue-full description → queue-full; other 9 → failure', async () => {
    proxy.on('POST /mj/submit/imagine', [
      { json: { code: 9, description: '提交失败，队列已满，请稍后重试', result: null } },
      { json: { code: 9, description: 'Discord upload failed', result: null } },
    ]);
    const c = client();
    expect((await rejection(c.imagine({ prompt: 'cat' }))).kind).toBe('queue-full');
    const other = await rejection(c.imagine({ prompt: 'cat' }));
    expect(other.kind).toBe('failure');
    expect(other.details.description).toBe('Discord upload failed');
  });

  it('code 24 → banned-prompt with the banned word (HTTP 200 and HTTP 400)', async () => {
    proxy.on('POST /mj/submit/imagine', [
      { json: { code: 24, description: '可能包含敏感词', result: null, properties: { promptEn: 'x', bannedWord: 'gore' } } },
      { status: 400, json: { code: 24, description: 'banned', properties: { bannedWord: 'blood' } } },
    ]);
    const c = client();
    const e = await rejection(c.imagine({ prompt: 'x' }));
    expect(e.kind).toBe('banned-prompt');
    expect(e.details.bannedWord).toBe('gore');
    expect((await rejection(c.imagine({ prompt: 'x' }))).details.bannedWord).toBe('blood');
  });

  it('code 3 → no-account on a fresh submit, not-found on action / modal / seed', async () => {
    const three = { status: 404, json: { code: 3, description: '关联任务不存在或已失效', result: null } };
    proxy
      .on('POST /mj/submit/imagine', { json: { code: 3, description: '无可用的账号实例', result: null } })
      .on('POST /mj/submit/blend', { json: { code: 3, description: '无可用的账号实例' } })
      .on('POST /mj/submit/action', three)
      .on('POST /mj/submit/modal', three)
      .on('GET /mj/task/42/image-seed', three);
    const c = client();
    expect((await rejection(c.imagine({ prompt: 'cat' }))).kind).toBe('no-account');
    expect((await rejection(c.blend({ images: [PNG, PNG] }))).kind).toBe('no-account');
    const a = await rejection(c.action({ taskId: '42', customId: 'MJ::JOB::upsample::1::h' }));
    expect(a.kind).toBe('not-found');
    expect(a.details).toMatchObject({ code: 3, httpStatus: 404 });
    expect((await rejection(c.modal({ taskId: '42', prompt: 'p' }))).kind).toBe('not-found');
    expect((await rejection(c.imageSeed('42'))).kind).toBe('not-found');
  });

  it('code 4 → validation with a sanitised, truncated description', async () => {
    const long = `bad base64 ${PNG} key=${SECRET} ${'x'.repeat(600)}`;
    proxy.on('POST /mj/submit/imagine', [{ status: 400, json: { code: 4, description: long, result: null } }]);
    const e = await rejection(client().imagine({ prompt: 'cat' }));
    expect(e.kind).toBe('validation');
    expect(e.details.description!.length).toBeLessThanOrEqual(300);
    expect(e.details.description).toContain('bad base64 data:image/png;base64,[');
    expect(e.message).not.toContain(SECRET);
    expect(JSON.stringify(e.details)).not.toContain(SECRET);
    expect(e.message).not.toContain('iVBORw0KGgo');
  });

  it('image-seed: code 1 → seed; 400 + code 4 → validation', async () => {
    proxy
      .on('GET /mj/task/50/image-seed', { json: { code: 1, result: 123456789 } })
      .on('GET /mj/task/51/image-seed', { status: 400, json: { code: 4, description: 'no message hash' } });
    const c = client();
    await expect(c.imageSeed('50')).resolves.toBe('123456789');
    expect((await rejection(c.imageSeed('51'))).kind).toBe('validation');
  });

  it('TA Result envelope → validation (HTTP 200), failure (HTTP 500)', async () => {
    proxy.on('POST /mj/submit/blend', [
      { json: { success: false, code: -1, message: "The JSON value could not be converted to 'Dimensions'", timestamp: 1 } },
      { status: 500, json: { success: false, code: -1, message: '操作失败', timestamp: 1 } },
    ]);
    const c = client();
    const e = await rejection(c.blend({ images: [PNG, PNG], dimensions: 'SQUARE' }));
    expect(e.kind).toBe('validation');
    expect(e.details.description).toContain('Dimensions');
    expect((await rejection(c.blend({ images: [PNG, PNG] }))).kind).toBe('failure');
  });

  it('an unknown code → failure with its description', async () => {
    proxy.on('POST /mj/submit/imagine', { json: { code: 30, description: 'group saturated' } });
    const e = await rejection(client().imagine({ prompt: 'cat' }));
    expect(e).toMatchObject({ kind: 'failure', details: { code: 30, description: 'group saturated' } });
  });

  it('an envelope sent as text/plain is still parsed', async () => {
    proxy.on('POST /mj/submit/imagine', { text: JSON.stringify({ code: 1, result: '88' }), headers: { 'content-type': 'text/html' } });
    await expect(client().imagine({ prompt: 'cat' })).resolves.toMatchObject({ taskId: '88' });
  });
});

// ------------------------------------------------------------------ HTTP-level failures

describe('HTTP failures', () => {
  it.each([
    ['invalid JSON', { text: '{"code": 1, "result": ' }],
    ['HTML', { text: '<!DOCTYPE html><html><body>gateway</body></html>', headers: { 'content-type': 'text/html' } }],
    ['empty', { text: '' }],
    ['a non-envelope JSON object', { json: { hello: 'world' } }],
  ])('HTTP 200 with %s → bad-response', async (_name, reply) => {
    proxy.on('POST /mj/submit/imagine', reply);
    const e = await rejection(client().imagine({ prompt: 'cat' }));
    expect(e.kind).toBe('bad-response');
    expect(e.details.httpStatus).toBe(200);
  });

  it('401 empty / 403 plain → auth; 429 → rate-limited with Retry-After', async () => {
    proxy.on('POST /mj/submit/imagine', [
      { status: 401, text: '' },
      { status: 403, text: 'Forbidden' },
      { status: 429, text: '', headers: { 'retry-after': '7' } },
    ]);
    const c = client();
    expect((await rejection(c.imagine({ prompt: 'cat' }))).kind).toBe('auth');
    expect((await rejection(c.imagine({ prompt: 'cat' }))).kind).toBe('auth');
    const rl = await rejection(c.imagine({ prompt: 'cat' }));
    expect(rl.kind).toBe('rate-limited');
    expect(rl.details.retryAfterMs).toBe(7000);
  });

  it('404 / 405 without an envelope → unsupported, and the capability flag drops', async () => {
    proxy.on('POST /mj/submit/shorten', { status: 404, text: '' }).on('POST /mj/submit/modal', { status: 405, text: 'Method Not Allowed' });
    const c = client();
    expect(c.capabilities().shorten).toBe(true);
    expect((await rejection(c.shorten({ prompt: 'long prompt' }))).kind).toBe('unsupported');
    expect(c.capabilities().shorten).toBe(false);
    expect((await rejection(c.modal({ taskId: '1' }))).kind).toBe('unsupported');
    expect(c.capabilities().modal).toBe(false);
  });

  it('5xx without an envelope → bad-response; other 4xx plain → failure', async () => {
    proxy.on('POST /mj/submit/imagine', [
      { status: 502, text: '<html>Bad Gateway</html>', headers: { 'content-type': 'text/html' } },
      { status: 400, text: 'bad thing' },
    ]);
    const c = client();
    expect((await rejection(c.imagine({ prompt: 'cat' }))).kind).toBe('bad-response');
    expect(await rejection(c.imagine({ prompt: 'cat' }))).toMatchObject({ kind: 'failure', details: { httpStatus: 400, description: 'bad thing' } });
  });

  it('connection reset → unreachable (and a submit is sent once)', async () => {
    proxy.on('POST /mj/submit/imagine', { reset: true });
    const e = await rejection(client().imagine({ prompt: 'cat' }));
    expect(e.kind).toBe('unreachable');
    expect(proxy.hits('POST /mj/submit/imagine')).toHaveLength(1);
  });

  it('a hang beyond the timeout → unreachable, quickly', async () => {
    proxy.on('POST /mj/submit/imagine', { hang: true });
    const started = Date.now();
    const e = await rejection(client({ timeouts: { totalMs: 200, headersMs: 5_000 } }).imagine({ prompt: 'cat' }));
    expect(e.kind).toBe('unreachable');
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('connection refused → unreachable', async () => {
    const e = await rejection(client({ baseUrl: 'http://127.0.0.1:1', retry: { retries: 0 } }).fetchTask('1'));
    expect(e.kind).toBe('unreachable');
  });
});

// ------------------------------------------------------------------ routes and bodies per flavour

describe('routes and body encodings', () => {
  it('trueai imagine: JSON, base64Array, botType/state/notifyHook, undefined fields omitted', async () => {
    proxy.on('POST /mj/submit/imagine', ok('1'));
    await client({ notifyHookUrl: HOOK }).imagine({
      prompt: 'cat --ar 16:9',
      images: [PNG, 'https://cdn.example/a.png'],
      botType: 'NIJI_JOURNEY',
      state: 'g:1|c:2|u:3',
    });
    const r = proxy.hits('POST /mj/submit/imagine')[0];
    expect(r?.headers['content-type']).toBe('application/json');
    expect(body(r)).toEqual({
      prompt: 'cat --ar 16:9',
      base64Array: [PNG, 'https://cdn.example/a.png'],
      botType: 'NIJI_JOURNEY',
      state: 'g:1|c:2|u:3',
      notifyHook: HOOK,
    });

    proxy.reset();
    proxy.on('POST /mj/submit/imagine', ok('2'));
    await client().imagine({ prompt: 'dog', images: [] });
    expect(body(proxy.hits('POST /mj/submit/imagine')[0])).toEqual({ prompt: 'dog' });
  });

  it('task-form imagine sends the first image as a single base64', async () => {
    proxy.on('POST /mj/submit/imagine', ok('1'));
    await client({ flavor: 'task-form' }).imagine({ prompt: 'cat', images: [PNG, 'data:image/png;base64,BBBB'] });
    const b = body(proxy.hits('POST /mj/submit/imagine')[0]);
    expect(b).toEqual({ prompt: 'cat', base64: PNG });
    expect(b).not.toHaveProperty('base64Array');
  });

  it('blend sends base64Array + dimensions; describe sends base64 or (trueai) link', async () => {
    proxy.on('POST /mj/submit/blend', ok('1')).on('POST /mj/submit/describe', ok('2'));
    const c = client();
    await c.blend({ images: [PNG, PNG], dimensions: 'LANDSCAPE', state: 's' });
    expect(body(proxy.hits('POST /mj/submit/blend')[0])).toEqual({ base64Array: [PNG, PNG], dimensions: 'LANDSCAPE', state: 's' });
    await c.describe({ image: PNG });
    await c.describe({ link: 'https://cdn.example/x.png' });
    const d = proxy.hits('POST /mj/submit/describe').map(body);
    expect(d).toEqual([{ base64: PNG }, { link: 'https://cdn.example/x.png' }]);
  });

  it('describe by link on plus → unsupported without a request', async () => {
    const e = await rejection(client({ flavor: 'plus' }).describe({ link: 'https://x/y.png' }));
    expect(e.kind).toBe('unsupported');
    expect(proxy.requests).toHaveLength(0);
  });

  it('shorten and face swap routes', async () => {
    proxy.on('POST /mj/submit/shorten', ok('1')).on('POST /mj/insight-face/swap', ok('2'));
    const c = client({ notifyHookUrl: HOOK });
    await c.shorten({ prompt: 'a very long prompt', botType: 'MID_JOURNEY' });
    expect(body(proxy.hits('POST /mj/submit/shorten')[0])).toEqual({ prompt: 'a very long prompt', botType: 'MID_JOURNEY', notifyHook: HOOK });
    await c.faceSwap({ source: PNG, target: 'data:image/jpeg;base64,QUJD', state: 'st' });
    expect(body(proxy.hits('POST /mj/insight-face/swap')[0])).toEqual({
      sourceBase64: PNG,
      targetBase64: 'data:image/jpeg;base64,QUJD',
      state: 'st',
      notifyHook: HOOK,
    });
  });

  it('trueai action (JSON, notifyHook) and modal (JSON, no notifyHook)', async () => {
    proxy.on('POST /mj/submit/action', ok('10')).on('POST /mj/submit/modal', { json: { code: 22, result: '11', properties: { numberOfQueues: 0 } } });
    const c = client({ notifyHookUrl: HOOK });
    await c.action({ taskId: '9', customId: 'MJ::JOB::variation::1::h', enableRemix: true, state: 's' });
    expect(body(proxy.hits('POST /mj/submit/action')[0])).toEqual({
      taskId: '9',
      customId: 'MJ::JOB::variation::1::h',
      enableRemix: true,
      state: 's',
      notifyHook: HOOK,
    });
    await expect(c.modal({ taskId: '11', prompt: 'p --zoom 1.5', maskBase64: PNG })).resolves.toEqual({ kind: 'accepted', taskId: '11', queuePosition: 0 });
    const m = body(proxy.hits('POST /mj/submit/modal')[0]);
    expect(m).toEqual({ taskId: '11', prompt: 'p --zoom 1.5', maskBase64: PNG });
    expect(m).not.toHaveProperty('notifyHook');
  });

  it('task-form action/modal are form-urlencoded and + / = round-trip exactly', async () => {
    proxy.on('POST /mj/task/action', ok('20')).on('POST /mj/task/modal', ok('21'));
    const c = client({ flavor: 'task-form', notifyHookUrl: HOOK });
    const customId = 'MJ::JOB::upsample::1::a+b/c=d';
    await c.action({ taskId: '19', customId, state: 'a b&c' });
    const a = proxy.hits('POST /mj/task/action')[0]!;
    expect(a.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const af = new URLSearchParams(a.body);
    expect(Object.fromEntries(af)).toEqual({ taskId: '19', customId, state: 'a b&c', notifyHook: HOOK });

    await c.modal({ taskId: '21', prompt: 'a lighthouse --zoom 1.5', maskBase64: PNG });
    const m = proxy.hits('POST /mj/task/modal')[0]!;
    expect(m.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(m.body).toContain('%2B');
    expect(m.body).toContain('%2F');
    expect(m.body).toContain('%3D');
    expect(m.body).not.toMatch(/maskBase64=[^&]*[+/=]/); // no raw + / = inside the value
    const mf = new URLSearchParams(m.body);
    expect(mf.get('maskBase64')).toBe(PNG);
    expect(mf.get('prompt')).toBe('a lighthouse --zoom 1.5');
    expect(mf.has('notifyHook')).toBe(false);

    // a blank modal still sends the fields (FC example: `maskBase64=`)
    await c.modal({ taskId: '22' });
    expect(proxy.hits('POST /mj/task/modal')[1]?.body).toBe('taskId=22&prompt=&maskBase64=');
  });

  it('novicezk translates grid customIds to /submit/change (reroll index 1)', async () => {
    proxy.on('POST /mj/submit/change', ok('30'));
    const c = client({ flavor: 'novicezk', notifyHookUrl: HOOK });
    await c.action({ taskId: '29', customId: 'MJ::JOB::upsample::3::6f1d2e3c-aaaa-bbbb-cccc-1234567890ab' });
    await c.action({ taskId: '29', customId: 'MJ::JOB::variation::2::6f1d2e3c' });
    await c.action({ taskId: '29', customId: 'MJ::JOB::reroll::0::6f1d2e3c::SOLO', state: 's' });
    expect(proxy.hits('POST /mj/submit/change').map(body)).toEqual([
      { taskId: '29', action: 'UPSCALE', index: 3, notifyHook: HOOK },
      { taskId: '29', action: 'VARIATION', index: 2, notifyHook: HOOK },
      { taskId: '29', action: 'REROLL', index: 1, state: 's', notifyHook: HOOK },
    ]);
  });

  it('novicezk: other customIds, modal, shorten and face swap → unsupported without a request', async () => {
    const c = client({ flavor: 'novicezk' });
    expect((await rejection(c.action({ taskId: '1', customId: 'MJ::JOB::upsample_v6_2x_subtle::1::h::SOLO' }))).kind).toBe('unsupported');
    expect((await rejection(c.action({ taskId: '1', customId: 'MJ::Outpaint::50::1::h::SOLO' }))).kind).toBe('unsupported');
    expect((await rejection(c.modal({ taskId: '1', prompt: 'p' }))).kind).toBe('unsupported');
    expect((await rejection(c.shorten({ prompt: 'p' }))).kind).toBe('unsupported');
    expect((await rejection(c.faceSwap({ source: PNG, target: PNG }))).kind).toBe('unsupported');
    expect(proxy.requests).toHaveLength(0);
    expect(c.supportsCustomId('MJ::JOB::reroll::0::h::SOLO')).toBe(true);
    expect(c.supportsCustomId('MJ::Inpaint::1::h::SOLO')).toBe(false);
  });

  it('disabled button patterns are refused locally', async () => {
    const c = client({ disabledButtonPatterns: [/^MJ::Job::PromptAnalyzer::/, /^MJ::BOOKMARK::/] });
    expect((await rejection(c.action({ taskId: '1', customId: 'MJ::BOOKMARK::h' }))).kind).toBe('unsupported');
    expect(proxy.requests).toHaveLength(0);
    expect(c.supportsCustomId('MJ::Job::PromptAnalyzer::x::1')).toBe(false);
    expect(c.supportsCustomId('MJ::Inpaint::1::h::SOLO')).toBe(true);
  });

  it('capabilities per flavour', () => {
    expect(client({ flavor: 'trueai' }).capabilities()).toEqual({
      actions: 'full',
      modal: true,
      shorten: true,
      describeLink: true,
      faceSwap: true,
      listByCondition: true,
      modePaths: true,
      video: 'route',
      cancelRunning: false,
    });
    expect(client({ flavor: 'plus' }).capabilities()).toMatchObject({ actions: 'full', describeLink: false, cancelRunning: true });
    expect(client({ flavor: 'novicezk' }).capabilities()).toEqual({
      actions: 'change-only',
      modal: false,
      shorten: false,
      describeLink: false,
      faceSwap: false,
      listByCondition: true,
      modePaths: false,
      video: 'prompt',
      cancelRunning: false,
    });
    expect(client({ flavor: 'task-form' }).capabilities()).toMatchObject({ actions: 'form', modal: true, listByCondition: false });
  });

  it('cancel: 200 with an empty body → ok; 400 plain → failure', async () => {
    proxy.on('POST /mj/task/60/cancel', { text: '' }).on('POST /mj/task/61/cancel', { status: 400, text: '演示模式，禁止操作' });
    const c = client();
    await expect(c.cancel('60')).resolves.toBeUndefined();
    expect((await rejection(c.cancel('61'))).kind).toBe('failure');
  });
});

// ------------------------------------------------------------------ auth and mode prefixes

describe('auth headers', () => {
  it.each([
    ['mj-api-secret', 'mj-api-secret', SECRET],
    ['authorization', 'authorization', SECRET],
    ['bearer', 'authorization', `Bearer ${SECRET}`],
  ] as const)('%s → %s header', async (style, header, value) => {
    proxy.on('GET /mj/task/1/fetch', { json: { id: '1' } });
    await client({ authStyle: style }).fetchTask('1');
    const h = proxy.requests[0]!.headers;
    expect(h[header]).toBe(value);
    if (header === 'authorization') expect(h['mj-api-secret']).toBeUndefined();
    else expect(h.authorization).toBeUndefined();
  });

  it('no secret → no auth header', async () => {
    proxy.on('GET /mj/task/1/fetch', { json: { id: '1' } });
    await client({ secret: undefined }).fetchTask('1');
    expect(proxy.requests[0]!.headers['mj-api-secret']).toBeUndefined();
    expect(proxy.requests[0]!.headers.authorization).toBeUndefined();
  });
});

describe('mode prefixes', () => {
  const any = () => ok('1');

  it('default mode, per-call mode, prefix already in the base URL, and a stray /mj in the base', async () => {
    for (const p of ['/mj-relax', '/mj-turbo', '/mj-fast', '']) proxy.on(`POST ${p}/mj/submit/imagine`, any());
    proxy.on('GET /mj-relax/mj/task/5/fetch', { json: { id: '5' } });

    const relax = client({ defaultMode: 'relax' });
    await relax.imagine({ prompt: 'a' });
    await relax.imagine({ prompt: 'b', mode: 'turbo' });
    await relax.fetchTask('5');
    await client({ baseUrl: `${proxy.url}/mj-relax/` }).imagine({ prompt: 'c' });
    await client({ baseUrl: `${proxy.url}/mj-relax` }).imagine({ prompt: 'd', mode: 'fast' });
    await client({ baseUrl: `${proxy.url}/mj/` }).imagine({ prompt: 'e' });
    expect(proxy.requests.map((r) => r.path)).toEqual([
      '/mj-relax/mj/submit/imagine',
      '/mj-turbo/mj/submit/imagine',
      '/mj-relax/mj/task/5/fetch',
      '/mj-relax/mj/submit/imagine',
      '/mj-fast/mj/submit/imagine',
      '/mj/submit/imagine',
    ]);
  });

  it('never on novicezk or task-form', async () => {
    proxy.on('POST /mj/submit/imagine', any()).on('POST /mj/submit/change', any()).on('POST /mj/task/modal', any());
    await client({ flavor: 'novicezk', defaultMode: 'relax' }).imagine({ prompt: 'a', mode: 'fast' });
    await client({ flavor: 'novicezk', defaultMode: 'relax' }).action({ taskId: '1', customId: 'MJ::JOB::upsample::1::h', mode: 'turbo' });
    await client({ flavor: 'task-form', defaultMode: 'turbo' }).modal({ taskId: '1', mode: 'fast' });
    expect(proxy.requests.map((r) => r.path)).toEqual(['/mj/submit/imagine', '/mj/submit/change', '/mj/task/modal']);
  });
});

// ------------------------------------------------------------------ queries

describe('fetchTask / fetchTasks', () => {
  it('fetchTask: task (numeric id coerced), 200 empty → null, 204 → null, code 3 → null, 404 HTML → unsupported', async () => {
    proxy
      .on('GET /mj/task/1/fetch', { json: { id: 1, status: 'SUCCESS', buttons: 'nonsense' } })
      .on('GET /mj/task/2/fetch', { text: '' })
      .on('GET /mj/task/3/fetch', { status: 204 })
      .on('GET /mj/task/4/fetch', { json: { code: 3, description: 'not found' } })
      .on('GET /mj/task/5/fetch', { status: 404, text: '<html>Not Found</html>' });
    const c = client();
    const t = await c.fetchTask('1');
    expect(t).toMatchObject({ id: '1', status: 'SUCCESS' });
    expect(t).not.toHaveProperty('buttons');
    expect(await c.fetchTask('2')).toBeNull();
    expect(await c.fetchTask('3')).toBeNull();
    expect(await c.fetchTask('4')).toBeNull();
    expect((await rejection(c.fetchTask('5'))).kind).toBe('unsupported');
  });

  it('fetchTask is retried after 5xx and reset (idempotent)', async () => {
    proxy.on('GET /mj/task/7/fetch', [{ status: 503, text: '' }, { reset: true }, { json: { id: '7', status: 'IN_PROGRESS' } }]);
    await expect(client().fetchTask('7')).resolves.toMatchObject({ id: '7' });
    expect(proxy.hits('GET /mj/task/7/fetch')).toHaveLength(3);
  });

  it('imageSeed is retried; submits, actions and modals are not', async () => {
    proxy
      .on('GET /mj/task/8/image-seed', [{ status: 500, text: '' }, { json: { code: 1, result: '42' } }])
      .on('POST /mj/submit/imagine', { status: 500, text: 'oops' })
      .on('POST /mj/submit/action', { status: 502, text: '' })
      .on('POST /mj/submit/modal', { reset: true });
    const c = client();
    await expect(c.imageSeed('8')).resolves.toBe('42');
    expect(proxy.hits('GET /mj/task/8/image-seed')).toHaveLength(2);
    expect((await rejection(c.imagine({ prompt: 'cat' }))).kind).toBe('bad-response');
    expect((await rejection(c.action({ taskId: '1', customId: 'MJ::JOB::upsample::1::h' }))).kind).toBe('bad-response');
    expect((await rejection(c.modal({ taskId: '1', prompt: 'x' }))).kind).toBe('unreachable');
    expect(proxy.hits('POST /mj/submit/imagine')).toHaveLength(1);
    expect(proxy.hits('POST /mj/submit/action')).toHaveLength(1);
    expect(proxy.hits('POST /mj/submit/modal')).toHaveLength(1);
  });

  it('list-by-condition: batches of 100, shuffled and partial answers indexed by id, request order kept', async () => {
    const ids = Array.from({ length: 250 }, (_, i) => String(1730000000000000 + i));
    proxy.on('POST /mj/task/list-by-condition', (req) => {
      const asked = (JSON.parse(req.body) as { ids: string[] }).ids;
      // omit every 10th id, shuffle, and use numeric ids for a few
      const tasks = asked.filter((_, i) => i % 10 !== 9).map((id, i) => ({ id: i % 7 === 0 ? Number(id) : id, status: 'IN_PROGRESS' }));
      return { json: tasks.reverse() };
    });
    const out = await client().fetchTasks([...ids, ids[0]!, Number(ids[1])]);
    const calls = proxy.hits('POST /mj/task/list-by-condition').map((r) => (JSON.parse(r.body) as { ids: unknown[] }).ids);
    expect(calls.map((c) => c.length)).toEqual([100, 100, 50]);
    expect(calls.flat().every((id) => typeof id === 'string')).toBe(true);
    expect(new Set(calls.flat()).size).toBe(250);
    expect(out).toHaveLength(225);
    expect(out.map((t) => t.id)).toEqual(ids.filter((_, i) => (i % 100) % 10 !== 9));
    expect(out.every((t) => typeof t.id === 'string')).toBe(true);
  });

  it('list-by-condition 404 → per-id fetch with bounded concurrency, remembered for later calls', async () => {
    proxy.on('POST /mj/task/list-by-condition', { status: 404, text: '' });
    for (let i = 0; i < 10; i++) proxy.on(`GET /mj/task/${i}/fetch`, i === 3 ? { text: '' } : { json: { id: String(i), status: 'SUCCESS' }, delayMs: 20 });
    const c = client();
    const out = await c.fetchTasks(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(out.map((t) => t.id)).toEqual(['0', '1', '2', '4', '5', '6', '7', '8', '9']);
    expect(proxy.maxInFlight).toBeLessThanOrEqual(4);
    expect(proxy.maxInFlight).toBeGreaterThan(1);
    expect(c.capabilities().listByCondition).toBe(false);
    await c.fetchTasks(['0', '1']);
    expect(proxy.hits('POST /mj/task/list-by-condition')).toHaveLength(1);
  });

  it('task-form polls per id from the start; empty id list makes no call', async () => {
    proxy.on('GET /mj/task/1/fetch', { json: { id: '1' } });
    const c = client({ flavor: 'task-form' });
    await expect(c.fetchTasks([])).resolves.toEqual([]);
    await expect(c.fetchTasks([1])).resolves.toEqual([{ id: '1' }]);
    expect(proxy.requests.map((r) => r.path)).toEqual(['/mj/task/1/fetch']);
  });

  it('list-by-condition errors other than 404/405 are thrown', async () => {
    proxy.on('POST /mj/task/list-by-condition', { status: 401, text: 'Authorization header missing.' });
    expect((await rejection(client().fetchTasks(['1']))).kind).toBe('auth');
  });
});

// ------------------------------------------------------------------ circuit breaker

describe('circuit breaker', () => {
  it('opens after 5 consecutive failures, fails fast, half-opens and closes again', async () => {
    proxy.on('GET /mj/task/1/fetch', { status: 500, text: '' });
    const c = client({ retry: { retries: 0 } });
    for (let i = 0; i < 5; i++) expect((await rejection(c.fetchTask('1'))).kind).toBe('bad-response');
    expect(c.circuitState()).toBe('open');
    const fast = await rejection(c.imagine({ prompt: 'cat' }));
    expect(fast.kind).toBe('unreachable');
    expect(fast.details.circuitOpen).toBe(true);
    expect(proxy.requests).toHaveLength(5); // nothing reached the server

    await new Promise((r) => setTimeout(r, 200));
    proxy.on('GET /mj/task/1/fetch', { json: { id: '1' } });
    await expect(c.fetchTask('1')).resolves.toEqual({ id: '1' });
    expect(c.circuitState()).toBe('closed');
  });

  it('4xx answers and envelopes do not trip the breaker; the retry loop stops when it opens', async () => {
    proxy.on('POST /mj/submit/imagine', { json: { code: 4, description: 'bad' } });
    const c = client();
    for (let i = 0; i < 7; i++) await rejection(c.imagine({ prompt: 'x' }));
    expect(c.circuitState()).toBe('closed');

    proxy.on('GET /mj/task/2/fetch', { reset: true });
    const e = await rejection(c.fetchTask('2')); // 3 attempts
    expect(e.kind).toBe('unreachable');
    const e2 = await rejection(c.fetchTask('2')); // 2 more attempts open it, the 3rd is refused locally
    expect(e2.details.circuitOpen).toBe(true);
    expect(proxy.hits('GET /mj/task/2/fetch')).toHaveLength(5);
  });
});

// ------------------------------------------------------------------ secrets

describe('secrets', () => {
  it('a secret echoed back never reaches the error message, details or logs', async () => {
    proxy
      .on('POST /mj/submit/imagine', (req) => ({ status: 401, text: `bad key ${String(req.headers['mj-api-secret'])}` }))
      .on('POST /mj/submit/blend', (req) => ({ json: { code: 4, description: `invalid secret: ${String(req.headers['mj-api-secret'])} hook ${HOOK}` } }))
      .on('POST /mj/submit/describe', (req) => ({ status: 400, text: `key=${String(req.headers['mj-api-secret'])}` }))
      .on('POST /mj/submit/shorten', (req) => ({ json: { code: 9, description: `Bearer ${encodeURIComponent(String(req.headers['mj-api-secret']))}` } }));
    const c = client({ notifyHookUrl: HOOK });
    const errors = [
      await rejection(c.imagine({ prompt: 'x' })),
      await rejection(c.blend({ images: [PNG, PNG] })),
      await rejection(c.describe({ image: PNG })),
      await rejection(c.shorten({ prompt: 'x' })),
    ];
    for (const e of errors) {
      const all = `${e.message} ${JSON.stringify(e.details)} ${e.stack ?? ''}`;
      expect(all).not.toContain(SECRET);
      expect(all).not.toContain('hook-secret-123');
    }
    expect(errors[1]?.details.description).toContain('[redacted]');
    expect(logLines.join('\n')).not.toContain(SECRET);
    expect(logLines.join('\n')).not.toContain('iVBORw0KGgo');
  });
});

describe('speed on proxies without mode paths', () => {
  it("appends Midjourney's own speed parameter, keeping a speed the prompt already names", async () => {
    const { withSpeedFlag, usesModePaths } = await import('../../src/upstream/mjProxy.js');
    expect(withSpeedFlag('a harbor', 'relax')).toBe('a harbor --relax');
    expect(withSpeedFlag('a harbor  ', 'turbo')).toBe('a harbor --turbo');
    expect(withSpeedFlag('a harbor', undefined)).toBe('a harbor');
    expect(withSpeedFlag('a harbor --fast --ar 3:2', 'relax')).toBe('a harbor --fast --ar 3:2');
    expect(withSpeedFlag('a harbor --RELAX', 'fast')).toBe('a harbor --RELAX');
    expect(withSpeedFlag('a --fastidious harbor', 'relax')).toBe('a --fastidious harbor --relax'); // not a speed flag
    expect(['trueai', 'plus', 'novicezk', 'task-form'].map((f) => usesModePaths(f as 'trueai'))).toEqual([true, true, false, false]);
  });
});
