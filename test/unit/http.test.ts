import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { HttpClient, UpstreamHttpError, createDownloadAgent, downloadBytes } from '../../src/upstream/http.js';

const logger = createLogger({ level: 'silent', pretty: false });
let server: Server;
let base = '';
const hits = new Map<string, number>();
let bigStreamChunksSent = 0;

function route(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
  const p = url.pathname;
  if (p === '/bytes') {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.write(Buffer.alloc(1000, 1));
    res.end(Buffer.alloc(500, 2));
  } else if (p === '/declared-big') {
    res.writeHead(200, { 'content-length': String(10 * 1024 * 1024) });
    res.write(Buffer.alloc(10));
    // never finishes: the client must refuse on the header alone
  } else if (p === '/stream-big') {
    res.writeHead(200, { 'content-type': 'image/png' }); // chunked, no content-length
    let n = 0;
    const push = () => {
      // bounded: at most 200 × 16 KiB; stops as soon as the client goes away
      if (n++ >= 200 || res.destroyed) return void res.end();
      bigStreamChunksSent = n;
      res.write(Buffer.alloc(16 * 1024, 3), () => setImmediate(push));
    };
    push();
  } else if (p.startsWith('/redirect/')) {
    const left = Number(p.split('/')[2]);
    res.writeHead(302, { location: left > 0 ? `/redirect/${left - 1}` : '/bytes' });
    res.end();
  } else if (p === '/missing') {
    res.writeHead(404);
    res.end('nope');
  } else if (p === '/hang') {
    // never answers
  } else if (p === '/json-as-text') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('{"a":1}');
  } else if (p === '/echo') {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ body, type: req.headers['content-type'] }));
    });
  } else if (p === '/fail') {
    res.writeHead(503);
    res.end();
  } else {
    res.writeHead(200);
    res.end('ok');
  }
}

beforeAll(async () => {
  server = createServer(route);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const clients: HttpClient[] = [];
function http(over: Partial<ConstructorParameters<typeof HttpClient>[0]> = {}): HttpClient {
  const c = new HttpClient({
    name: 'test',
    logger,
    timeouts: { totalMs: 1_000 },
    retry: { retries: 2, initialDelayMs: 5, maxDelayMs: 10 },
    breaker: { threshold: 3, halfOpenAfterMs: 100 },
    ...over,
  });
  clients.push(c);
  return c;
}
afterEach(async () => {
  hits.clear();
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

async function httpError(p: Promise<unknown>): Promise<UpstreamHttpError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(UpstreamHttpError);
    return e as UpstreamHttpError;
  }
  throw new Error('expected a rejection');
}

describe('downloadBytes', () => {
  const agent = createDownloadAgent();
  afterAll(() => agent.close());

  it('returns the whole body', async () => {
    const buf = await downloadBytes(`${base}/bytes`, { dispatcher: agent, maxBytes: 10_000, timeoutMs: 1_000 });
    expect(buf.length).toBe(1500);
    expect(buf[0]).toBe(1);
    expect(buf[1499]).toBe(2);
  });

  it('refuses a declared content-length over the cap', async () => {
    const e = await httpError(downloadBytes(`${base}/declared-big`, { dispatcher: agent, maxBytes: 1024 * 1024, timeoutMs: 2_000 }));
    expect(e.kind).toBe('too-large');
  });

  it('aborts a chunked stream as soon as it passes maxBytes', async () => {
    const e = await httpError(downloadBytes(`${base}/stream-big`, { dispatcher: agent, maxBytes: 100 * 1024, timeoutMs: 5_000 }));
    expect(e.kind).toBe('too-large');
    await new Promise((r) => setTimeout(r, 50));
    expect(bigStreamChunksSent).toBeLessThan(200);
  });

  it('follows up to 3 redirects, not 4', async () => {
    await expect(downloadBytes(`${base}/redirect/2`, { dispatcher: agent, maxBytes: 10_000, timeoutMs: 1_000 })).resolves.toHaveLength(1500);
    const e = await httpError(downloadBytes(`${base}/redirect/3`, { dispatcher: agent, maxBytes: 10_000, timeoutMs: 1_000 }));
    expect(e.kind).toBe('bad-response');
  });

  it('non-2xx → http-status; hang → unreachable (timed out)', async () => {
    const e = await httpError(downloadBytes(`${base}/missing`, { dispatcher: agent, maxBytes: 10_000, timeoutMs: 1_000 }));
    expect(e).toMatchObject({ kind: 'http-status', status: 404 });
    const started = Date.now();
    const t = await httpError(downloadBytes(`${base}/hang`, { dispatcher: agent, maxBytes: 10_000, timeoutMs: 150 }));
    expect(t).toMatchObject({ kind: 'unreachable', timedOut: true });
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('rejects non-http schemes', async () => {
    expect((await httpError(downloadBytes('file:///etc/passwd', { dispatcher: agent, maxBytes: 10, timeoutMs: 100 }))).kind).toBe('invalid-request');
  });
});

describe('HttpClient.requestJson', () => {
  it('parses JSON whatever the content type; sends JSON and form bodies', async () => {
    const c = http();
    await expect(c.requestJson({ method: 'GET', url: `${base}/json-as-text` })).resolves.toMatchObject({ status: 200, json: { a: 1 } });
    const j = await c.requestJson({ method: 'POST', url: `${base}/echo`, json: { x: 'y' } });
    expect(j.json).toEqual({ body: '{"x":"y"}', type: 'application/json' });
    const f = await c.requestJson({ method: 'POST', url: `${base}/echo`, form: new URLSearchParams({ m: 'a+b/c=' }) });
    expect(f.json).toEqual({ body: 'm=a%2Bb%2Fc%3D', type: 'application/x-www-form-urlencoded' });
  });

  it('caps the body', async () => {
    const e = await httpError(http().requestJson({ method: 'GET', url: `${base}/stream-big`, maxBytes: 32 * 1024 }));
    expect(e.kind).toBe('too-large');
  });

  it('retries 5xx only when idempotent, and returns the last 5xx', async () => {
    const c = http({ breaker: { threshold: 100 } });
    await expect(c.requestJson({ method: 'POST', url: `${base}/fail` })).resolves.toMatchObject({ status: 503 });
    expect(hits.get('/fail')).toBe(1);
    await expect(c.requestJson({ method: 'GET', url: `${base}/fail`, idempotent: true })).resolves.toMatchObject({ status: 503 });
    expect(hits.get('/fail')).toBe(4);
  });

  it('a caller abort is not retried and does not count against the circuit', async () => {
    const c = http({ breaker: { threshold: 1 } });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    const e = await httpError(c.requestJson({ method: 'GET', url: `${base}/hang`, idempotent: true, signal: ac.signal }));
    expect(e).toMatchObject({ kind: 'unreachable', aborted: true });
    expect(hits.get('/hang')).toBe(1);
    expect(c.circuitState()).toBe('closed');
  });

  it('circuit: opens after the threshold, fails fast with circuitOpen, half-opens after the delay', async () => {
    const c = http({ retry: { retries: 0 } });
    for (let i = 0; i < 3; i++) await c.requestJson({ method: 'GET', url: `${base}/fail` });
    expect(c.circuitState()).toBe('open');
    const e = await httpError(c.requestJson({ method: 'GET', url: `${base}/ok` }));
    expect(e).toMatchObject({ kind: 'unreachable', circuitOpen: true });
    expect(hits.get('/ok')).toBeUndefined();
    await new Promise((r) => setTimeout(r, 150));
    await expect(c.requestJson({ method: 'GET', url: `${base}/ok` })).resolves.toMatchObject({ status: 200, text: 'ok' });
    expect(c.circuitState()).toBe('closed');
  });
});
