// Small pieces the unit tests share: a silent logger, a real in-memory SQLite store with its repositories, a job
// as the store would hold it, and a way to let real I/O finish while the clock is fake.
import { vi } from 'vitest';
import type { Job } from '../../src/jobs/model.js';
import { createLogger, type Logger } from '../../src/log.js';
import { openKvStore, type KvStore } from '../../src/store/keyvStore.js';
import { createRepositories, type Repositories } from '../../src/store/repositories.js';

export const silentLogger: Logger = createLogger({ level: 'silent', pretty: false });

/** Store calls under way (SQLite answers on libuv's thread pool, outside the fake clock). */
let storeCallsInFlight = 0;

/** Count every call of every repository method while it runs, so the fake clock can wait for the store. */
function counted<T extends object>(repo: T): T {
  return new Proxy(repo, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        const out: unknown = Reflect.apply(v, receiver, args);
        if (!(out instanceof Promise)) return out;
        storeCallsInFlight++;
        return out.finally(() => storeCallsInFlight--);
      };
    },
  });
}

/**
 * A real store (SQLite in memory) and its repositories; close it after the test. The repositories are the real
 * ones, counted on the way through so that `settle()` knows when the store has answered.
 */
export async function memoryStore(): Promise<{ store: KvStore; repos: Repositories }> {
  const store = await openKvStore('sqlite://:memory:', silentLogger);
  const r = createRepositories(store);
  return { store, repos: { jobs: counted(r.jobs), buttons: counted(r.buttons), users: counted(r.users), meta: counted(r.meta) } };
}

let seq = 0;

/** A Midjourney job that is running, owned by user `u` in channel `c`; override what the test is about. */
export function makeJob(over: Partial<Job> = {}): Job {
  const now = Date.now();
  seq++;
  return {
    id: `job${seq}`,
    provider: 'mj',
    kind: 'imagine',
    upstreamId: `task${seq}`,
    owner: { userId: 'u', channelId: 'c', locale: 'en-US' },
    delivery: 'channel',
    status: 'running',
    progress: 0,
    prompt: 'a cat',
    messages: { results: [] },
    attachmentLimit: 10 * 1024 * 1024,
    createdAt: now,
    updatedAt: now,
    deadlineAt: now + 30 * 60_000,
    upstream: {},
    ...over,
  };
}

/** Fake timers for the clock and every timer; setImmediate, nextTick and I/O stay real (SQLite answers through them). */
export function useFakeClock(now = Date.UTC(2025, 0, 1)): void {
  vi.useFakeTimers({ now, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
}

const turn = () => new Promise<void>((r) => setImmediate(r));

/**
 * Let real I/O run (event-loop turns, no timers, no waiting on the fake clock) until `cond` holds. Fails after a
 * real second: the condition is not coming.
 */
export async function until(cond: () => boolean, what = 'the condition'): Promise<void> {
  const started = performance.now();
  while (!cond()) {
    if (performance.now() - started > 1000) throw new Error(`timed out waiting for ${what}`);
    await turn();
  }
}

/** Let pending real I/O settle: event-loop turns until no store call is under way for a few turns in a row. */
export async function settle(): Promise<void> {
  const started = performance.now();
  for (let quiet = 0; quiet < 3;) {
    await turn();
    quiet = storeCallsInFlight === 0 ? quiet + 1 : 0;
    if (performance.now() - started > 2000) throw new Error(`the store did not answer (${storeCallsInFlight} calls under way)`);
  }
}

/**
 * Move the fake clock in steps of `step` until `cond` holds (real I/O settles between steps), at most `maxMs` of
 * fake time. For "eventually": how much fake time passes depends on how fast the real I/O was, so assert timings
 * only between events that involve no I/O (e.g. two timer-driven attempts).
 */
export async function advanceUntil(cond: () => boolean, what: string, maxMs = 120_000, step = 25): Promise<void> {
  for (let passed = 0; !cond(); passed += step) {
    if (passed > maxMs) throw new Error(`${what} did not happen within ${maxMs} ms of fake time`);
    await vi.advanceTimersByTimeAsync(step);
    await settle();
  }
}

/** Move the fake clock by `ms`, firing the timers due on the way, letting real I/O settle between them. */
export async function advance(ms: number, step = 25): Promise<void> {
  for (let left = ms; left > 0; left -= step) {
    await vi.advanceTimersByTimeAsync(Math.min(step, left));
    await settle();
  }
  await settle();
}
