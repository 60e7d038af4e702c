import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { requestTarget } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import { exitOnProcessFaults, FAULT_EXIT_CODE } from '../../src/processFaults.js';

const base = { DISCORD_TOKEN: 'tok.en.value', MJ_BASE_URL: 'http://proxy:8080' };

describe('request targets', () => {
  it('takes origin-form targets as a path and query on a fixed origin', () => {
    expect(requestTarget('/healthz')?.pathname).toBe('/healthz');
    expect(requestTarget('/hooks/mj/abc?x=1')?.searchParams.get('x')).toBe('1');
    // a leading // is a path, never a host
    const u = requestTarget('//evil.example/healthz')!;
    expect(u.host).toBe('localhost');
    expect(u.pathname).toBe('//evil.example/healthz');
    expect(requestTarget('/a%20b%2F')?.pathname).toBe('/a%20b%2F');
  });

  it('refuses what is not origin-form or carries a broken percent-escape', () => {
    for (const bad of [undefined, '', '*', 'http://x/healthz', '//%zz', '/%', '/a%2', '/a%g0', '/x?q=%zz'])
      expect(requestTarget(bad), String(bad)).toBeUndefined();
  });
});

describe('HTTP_HOST', () => {
  it('defaults to loopback, takes IP addresses (bracketed IPv6 too) and host names, and explains a bad value', () => {
    expect(loadConfig(base).http.host).toBe('127.0.0.1');
    expect(loadConfig({ ...base, HTTP_HOST: ' ' }).http.host).toBe('127.0.0.1');
    expect(loadConfig({ ...base, HTTP_HOST: '0.0.0.0' }).http.host).toBe('0.0.0.0');
    expect(loadConfig({ ...base, HTTP_HOST: '[::]' }).http.host).toBe('::');
    expect(loadConfig({ ...base, HTTP_HOST: 'bot.internal' }).http.host).toBe('bot.internal');
    for (const bad of ['http://0.0.0.0', '0.0.0.0:8080', 'a b']) {
      expect(() => loadConfig({ ...base, HTTP_HOST: bad }), bad).toThrow(/HTTP_HOST must be an IP address or a host name/);
    }
  });
});

describe('process faults', () => {
  it('log fatal with the stack and exit non-zero once, even when a second fault follows while leaving', () => {
    const logs = { lines: [] as string[] };
    const stream = new Writable({ write: (chunk, _enc, cb) => (logs.lines.push(String(chunk)), cb()) });
    const proc = new EventEmitter();
    const exits: number[] = [];
    exitOnProcessFaults({
      logger: createLogger({ level: 'info', destination: stream, pretty: false }),
      proc: proc as unknown as NodeJS.Process,
      exit: (code) => exits.push(code),
    });
    proc.emit('unhandledRejection', new Error('first'), Promise.resolve());
    proc.emit('uncaughtException', new Error('second'));
    expect(exits).toEqual([FAULT_EXIT_CODE]);
    expect(FAULT_EXIT_CODE).not.toBe(0);
    const entries = logs.lines.map((l) => JSON.parse(l) as { level: number; msg: string; err: { message: string; stack: string } });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ level: 60, err: { message: 'first' } });
    expect(entries[0]!.msg).toMatch(/^unhandled promise rejection/);
    expect(entries[0]!.err.stack).toContain('httpServer.test');
  });
});
