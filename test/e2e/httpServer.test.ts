import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { KeyvHooks } from 'keyv';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { World } from '../support/world.js';

/** What a raw client saw before the server closed its connection, and when. */
interface Closed {
  ms: number;
  received: string;
}

/** Open a raw TCP connection to the bot and let `behave` misbehave on it; resolves when the server closes it (bounded). */
function rawConnection(port: number, behave: (s: Socket) => void = () => undefined, host = '127.0.0.1', boundMs = 40_000): Promise<Closed> {
  return new Promise((resolve) => {
    const started = Date.now();
    const s = connect(port, host);
    let received = '';
    s.on('data', (d: Buffer) => (received += d.toString('latin1')));
    s.on('error', () => undefined);
    const bound = setTimeout(() => s.destroy(), boundMs);
    s.once('close', () => {
      clearTimeout(bound);
      resolve({ ms: Date.now() - started, received });
    });
    s.once('connect', () => behave(s));
  });
}

/** Write to a socket every `everyMs` until the server closes it (bounded by the socket's own life). */
function dribble(s: Socket, chunk: string, everyMs: number): void {
  const timer = setInterval(() => (s.destroyed ? clearInterval(timer) : s.write(chunk)), everyMs);
  s.once('close', () => clearInterval(timer));
}

/** A GET with a request target sent exactly as given (fetch would normalise it). */
function rawGet(port: number, target: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: target, method: 'GET', agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Whether a TCP connection to host:port is accepted (refused → false). */
function accepts(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, host);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('the HTTP server under hostile clients', () => {
  let world: World;
  let port: number;

  beforeAll(async () => {
    world = await World.start();
    port = world.app.httpPort;
  });
  afterAll(async () => {
    await world?.close();
  });

  it('a burst of /healthz calls writes the store at most once per few seconds, and still reports it', async () => {
    const meta = world.app.services.store.namespace('meta');
    const probes: string[] = [];
    const count = (data: { key: string }) => {
      if (String(data.key).includes('healthcheck:')) probes.push(data.key);
    };
    meta.hooks.addHandler(KeyvHooks.PRE_SET, count);
    try {
      const burst = async (n: number) =>
        Promise.all(
          Array.from({ length: n }, () =>
            fetch(`http://127.0.0.1:${port}/healthz`).then(async (r) => ({ status: r.status, body: (await r.json()) as { checks: { store: boolean } } })),
          ),
        );
      const first = await burst(30);
      for (const r of first) expect(r).toMatchObject({ status: 200, body: { checks: { store: true } } });
      const second = await burst(30);
      for (const r of second) expect(r.body.checks.store).toBe(true);
      expect(probes.length).toBe(1);
    } finally {
      meta.hooks.removeHandler(KeyvHooks.PRE_SET, count);
    }
  });

  it('a malformed request target (GET //%zz) answers 400, quietly: no error and no stack in the logs', async () => {
    const before = world.logs.lines.length;
    for (const target of ['//%zz', '//%zz/healthz', '//evil.example/healthz']) {
      const r = await rawGet(port, target);
      expect(r.status, target).toBeGreaterThanOrEqual(400);
      expect(r.status, target).toBeLessThan(500);
    }
    expect((await rawGet(port, '//%zz')).status).toBe(400);
    // the bot still answers normally
    expect((await rawGet(port, '/healthz')).status).toBe(200);
    const after = world.logs.lines.slice(before).join('');
    expect(after).not.toMatch(/"level":(50|60)/);
    expect(after).not.toContain('stack');
  });

  it('silent, dribbling and idle connections are closed within the promised times (headers 5 s, request 10 s, keep-alive 5 s)', async () => {
    const [silent, headers, body, idle] = await Promise.all([
      rawConnection(port),
      rawConnection(port, (s) => {
        s.write('GET /healthz HTTP/1.1\r\n');
        dribble(s, 'X-Slow: 1\r\n', 500);
      }),
      rawConnection(port, (s) => {
        s.write('POST /hooks/mj/not-the-secret HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n');
        dribble(s, ' ', 500);
      }),
      rawConnection(port, (s) => s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')),
    ]);
    expect(silent.ms).toBeLessThan(5000 + 2500);
    expect(headers.ms).toBeLessThan(5000 + 2500);
    expect(body.ms).toBeLessThan(10_000 + 2500);
    expect(idle.received).toMatch(/^HTTP\/1\.1 200/);
    expect(idle.ms).toBeLessThan(5000 + 2500);
  }, 30_000);
});

describe('the HTTP server: connection cap and listening address', () => {
  let world: World | undefined;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await world?.close();
    world = undefined;
  });

  it('holds at most 256 connections: the next is refused at once, and the bot answers again once the silent ones time out', async () => {
    world = await World.start();
    const port = world.app.httpPort;
    const held = await Promise.all(
      Array.from(
        { length: 256 },
        () =>
          new Promise<Socket>((resolve, reject) => {
            const s = connect(port, '127.0.0.1', () => resolve(s));
            s.on('error', reject);
            s.resume(); // read what the server says (its 408), so its close is seen
            sockets.push(s);
          }),
      ),
    );
    // the server has seen all of them before the next one arrives
    await world.discord.waitFor(() => (held.every((s) => !s.destroyed) ? true : undefined), { timeoutMs: 2000 });
    await new Promise((r) => setTimeout(r, 100));
    const extra = await rawConnection(port, (s) => s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'), '127.0.0.1', 3000);
    expect(extra.received).toBe('');
    expect(extra.ms).toBeLessThan(1000);
    // the held ones are dropped by the header timeout; the bot answers again
    await world.discord.waitFor(() => (held.every((s) => s.destroyed) ? true : undefined), { timeoutMs: 8000 });
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  }, 30_000);

  it('listens on 127.0.0.1 unless HTTP_HOST says otherwise', async () => {
    world = await World.start();
    const port = world.app.httpPort;
    expect(await accepts(port, '127.0.0.1')).toBe(true);
    // any 127/8 address reaches this machine's loopback: a server on 0.0.0.0 would answer there too
    expect(await accepts(port, '127.0.0.2')).toBe(false);
    await world.restart({ HTTP_HOST: '0.0.0.0' });
    expect(await accepts(world.app.httpPort, '127.0.0.2')).toBe(true);
  });
});
