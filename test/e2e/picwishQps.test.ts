// PicWish's per-key QPS against the vendor fake, in wall-clock time: the fake counts arrivals per real second and
// answers 429 above 2/s, so these stories take as long as the budget says (≈ 25 s). They moved here from
// test/unit/picwish.test.ts to keep the unit loop free of real waiting; the limiter's spacing itself is unit-tested
// with fake timers in test/unit/rateLimiter.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import type { Job, JobUpdate } from '../../src/jobs/model.js';
import { describeImageToolError, PicwishProvider } from '../../src/jobs/picwishProvider.js';
import { createLogger } from '../../src/log.js';
import { PicwishClient } from '../../src/upstream/picwish.js';
import { makePng } from '../fakes/images.js';
import { caughtImageToolError as caught, newPicwishKey as newKey, picwishJob as job, picwishRig } from '../support/picwish.js';

const logger = createLogger({ level: 'silent', pretty: false });
const img = () => makePng(40, 30, { seed: 3 });

const { fake, fastPair, track, closeAll } = picwishRig(logger);
afterEach(closeAll);

describe('PicWish Retry-After, in real seconds', () => {
  it('HTTP 429 on a create → rate-limited (Retry-After kept), sent once; on a query → waits Retry-After and retries', async () => {
    const { f, c } = await fastPair({ retryAfterSec: 1 });
    f.rateLimit429Next(1);
    const n = f.requests.length;
    const e = await caught(c.segmentation({ image: img(), imageName: 'a.png' }));
    expect(e).toMatchObject({ kind: 'rate-limited', status: 429, retryAfterMs: 1000 });
    expect(describeImageToolError(e)).toEqual({ key: 'errors.tools.rateLimited' });
    expect(f.requests.length).toBe(n + 1);

    const created = await c.segmentation({ image: img(), imageName: 'a.png' });
    // the 429 paused the whole key for Retry-After: the next create waited
    const [limited, next] = f.requests.slice(n, n + 2);
    expect((next?.time ?? 0) - (limited?.time ?? 0)).toBeGreaterThanOrEqual(950);
    f.rateLimit429Next(2);
    const t0 = Date.now();
    const t = await c.query(created.path, created.taskId);
    expect(t.taskId).toBe(created.taskId);
    const qs = f.requests.filter((r) => r.path.endsWith(created.taskId));
    expect(qs.map((r) => r.status)).toEqual([429, 429, 200]);
    expect((qs[1]?.time ?? 0) - (qs[0]?.time ?? 0)).toBeGreaterThanOrEqual(950);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
  });
});

describe('PicWish QPS per key, in real seconds', () => {
  it('20 concurrent jobs (creates and polls through the adapter) stay within 2 requests/s per key: the fake never answers 429', async () => {
    const key = newKey();
    const f = await fake({ apiKeys: [key], qps: 2, stepMs: 100 });
    const c = new PicwishClient({ baseUrl: f.url, apiKey: key, logger }); // defaults: qps 2, shared limiter of this key
    track(c);
    const p = new PicwishProvider(c, { logger, pollBudgetMs: 1000 });
    const active = new Map<string, Job>();
    const finals = new Map<string, JobUpdate>();
    const creates = Array.from({ length: 20 }, (_, i) =>
      c.inpaint({ image: makePng(24, 24, { seed: i + 1 }), imageName: `i${i}.png`, rectangles: [{ x: 0, y: 0, width: 4, height: 4 }] }).then((created) => {
        const j = job(created, { deadlineAt: Date.now() + 55_000 });
        active.set(j.id, j);
      }),
    );
    let createsDone = false;
    const allCreated = Promise.all(creates).then(() => void (createsDone = true));
    // a tracker-like loop: poll whatever is active every 200 ms
    const until = Date.now() + 55_000;
    while (Date.now() < until && (!createsDone || active.size > 0)) {
      const updates = await p.poll([...active.values()]);
      for (const [id, u] of updates) {
        if (u.status === 'succeeded' || u.status === 'failed') {
          finals.set(id, u);
          active.delete(id);
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    await allCreated;
    expect(finals.size).toBe(20);
    expect([...finals.values()].every((u) => u.status === 'succeeded')).toBe(true);
    const api = f.requests.filter((r) => r.path.startsWith('/api/'));
    expect(api.length).toBeGreaterThanOrEqual(40);
    expect(api.every((r) => r.status === 200)).toBe(true);
    expect(f.qps429(key)).toBe(0);
    expect(f.maxRequestsPerSecond(key)).toBeLessThanOrEqual(2);
    expect(f.maxRequestsPerSecond(key)).toBe(2); // and the budget is used
  }, 60_000);
});
