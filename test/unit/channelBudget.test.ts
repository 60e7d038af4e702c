import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChannelBudget } from '../../src/discord/messages/channelBudget.js';

describe('ChannelBudget (≤ 5 writes per 5 s per channel)', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  it('lets 5 writes through at once, then spaces the rest so no 5 s window holds more than 5', async () => {
    const b = new ChannelBudget();
    const at: number[] = [];
    const writes = Array.from({ length: 12 }, () => b.reserve('c1').then(() => at.push(Date.now())));
    await vi.advanceTimersByTimeAsync(20_000);
    await Promise.all(writes);
    expect(at.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    for (let i = 5; i < at.length; i++) expect(at[i]! - at[i - 5]!).toBeGreaterThanOrEqual(5000);
    expect(at).toEqual([...at].sort((x, y) => x - y)); // in order
  });

  it('keeps channels independent', async () => {
    const b = new ChannelBudget();
    for (let i = 0; i < 5; i++) await b.reserve('c1');
    const t0 = Date.now();
    await b.reserve('c2');
    expect(Date.now()).toBe(t0);
  });

  it('gives progress edits only spare slots, keeping headroom for results', () => {
    const b = new ChannelBudget();
    expect(b.tryReserveNow('c1', 1)).toBe(0);
    expect(b.tryReserveNow('c1', 1)).toBe(0);
    expect(b.tryReserveNow('c1', 1)).toBe(0);
    expect(b.tryReserveNow('c1', 1)).toBe(0);
    expect(b.tryReserveNow('c1', 1)).toBeGreaterThan(0); // the fifth slot stays for a result
    vi.advanceTimersByTime(5000);
    expect(b.tryReserveNow('c1', 1)).toBe(0);
  });

  it('lets a waiting result go before every waiting progress post, whatever came first', async () => {
    const b = new ChannelBudget();
    const order: string[] = [];
    for (let i = 0; i < 5; i++) await b.reserve('c1'); // the window is full
    const progress = [1, 2, 3].map((n) => b.reserve('c1', { priority: 'progress' }).then(() => order.push(`progress ${n}`)));
    const result = b.reserve('c1').then(() => order.push('result'));
    await vi.advanceTimersByTimeAsync(20_000);
    await Promise.all([...progress, result]);
    expect(order[0]).toBe('result');
    expect(order.slice(1)).toEqual(['progress 1', 'progress 2', 'progress 3']);
  });

  it('a progress post never takes the last free slot of a window: a result arriving next goes at once', async () => {
    const b = new ChannelBudget();
    const granted: number[] = [];
    const progress = Array.from({ length: 6 }, () => b.reserve('c1', { priority: 'progress' }).then(() => granted.push(Date.now())));
    await vi.advanceTimersByTimeAsync(0);
    expect(granted).toEqual([0, 0, 0, 0]); // four of five: one slot stays free
    const t0 = Date.now();
    await b.reserve('c1');
    expect(Date.now()).toBe(t0); // the result did not wait
    expect(b.tryReserveNow('c1')).toBeGreaterThan(0); // nor may a progress edit take a slot now
    await vi.advanceTimersByTimeAsync(20_000);
    await Promise.all(progress);
    expect(granted).toHaveLength(6);
  });

  it('withdraws a waiting progress post when its job is over: it is never sent and uses no slot', async () => {
    const b = new ChannelBudget();
    for (let i = 0; i < 5; i++) await b.reserve('c1');
    const abort = new AbortController();
    const withdrawn = b.reserve('c1', { priority: 'progress', signal: abort.signal });
    withdrawn.catch(() => undefined);
    expect(b.waiting('c1')).toBe(1);
    abort.abort(new Error('job finished'));
    await expect(withdrawn).rejects.toThrow('job finished');
    expect(b.waiting('c1')).toBe(0);
    await vi.advanceTimersByTimeAsync(5000);
    // the whole next window is free for others
    for (let i = 0; i < 5; i++) expect(b.tryReserveNow('c1', 0)).toBe(0);
  });
});
