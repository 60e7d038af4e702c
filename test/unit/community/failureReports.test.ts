// What the log channel hears of failures, from the real Community on the real store (SQLite in memory): a submit the
// upstream refused, a job that failed after its submit, a result delivery that gave up; each once, none for a
// member's own refusal.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Community } from '../../../src/community/community.js';
import { FailureCounts } from '../../../src/community/failureLog.js';
import { GuildRulesRepo } from '../../../src/community/rules.js';
import { createI18n } from '../../../src/i18n/index.js';
import type { Job } from '../../../src/jobs/model.js';
import type { JobSink } from '../../../src/jobs/tracker.js';
import type { KvStore } from '../../../src/store/keyvStore.js';
import { MjError } from '../../../src/upstream/mjTypes.js';
import { makeJob, memoryStore, silentLogger } from '../../support/unitKit.js';

const GUILD = 'g1';
const LOG = 'log-channel';

let store: KvStore;
let community: Community;
let posted: { channelId: string; content: string }[];

beforeEach(async () => {
  let repos;
  ({ store, repos } = await memoryStore());
  posted = [];
  const rules = new GuildRulesRepo(store);
  community = new Community({
    rules,
    repos,
    i18n: await createI18n(),
    logger: silentLogger,
    now: () => Date.now(),
    post: async (channelId, content) => void posted.push({ channelId, content }),
    failures: new FailureCounts(store),
  });
  await community.update(GUILD, (r) => void (r.logChannelId = LOG));
});
afterEach(() => store.close());

const job = (over: Partial<Job> = {}) => makeJob({ owner: { userId: 'u1', channelId: 'c1', guildId: GUILD, locale: 'en-US' }, ...over });

/** a delivery sink that fails the first `failures` calls of finish */
function flakySink(failures: number): JobSink & { calls: number } {
  const sink = {
    calls: 0,
    progress: () => undefined,
    finish: async () => {
      if (++sink.calls <= failures) throw new Error('Discord said 503');
    },
  };
  return sink;
}

describe('failure reports', () => {
  it('a delivery that fails every attempt is reported once, when the tracker gives up; one that recovers is not', async () => {
    const sink = community.loggingSink(flakySink(5), { giveUpAfter: 3 });
    const done = job({ status: 'succeeded' });
    for (let attempt = 1; attempt <= 2; attempt++) await expect(sink.finish(done)).rejects.toThrow('503');
    expect(posted).toEqual([]);
    await expect(sink.finish(done)).rejects.toThrow('503'); // the third attempt: the tracker gives up for a while
    expect(posted.map((p) => p.content)).toEqual([
      `⚠️ <@u1>'s job \`${done.id}\` is done, but its result couldn't be posted in Discord after 3 tries. It will be tried again later.`,
    ]);
    for (let attempt = 1; attempt <= 2; attempt++) await expect(sink.finish(done)).rejects.toThrow('503'); // a later round, counted once already
    await sink.finish(done);
    expect(posted).toHaveLength(1);
    expect(await community.failuresLastHour(GUILD)).toEqual({ delivery: 1 });

    const recovering = community.loggingSink(flakySink(2), { giveUpAfter: 3 });
    const other = job({ status: 'succeeded' });
    for (let attempt = 1; attempt <= 2; attempt++) await expect(recovering.finish(other)).rejects.toThrow('503');
    await recovering.finish(other);
    expect(posted).toHaveLength(1);
  });

  it('a refused submit is reported in the server’s language with its kind; a banned prompt is the member’s own', async () => {
    await community.update(GUILD, (r) => void (r.locale = 'zh-CN'));
    const refused = job({ status: 'failed', error: { key: 'errors.unreachable' } });
    await community.submitFailed(refused, new MjError('unreachable', 'Midjourney Proxy imagine: timed out after 700 ms'));
    await community.submitFailed(refused, new MjError('unreachable', 'Midjourney Proxy imagine: timed out after 700 ms')); // told twice
    await community.submitFailed(job({ status: 'failed', error: { key: 'errors.bannedPrompt' } }), new MjError('banned-prompt', 'banned', { code: 24 }));
    expect(posted.map((p) => p.content)).toEqual([
      `❌ <@u1> 的任务 \`${refused.id}\` 未能开始（图片服务未及时应答）：我暂时连接不上图片服务，请几分钟后再试。`,
    ]);
    expect(posted[0]!.channelId).toBe(LOG);
    expect(await community.failuresLastHour(GUILD)).toEqual({ timeout: 1 });
  });

  it('a queued job whose submit is refused later (told on its message) is reported once, as the refused submit it is', async () => {
    const sink = community.loggingSink(flakySink(0), { giveUpAfter: 3 });
    const refused = job({ status: 'failed', upstreamId: undefined, error: { key: 'errors.badResponse' } });
    await sink.finish(refused); // its notice, posted first
    await community.submitFailed(refused, new MjError('bad-response', 'Midjourney Proxy imagine: server error (HTTP 502)', { httpStatus: 502 }));
    expect(posted.map((p) => p.content)).toEqual([
      `❌ <@u1>'s job \`${refused.id}\` didn't start (the image service had an error): The image service gave an answer I couldn't read. Please try again in a minute.`,
    ]);
    expect(await community.failuresLastHour(GUILD)).toEqual({ serverError: 1 });
  });

  it('a job that fails after its submit is reported after its notice is delivered, once', async () => {
    const sink = community.loggingSink(flakySink(1), { giveUpAfter: 3 });
    const failed = job({ status: 'failed', error: { key: 'errors.upstreamFailed', params: { reason: 'GPU on fire' } } });
    await expect(sink.finish(failed)).rejects.toThrow('503');
    await sink.finish(failed);
    await sink.finish(failed); // delivered again after a restart, say
    expect(posted.map((p) => p.content)).toEqual([
      `❌ <@u1>'s job \`${failed.id}\` failed (failed while running at the image service): The image service could not finish this job: GPU on fire`,
    ]);
    expect(await community.failuresLastHour(GUILD)).toEqual({ failed: 1 });
  });
});
