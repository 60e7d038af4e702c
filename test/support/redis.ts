import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { freePort, tempDir } from './tmp.js';

/**
 * A throwaway redis-server for tests: loopback only, a free port, no persistence (--save '' --appendonly no),
 * its own temporary directory. `stop()` ends it; it is also killed if the test process exits first.
 * Missing redis-server is an error, not a skip: CI installs it (.ci/run).
 */
export interface TestRedis {
  url: string;
  port: number;
  /** drop every key (between tests) */
  flush(): Promise<void>;
  /** every client's commands wait for `ms` (CLIENT PAUSE … ALL): a store that does not answer for a while */
  pause(ms: number): Promise<void>;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export function redisServerPath(): string {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || !path) {
    throw new Error(
      'redis-server is not installed, and the Redis store tests need it. Install it (Debian/Ubuntu: sudo apt-get install -y redis-server; .ci/run does this) and run the tests again.',
    );
  }
  return path;
}

export async function startRedis(opts: { readyTimeoutMs?: number } = {}): Promise<TestRedis> {
  const bin = redisServerPath();
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      return await startOn(bin, port, opts.readyTimeoutMs ?? 10_000);
    } catch (err) {
      lastError = err; // most likely the port was taken meanwhile: try another
    }
  }
  throw lastError;
}

async function startOn(bin: string, port: number, readyTimeoutMs: number): Promise<TestRedis> {
  const dir = tempDir('mj-relay-redis-');
  const child = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir.dir, '--daemonize', 'no', '--loglevel', 'warning'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  live.add(child);
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    live.delete(child);
    dir.cleanup();
  };

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`redis-server exited (${child.exitCode}) on port ${port}: ${output.trim().slice(-500)}`);
    }
    if ((await command(port, 'PING').catch(() => '')).startsWith('+PONG')) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server did not answer PING on port ${port} within ${readyTimeoutMs} ms: ${output.trim().slice(-500)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async flush() {
      const reply = await command(port, 'FLUSHALL');
      if (!reply.startsWith('+OK')) throw new Error(`FLUSHALL answered ${reply}`);
    },
    async pause(ms) {
      const reply = await command(port, `CLIENT PAUSE ${Math.round(ms)} ALL`);
      if (!reply.startsWith('+OK')) throw new Error(`CLIENT PAUSE answered ${reply}`);
    },
    stop,
  };
}

/** One inline command over a fresh connection (bounded to 2 s); answers the first reply line. */
function command(port: number, cmd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('redis command timed out'));
    }, 2000);
    let reply = '';
    socket.on('connect', () => socket.write(`${cmd}\r\n`));
    socket.on('data', (c) => {
      reply += c.toString('utf8');
      if (reply.includes('\r\n')) {
        clearTimeout(timer);
        socket.end();
        resolve(reply.slice(0, reply.indexOf('\r\n')));
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
