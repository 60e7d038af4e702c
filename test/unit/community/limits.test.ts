// A server's limits (concurrency, cooldown, daily quotas per member and per server, role overrides, batches) and
// bans that lapse, decided by the real Community on the real store (SQLite in memory) with a clock the test moves.
// Entry rules (channels, roles, NSFW) are in entryRefusal.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Community } from '../../../src/community/community.js';
import { GuildRulesRepo, effectiveLimits, defaultRules } from '../../../src/community/rules.js';
import { createI18n } from '../../../src/i18n/index.js';
import type { Job } from '../../../src/jobs/model.js';
import type { KvStore } from '../../../src/store/keyvStore.js';
import type { Repositories } from '../../../src/store/repositories.js';
import { makeJob, memoryStore, silentLogger } from '../../support/unitKit.js';

const GUILD = 'g1';
const T0 = Date.UTC(2025, 0, 1, 12);
const owner = (over: Partial<Job['owner']> = {}): Job['owner'] => ({ userId: 'u1', channelId: 'c1', guildId: GUILD, locale: 'en-US', ...over });
const at = (ms: number) => `<t:${Math.ceil(ms / 1000)}:R>`;

let store: KvStore;
let repos: Repositories;
let rules: GuildRulesRepo;
let community: Community;
let now: number;

beforeEach(async () => {
  now = T0;
  ({ store, repos } = await memoryStore());
  rules = new GuildRulesRepo(store);
  community = new Community({ rules, repos, i18n: await createI18n(), logger: silentLogger, now: () => now, post: async () => undefined });
});
afterEach(() => store.close());

/** A job the member started now (as JobService records it), counted for the member and the server. */
async function started(status: Job['status'] = 'running', who = owner()): Promise<Job> {
  const job = makeJob({ owner: who, status, createdAt: now, updatedAt: now });
  await repos.jobs.save(job, now);
  await repos.jobs.addToUser(job);
  await community.started(job);
  return job;
}

describe('Community limits', () => {
  it('concurrency: running jobs count, finished ones do not', async () => {
    await community.update(GUILD, (r) => void (r.limits.concurrent = 2));
    await started('running');
    await started('succeeded');
    expect(await community.admissionRefusal(owner())).toBeUndefined();
    await started('queued');
    expect(await community.admissionRefusal(owner())).toEqual({ key: 'community.limit.concurrent', params: { count: 2 } });
    expect(await community.admissionRefusal(owner({ userId: 'u2' }))).toBeUndefined(); // per member
  });

  it('cooldown: refused until cooldownSec after the last start, with when to try again', async () => {
    await community.update(GUILD, (r) => void (r.limits = { concurrent: 0, cooldownSec: 30, dailyPerUser: 0 }));
    await started('succeeded');
    now = T0 + 10_000;
    expect(await community.admissionRefusal(owner())).toEqual({ key: 'community.limit.cooldown', params: { when: at(T0 + 30_000) } });
    now = T0 + 30_000;
    expect(await community.admissionRefusal(owner())).toBeUndefined();
  });

  it('daily quota per member: refused once used up, admitted again after UTC midnight', async () => {
    await community.update(GUILD, (r) => void (r.limits = { concurrent: 0, cooldownSec: 0, dailyPerUser: 2 }));
    await started('succeeded');
    await started('failed');
    const midnight = Date.UTC(2025, 0, 2);
    expect(await community.admissionRefusal(owner())).toEqual({ key: 'community.limit.daily', params: { count: 2, when: at(midnight) } });
    now = midnight + 1;
    expect(await community.admissionRefusal(owner())).toBeUndefined();
  });

  it('daily quota per server counts every member, and a job the upstream refused is given back', async () => {
    await community.update(GUILD, (r) => void ((r.limits.concurrent = 0), (r.dailyServer = 2)));
    await started('succeeded', owner({ userId: 'a' }));
    const refused = await started('failed', owner({ userId: 'b' }));
    expect(await community.admissionRefusal(owner({ userId: 'c' }))).toMatchObject({ key: 'community.limit.server', params: { count: 2 } });
    await community.refused(refused);
    expect(await community.serverToday(GUILD)).toBe(1);
    expect(await repos.jobs.countToday('b', now)).toBe(0);
    expect(await community.admissionRefusal(owner({ userId: 'c' }))).toBeUndefined();
  });

  it('roles raise limits (the most generous wins, 0 lifts one) and lower the cooldown', () => {
    const r = defaultRules({ concurrent: 1, cooldownSec: 60, dailyPerUser: 10 });
    r.roleLimits = { patron: { concurrent: 3, cooldownSec: 10 }, staff: { dailyPerUser: 0 }, tiny: { concurrent: 2, dailyPerUser: 5 } };
    expect(effectiveLimits(r, [])).toEqual({ concurrent: 1, cooldownSec: 60, dailyPerUser: 10 });
    expect(effectiveLimits(r, ['patron', 'tiny'])).toEqual({ concurrent: 3, cooldownSec: 10, dailyPerUser: 10 });
    expect(effectiveLimits(r, ['tiny', 'staff'])).toEqual({ concurrent: 2, cooldownSec: 60, dailyPerUser: 0 });
  });

  it("a member's roles count in admission: a role override lets them run more", async () => {
    await community.update(GUILD, (r) => void ((r.limits.concurrent = 1), (r.roleLimits = { patron: { concurrent: 2 } })));
    await started('running');
    expect(await community.admissionRefusal(owner())).toMatchObject({ key: 'community.limit.concurrent' });
    expect(await community.admissionRefusal(owner({ roles: ['patron'] }))).toBeUndefined();
  });

  it('a batch is admitted all or none, and its grant covers exactly its own jobs', async () => {
    await community.update(GUILD, (r) => void (r.limits.concurrent = 4));
    await started('running');
    expect(await community.admitBatch(owner(), 5, 'Imagine all')).toEqual({
      key: 'community.batch.tooMany',
      params: { action: 'Imagine all', count: 5, max: 4 },
    });
    expect(await community.admitBatch(owner(), 4, 'Imagine all')).toEqual({
      key: 'community.batch.busy',
      params: { action: 'Imagine all', count: 4, running: 1, max: 4 },
    });
    expect(await community.admitBatch(owner(), 3, 'Imagine all')).toBeUndefined();
    for (let i = 0; i < 3; i++) {
      expect(await community.admissionRefusal(owner())).toBeUndefined();
      await started('running');
    }
    expect(await community.admissionRefusal(owner())).toMatchObject({ key: 'community.limit.concurrent' });
  });
});

describe('Community admission reads only what a limit needs', () => {
  it("a queued job under no cooldown or day limit reads none of the member's jobs or counts; each limit reads its own", async () => {
    await started('running');
    const reads: string[] = [];
    const jobs = repos.jobs;
    for (const name of ['recentForUser', 'countToday'] as const) {
      const real = jobs[name].bind(jobs) as (...a: unknown[]) => Promise<unknown>;
      (jobs as unknown as Record<string, unknown>)[name] = (...a: unknown[]) => {
        reads.push(name === 'recentForUser' ? `recentForUser:${String(a[1])}` : name);
        return real(...a);
      };
    }
    await community.update(GUILD, (r) => void (r.limits.concurrent = 2));
    expect(await community.admissionRefusal(owner(), undefined, { queued: true })).toBeUndefined();
    expect(reads).toEqual([]); // the queue decides about running jobs
    expect(await community.admissionRefusal(owner())).toBeUndefined();
    expect(reads).toEqual(['recentForUser:25']); // not queued: the running jobs count
    reads.length = 0;
    await community.update(GUILD, (r) => void ((r.limits.cooldownSec = 60), (r.limits.dailyPerUser = 5)));
    expect(await community.admissionRefusal(owner(), undefined, { queued: true })).toEqual({
      key: 'community.limit.cooldown',
      params: { when: at(now + 60_000) },
    });
    expect(reads).toEqual(['recentForUser:1', 'countToday']); // the last job only, and the day count
  });
});

describe('Community bans', () => {
  it('a ban with an end lapses at its end; one without stays', async () => {
    await community.update(GUILD, (r) => {
      r.bans.u1 = { reason: 'spam', by: 'mod', at: T0, until: T0 + 3_600_000 };
      r.bans.u2 = { reason: 'abuse', by: 'mod', at: T0 };
    });
    const r = await community.rules(GUILD);
    expect(community.activeBan(r, 'u1')).toMatchObject({ reason: 'spam' });
    now = T0 + 3_600_000;
    expect(community.activeBan(r, 'u1')).toBeUndefined();
    expect(community.activeBan(r, 'u2')).toMatchObject({ reason: 'abuse' });
    expect((await community.usage('u2', GUILD, [])).ban).toMatchObject({ reason: 'abuse' });
  });
});
