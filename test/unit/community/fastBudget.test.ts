// Fast-time budgets on the real store (SQLite in memory): minutes recorded when a job's result was delivered, per
// member and per server per UTC day; the decision to run a member's next job in relax; the day's report and its chart.
import { PNG } from 'pngjs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FastBudget, budgetFallback } from '../../../src/community/fastBudget.js';
import { CHART_HEIGHT, CHART_WIDTH, usageChartPng } from '../../../src/community/fastBudgetChart.js';
import type { TaskTimes } from '../../../src/community/fastBudgetEstimate.js';
import { GuildRulesRepo } from '../../../src/community/rules.js';
import type { Job } from '../../../src/jobs/model.js';
import type { JobSink } from '../../../src/jobs/tracker.js';
import { openKvStore, type KvStore } from '../../../src/store/keyvStore.js';
import { startRedis, type TestRedis } from '../../support/redis.js';
import { makeJob, memoryStore, silentLogger } from '../../support/unitKit.js';

const GUILD = 'g1';
const T0 = Date.UTC(2025, 0, 1, 12);

let store: KvStore;
let rules: GuildRulesRepo;
let budget: FastBudget;
let now: number;
let times: TaskTimes | undefined;
let timeAsks: number;

beforeEach(async () => {
  now = T0;
  times = undefined;
  timeAsks = 0;
  ({ store } = await memoryStore());
  rules = new GuildRulesRepo(store);
  budget = new FastBudget({
    store,
    rules: (g) => rules.get(g),
    logger: silentLogger,
    now: () => now,
    taskTimes: async () => {
      timeAsks++;
      return times;
    },
  });
});
afterEach(() => store.close());

const finished = (userId: string, over: Partial<Job> = {}): Job =>
  makeJob({
    owner: { userId, guildId: GUILD, channelId: 'c', locale: 'en-US' },
    status: 'succeeded',
    result: { buttons: [], imageUrl: 'https://x/1.png' },
    ...over,
  });

describe('the budget decision', () => {
  it('falls back for the member whose minutes reached their budget, then for everyone once the server is spent', () => {
    const day = { total: 9, members: { a: 5, b: 4 } };
    expect(budgetFallback(day, 'a', 5, 0)).toBe('member');
    expect(budgetFallback(day, 'b', 5, 0)).toBeUndefined();
    expect(budgetFallback(day, 'c', 5, 10)).toBeUndefined();
    expect(budgetFallback(day, 'c', 5, 9)).toBe('server');
    expect(budgetFallback(day, 'a', 5, 9)).toBe('member'); // the member's own budget is named first
    expect(budgetFallback(day, 'a', 0, 0)).toBeUndefined(); // 0 = no budget
  });
});

describe('FastBudget on the store', () => {
  it('records minutes after delivery, per member and for the server, and relaxes the member who spent theirs', async () => {
    await rules.update(GUILD, (r) => void (r.limits.fastMinutes = 1));
    const delivered: string[] = [];
    const sink = budget.recordingSink({ progress: () => undefined, finish: async (j) => void delivered.push(j.id) });
    times = { startTime: T0 - 90_000, finishTime: T0 }; // the task says it worked 1.5 minutes
    expect(await budget.fallback({ userId: 'a', guildId: GUILD })).toBeUndefined();
    await sink.finish(finished('a'));
    expect(delivered).toHaveLength(1);
    expect(await budget.usage(GUILD)).toEqual({ total: 1.5, members: { a: 1.5 } });
    expect(await budget.fallback({ userId: 'a', guildId: GUILD })).toBe('member');
    expect(await budget.fallback({ userId: 'b', guildId: GUILD })).toBeUndefined();
  });

  it('a role override raises a member budget (0 lifts it); the server budget holds for everyone', async () => {
    await rules.update(GUILD, (r) => {
      r.limits.fastMinutes = 1;
      r.roleLimits = { patron: { fastMinutes: 5 }, staff: { fastMinutes: 0 } };
    });
    await budget.add(GUILD, 'a', 3);
    expect(await budget.fallback({ userId: 'a', guildId: GUILD })).toBe('member');
    expect(await budget.fallback({ userId: 'a', guildId: GUILD, roles: ['patron'] })).toBeUndefined();
    await budget.add(GUILD, 'a', 3);
    expect(await budget.fallback({ userId: 'a', guildId: GUILD, roles: ['patron'] })).toBe('member');
    expect(await budget.fallback({ userId: 'a', guildId: GUILD, roles: ['staff'] })).toBeUndefined();
    await rules.update(GUILD, (r) => void (r.serverFastMinutes = 6));
    expect(await budget.fallback({ userId: 'a', guildId: GUILD, roles: ['staff'] })).toBe('server');
    expect(await budget.fallback({ userId: 'z', guildId: GUILD })).toBe('server');
  });

  it('a new UTC day starts from zero', async () => {
    await rules.update(GUILD, (r) => void (r.serverFastMinutes = 2));
    await budget.add(GUILD, 'a', 2);
    expect(await budget.fallback({ userId: 'b', guildId: GUILD })).toBe('server');
    now = Date.UTC(2025, 0, 2, 0, 0, 1);
    expect(await budget.fallback({ userId: 'b', guildId: GUILD })).toBeUndefined();
    expect(await budget.usage(GUILD)).toEqual({ total: 0, members: {} });
  });

  it('records nothing for relax jobs, failures, DMs without a server, nor when the delivery failed', async () => {
    times = { startTime: 0, finishTime: 600_000 };
    await budget.recordFinished(finished('a', { mode: 'relax' }));
    await budget.recordFinished(finished('a', { status: 'failed', result: undefined }));
    await budget.recordFinished(finished('a', { owner: { userId: 'a', channelId: 'dm', locale: 'en-US' } }));
    expect(timeAsks).toBe(0); // nothing to count: the task was not even asked
    const failing: JobSink = {
      progress: () => undefined,
      finish: async () => {
        throw new Error('discord down');
      },
    };
    await expect(budget.recordingSink(failing).finish(finished('a'))).rejects.toThrow('discord down');
    expect(await budget.usage(GUILD)).toEqual({ total: 0, members: {} });
  });

  it('uses the nominal estimate when the task times cannot be read, and never fails the delivery', async () => {
    const b = new FastBudget({
      store,
      rules: (g) => rules.get(g),
      logger: silentLogger,
      now: () => now,
      taskTimes: () => Promise.reject(new Error('proxy down')),
    });
    await b.recordingSink({ progress: () => undefined, finish: async () => undefined }).finish(finished('a', { mode: 'turbo' }));
    expect(await b.usage(GUILD)).toEqual({ total: 2, members: { a: 2 } });
  });

  it('reports the day: total against the budgets, members by use, most first', async () => {
    await rules.update(GUILD, (r) => {
      r.serverFastMinutes = 30;
      r.limits.fastMinutes = 10;
    });
    await Promise.all([budget.add(GUILD, 'a', 1), budget.add(GUILD, 'b', 4), budget.add(GUILD, 'c', 2.5), budget.add(GUILD, 'b', 1)]);
    const report = await budget.report(GUILD, 2);
    expect(report).toEqual({
      day: '2025-01-01',
      total: 8.5,
      serverBudget: 30,
      memberBudget: 10,
      top: [
        { userId: 'b', minutes: 5 },
        { userId: 'c', minutes: 2.5 },
      ],
      members: 3,
    });
  });
});

describe('the usage chart', () => {
  it('is a PNG of a fixed size, the server bar first, spent budgets drawn in another colour', () => {
    const png = PNG.sync.read(
      usageChartPng({ minutes: 10, budget: 20 }, [
        { minutes: 6, budget: 5 },
        { minutes: 4, budget: 5 },
      ]),
    );
    expect([png.width, png.height]).toEqual([CHART_WIDTH, CHART_HEIGHT]);
    const pixel = (x: number, y: number) => [...png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3)];
    const rowH = Math.floor((CHART_HEIGHT - 24) / 3);
    const mid = (row: number) => 12 + row * rowH + Math.floor(rowH / 2);
    const server = pixel(20, mid(0));
    const spent = pixel(20, mid(1));
    const within = pixel(20, mid(2));
    expect(new Set([server.join(), spent.join(), within.join()]).size).toBe(3);
    expect(pixel(CHART_WIDTH - 5, mid(0))).toEqual(pixel(2, 2)); // past the largest figure: background
  });
});

describe('fast minutes on one Redis shared by two processes', () => {
  let redis: TestRedis;
  const stores: KvStore[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  }, 20_000);
  afterAll(async () => {
    for (const s of stores.splice(0)) await s.close();
    await redis?.stop();
  });

  it('both add to the same day without losing a write, and either decides from the total', async () => {
    for (let i = 0; i < 2; i++) stores.push(await openKvStore(redis.url, silentLogger));
    const repo = new GuildRulesRepo(stores[0]!);
    await repo.update(GUILD, (r) => void (r.serverFastMinutes = 20));
    const [a, b] = stores.map((s) => new FastBudget({ store: s, rules: (g) => repo.get(g), logger: silentLogger, now: () => T0 })) as [FastBudget, FastBudget];
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).add(GUILD, `m${i % 4}`, 1)));
    expect(await b.usage(GUILD, T0)).toEqual({ total: 20, members: { m0: 5, m1: 5, m2: 5, m3: 5 } });
    expect(await a.fallback({ userId: 'new', guildId: GUILD })).toBe('server');
  });
});
