import { describe, expect, it } from 'vitest';
import { DEFAULT_DELIVERY_RETRY, deliveryRetryFor, retryDelay } from '../../src/jobs/tracker.js';
import { leaseMsFor, renewIntervalFor } from '../../src/store/leases.js';
import { isTransient } from '../../src/discord/messages/messenger.js';

describe('delivery retry policy', () => {
  it('doubles from firstMs up to maxMs, jittered within the upper half of each step', () => {
    const p = { firstMs: 1000, maxMs: 60_000 };
    expect([1, 2, 3, 4].map((n) => retryDelay(p, n, () => 0))).toEqual([500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4].map((n) => retryDelay(p, n, () => 0.999_999))).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelay(p, 30, () => 0.999_999)).toBe(60_000);
    for (let n = 1; n < 12; n++) {
      const d = retryDelay(p, n);
      const step = Math.min(60_000, 1000 * 2 ** (n - 1));
      expect(d).toBeGreaterThanOrEqual(step / 2);
      expect(d).toBeLessThanOrEqual(step);
    }
  });

  it('keeps the default at POLL_INTERVAL_MS ≥ 3 s and scales down with faster polling', () => {
    expect(deliveryRetryFor(3000)).toEqual(DEFAULT_DELIVERY_RETRY);
    expect(deliveryRetryFor(10_000)).toEqual(DEFAULT_DELIVERY_RETRY);
    expect(deliveryRetryFor(300)).toEqual({ ...DEFAULT_DELIVERY_RETRY, firstMs: 100, maxMs: 6000, pauseMs: 6000 });
  });

  it("retries Discord 5xx, 429, timeouts and network errors; not Discord's refusals", () => {
    expect(isTransient(Object.assign(new Error('500'), { status: 500 }))).toBe(true);
    expect(isTransient(Object.assign(new Error('503'), { status: 503 }))).toBe(true);
    expect(isTransient(Object.assign(new Error('429'), { status: 429 }))).toBe(true);
    expect(isTransient(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransient(new Error('SQLITE_BUSY'))).toBe(true);
    expect(isTransient(Object.assign(new Error('Missing Access'), { status: 403, code: 50001 }))).toBe(false);
    expect(isTransient(Object.assign(new Error('Unknown Channel'), { status: 404, code: 10003 }))).toBe(false);
  });
});

describe('lease timing', () => {
  it("lease + one round = LEASE_TTL_MS: a dead process's jobs are adopted within it; three renewals per lease", () => {
    for (const ttl of [1000, 3000, 30_000, 600_000]) {
      expect(leaseMsFor(ttl) + renewIntervalFor(ttl)).toBe(ttl);
      expect(leaseMsFor(ttl) / renewIntervalFor(ttl)).toBeGreaterThanOrEqual(3);
    }
    expect(renewIntervalFor(30_000)).toBe(7500);
    expect(leaseMsFor(30_000)).toBe(22_500);
  });
});
