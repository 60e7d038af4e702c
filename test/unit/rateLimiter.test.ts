import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RateLimiter, RateLimiterError, RateLimiters } from '../../src/upstream/rateLimiter.js';

/** Most starts inside any half-open window [t, t + windowMs). */
function maxInWindow(times: number[], windowMs: number): number {
  let best = 0;
  for (let i = 0; i < times.length; i++) {
    let n = 0;
    for (let j = i; j < times.length && (times[j] ?? 0) - (times[i] ?? 0) < windowMs; j++) n++;
    best = Math.max(best, n);
  }
  return best;
}

describe('RateLimiter', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets the first perWindow requests start at once, then one window (plus margin) after the oldest', async () => {
    const l = new RateLimiter({ perWindow: 2, windowMs: 1000, marginMs: 100 });
    const started: number[] = [];
    const t0 = Date.now();
    const all = Array.from({ length: 5 }, () => l.take().then(() => started.push(Date.now() - t0)));
    await vi.advanceTimersByTimeAsync(5000);
    await Promise.all(all);
    expect(started).toEqual([0, 0, 1100, 1100, 2200]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('never starts more than perWindow requests within any window, whatever the arrival pattern', async () => {
    const l = new RateLimiter({ perWindow: 2, windowMs: 1000, marginMs: 0 });
    const started: number[] = [];
    const waits: Promise<void>[] = [];
    // bursts and trickles over ~6 s: 30 requests
    for (let i = 0; i < 30; i++) {
      waits.push(l.take().then(() => void started.push(Date.now())));
      await vi.advanceTimersByTimeAsync(i % 7 === 0 ? 0 : (i * 37) % 400);
    }
    await vi.advanceTimersByTimeAsync(30_000);
    await Promise.all(waits);
    expect(started).toHaveLength(30);
    expect(maxInWindow(started, 1000)).toBe(2);
    // and it is not slower than it must be: a full queue drains at 2 per second
    const classic = new RateLimiter({ perWindow: 2, windowMs: 1000, marginMs: 0 });
    const times: number[] = [];
    const t0 = Date.now();
    const burst = Array.from({ length: 10 }, () => classic.take().then(() => void times.push(Date.now() - t0)));
    await vi.advanceTimersByTimeAsync(10_000);
    await Promise.all(burst);
    expect(times.at(-1)).toBe(4000);
  });

  it('serves waiters first come, first served', async () => {
    const l = new RateLimiter({ perWindow: 1, windowMs: 100, marginMs: 0 });
    const order: number[] = [];
    const all = [1, 2, 3, 4].map((n) => l.take().then(() => void order.push(n)));
    await vi.advanceTimersByTimeAsync(1000);
    await Promise.all(all);
    expect(order).toEqual([1, 2, 3, 4]);
  });

  it('refuses callers beyond the bounded queue at once', async () => {
    const l = new RateLimiter({ perWindow: 1, windowMs: 1000, maxQueue: 2 });
    await l.take(); // uses the only slot
    const a = l.take();
    const b = l.take();
    await expect(l.take()).rejects.toMatchObject({ name: 'RateLimiterError', reason: 'queue-full' });
    expect(l.queued).toBe(2);
    await vi.advanceTimersByTimeAsync(5000);
    await expect(Promise.all([a, b])).resolves.toBeDefined();
  });

  it('an AbortSignal cancels a wait, frees its place, and leaves the others alone', async () => {
    const l = new RateLimiter({ perWindow: 1, windowMs: 1000, marginMs: 0 });
    await l.take();
    const ctl = new AbortController();
    const started: string[] = [];
    const cancelled = l.take(ctl.signal).then(() => void started.push('cancelled'));
    const other = l.take().then(() => void started.push('other'));
    ctl.abort();
    await expect(cancelled).rejects.toBeInstanceOf(RateLimiterError);
    await expect(cancelled).rejects.toMatchObject({ reason: 'aborted' });
    expect(l.queued).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    await other;
    expect(started).toEqual(['other']);
    // an already-aborted signal never waits
    await expect(l.take(AbortSignal.abort())).rejects.toMatchObject({ reason: 'aborted' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('pause() holds every start until it is over (429 back-off), and never shortens an earlier pause', async () => {
    const l = new RateLimiter({ perWindow: 5, windowMs: 1000, marginMs: 0 });
    const t0 = Date.now();
    l.pause(3000);
    l.pause(1000);
    let at = -1;
    const p = l.take().then(() => void (at = Date.now() - t0));
    await vi.advanceTimersByTimeAsync(2999);
    expect(at).toBe(-1);
    await vi.advanceTimersByTimeAsync(1);
    await p;
    expect(at).toBe(3000);
  });

  it('a pause that arrives while callers wait pushes their start back', async () => {
    const l = new RateLimiter({ perWindow: 1, windowMs: 1000, marginMs: 0 });
    const t0 = Date.now();
    await l.take();
    let at = -1;
    const p = l.take().then(() => void (at = Date.now() - t0));
    await vi.advanceTimersByTimeAsync(500);
    l.pause(2000); // until t0 + 2500
    await vi.advanceTimersByTimeAsync(3000);
    await p;
    expect(at).toBe(2500);
  });

  it('close() rejects every waiter and later takes, and leaves no timer behind', async () => {
    const l = new RateLimiter({ perWindow: 1, windowMs: 1000 });
    await l.take();
    const a = l.take();
    const b = l.take();
    expect(vi.getTimerCount()).toBe(1);
    l.close();
    await expect(a).rejects.toMatchObject({ reason: 'closed' });
    await expect(b).rejects.toMatchObject({ reason: 'closed' });
    await expect(l.take()).rejects.toMatchObject({ reason: 'closed' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('holds no timer while nobody waits', async () => {
    const l = new RateLimiter({ perWindow: 2 });
    await l.take();
    await l.take();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('RateLimiters gives one limiter per id, made with the first options', () => {
    const limiters = new RateLimiters();
    const a = limiters.for('test:a', { perWindow: 2 });
    expect(limiters.for('test:a', { perWindow: 9 })).toBe(a);
    expect(limiters.for('test:b')).not.toBe(a);
    expect(a.perWindow).toBe(2);
    expect(new RateLimiters().for('test:a')).not.toBe(a); // another app's registry shares nothing
  });

  it('RateLimiters.closeAll refuses every waiter and every later take, and forgets its limiters', async () => {
    const limiters = new RateLimiters();
    const l = limiters.for('test:a', { perWindow: 1, windowMs: 1000 });
    await l.take();
    const waiting = l.take();
    limiters.closeAll();
    await expect(waiting).rejects.toMatchObject({ name: 'RateLimiterError', reason: 'closed' });
    await expect(l.take()).rejects.toMatchObject({ reason: 'closed' });
    expect(vi.getTimerCount()).toBe(0);
    expect(limiters.size).toBe(0);
    expect(limiters.for('test:a')).not.toBe(l);
  });
});
