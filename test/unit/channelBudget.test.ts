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
});
