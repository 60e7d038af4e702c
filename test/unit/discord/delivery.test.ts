// Delivery: where a job shows up in Discord. Its own collaborators are real (Messenger, ChannelBudget, Renderer,
// EditCoalescer, i18n, an in-memory SQLite store); only the Discord REST boundary is a recording double that can
// answer Discord's errors. The clock is fake: nothing here waits in real time.
import { DiscordAPIError, HTTPError, type REST } from '@discordjs/rest';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Delivery, type DeliveryDeps } from '../../../src/discord/messages/delivery.js';
import { ChannelBudget } from '../../../src/discord/messages/channelBudget.js';
import { Messenger } from '../../../src/discord/messages/messenger.js';
import { OpenReplies } from '../../../src/discord/messages/openReplies.js';
import { Renderer } from '../../../src/discord/messages/renderer.js';
import { ByteGate } from '../../../src/discord/messages/resultMedia.js';
import { createI18n, type I18n } from '../../../src/i18n/index.js';
import type { Job } from '../../../src/jobs/model.js';
import type { MappedButton } from '../../../src/mj/buttons.js';
import type { KvStore } from '../../../src/store/keyvStore.js';
import type { Repositories } from '../../../src/store/repositories.js';
import { advance, advanceUntil, makeJob, memoryStore, silentLogger, useFakeClock } from '../../support/unitKit.js';

const INTERVAL = 1000;
const IMAGE_URL = 'https://cdn.example/result.png';
const PNG = Buffer.from('89504e470d0a1a0a', 'hex');
const U1: MappedButton = { customId: 'MJ::JOB::upsample::1::abc', kind: 'upscale', index: 1, labelKey: null, label: 'U1', style: 2, modal: 'never', group: 0 };

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
interface Call {
  method: Method;
  route: string;
  body: Record<string, unknown>;
  files: number;
  at: number;
}

/**
 * Discord's REST API as Messenger uses it (get/post/patch/delete): records every call with the fake clock's time,
 * answers like Discord (message ids m1, m2, …; the DM channel `dm-<user>`), and answers a planned error instead when
 * told to.
 */
class RecordingRest {
  readonly calls: Call[] = [];
  /** what a channel history read (GET /channels/:id/messages) answers */
  history: unknown[] = [];
  private planned: { method: Method; route: string; error: Error }[] = [];
  private seq = 0;

  /** The next `method` call to `route` fails with `error`. */
  failNext(method: Method, route: string, error: Error): void {
    this.planned.push({ method, route, error });
  }

  posts(channelId: string): Call[] {
    return this.calls.filter((c) => c.method === 'POST' && c.route === `/channels/${channelId}/messages`);
  }

  edits(): Call[] {
    return this.calls.filter((c) => c.method === 'PATCH');
  }

  async request(method: Method, route: string, opts: { body?: unknown; files?: unknown[] } = {}): Promise<unknown> {
    this.calls.push({ method, route, body: (opts.body ?? {}) as Record<string, unknown>, files: opts.files?.length ?? 0, at: Date.now() });
    const i = this.planned.findIndex((p) => p.method === method && p.route === route);
    if (i >= 0) throw this.planned.splice(i, 1)[0]!.error;
    if (method === 'POST' && route === '/users/@me/channels') return { id: `dm-${String((opts.body as { recipient_id: string }).recipient_id)}` };
    if (method === 'POST') return { id: `m${++this.seq}`, attachments: [] };
    if (method === 'DELETE') return undefined;
    if (method === 'GET' && /^\/channels\/[^/]+\/messages$/.test(route)) return this.history;
    return { id: route.split('/').pop(), attachments: [] };
  }

  hookCalls(): string[] {
    return this.calls.filter((c) => c.route.startsWith('/webhooks/')).map((c) => `${c.method} ${c.route}`);
  }

  get = (route: string) => this.request('GET', route);
  post = (route: string, opts?: { body?: unknown; files?: unknown[] }) => this.request('POST', route, opts);
  patch = (route: string, opts?: { body?: unknown; files?: unknown[] }) => this.request('PATCH', route, opts);
  delete = (route: string) => this.request('DELETE', route);
}

/** What @discordjs/rest throws for a Discord refusal (a JSON error code) … */
function discordError(code: number, status: number): DiscordAPIError {
  return new DiscordAPIError({ code, message: `error ${code}` }, code, status, 'POST', '/test', { body: undefined, files: undefined });
}
/** … and for a 5xx it gave up retrying (no JSON code). */
const serverError = () => new HTTPError(500, 'Internal Server Error', 'POST', '/test', { body: undefined, files: undefined });

const content = (c: Call | undefined) => String(c?.body.content ?? '');
const mentioned = (c: Call | undefined) => (c?.body.allowed_mentions as { users: string[] } | undefined)?.users;
const percent = (c: Call | undefined) => Number(/(\d+)%\s*$/.exec(content(c))?.[1]);

let i18n: I18n;
let store: KvStore;
let repos: Repositories;
let rest: RecordingRest;

beforeAll(async () => {
  i18n = await createI18n();
});

beforeEach(async () => {
  useFakeClock();
  ({ store, repos } = await memoryStore());
  rest = new RecordingRest();
});

afterEach(async () => {
  vi.useRealTimers();
  await store.close();
});

function delivery(over: Partial<DeliveryDeps> = {}): Delivery {
  return new Delivery({
    messenger: new Messenger(rest as unknown as REST, new ChannelBudget()),
    repos,
    renderer: new Renderer(i18n),
    i18n,
    logger: silentLogger,
    fetchImage: async () => ({ data: PNG, contentType: 'image/png', ext: 'png' }),
    planButtons: () => [[U1]],
    progressIntervalMs: INTERVAL,
    ...over,
  });
}

/** Run `p` to its end while the fake clock moves (channel budgets and coalescer timers are timers). */
async function drive<T>(p: Promise<T>): Promise<T> {
  let done = false;
  const tracked = p.finally(() => void (done = true));
  tracked.catch(() => undefined);
  await advanceUntil(() => done, 'the delivery step');
  return tracked;
}

const succeeded = (over: Partial<Job> = {}): Job => makeJob({ status: 'succeeded', progress: 100, result: { imageUrl: IMAGE_URL, buttons: [] }, ...over });

describe('progress', () => {
  it('coalesces frames: the latest wins, at most one edit per interval', async () => {
    const d = delivery();
    const job = makeJob();
    await d.begin(job);
    expect(job.messages.progress).toEqual({ channelId: 'c', messageId: 'm1' });

    for (const p of [10, 20, 30]) {
      job.progress = p;
      d.progress(job);
    }
    await advance(INTERVAL * 2);
    // the first frame goes at once; 20 is replaced by 30 before its turn
    expect(rest.edits().map(percent)).toEqual([10, 30]);

    for (let p = 31; p <= 60; p++) {
      job.progress = p;
      d.progress(job);
      await advance(100);
    }
    await advance(INTERVAL * 2);
    const edits = rest.edits();
    expect(edits.length).toBeLessThanOrEqual(2 + 4);
    expect(edits.at(-1)).toSatisfy((c: Call) => percent(c) === 60);
    for (const [i, e] of edits.entries()) if (i > 0) expect(e.at - edits[i - 1]!.at).toBeGreaterThanOrEqual(INTERVAL);
    expect(edits.every((e) => e.route === '/channels/c/messages/m1')).toBe(true);
  });

  it('stops editing a progress message the user deleted (10008); the result is still posted, nothing is deleted', async () => {
    const d = delivery();
    const job = makeJob();
    await d.begin(job);
    rest.failNext('PATCH', '/channels/c/messages/m1', discordError(10008, 404));
    job.progress = 40;
    d.progress(job);
    await advance(INTERVAL);
    expect(job.messages.progress).toBeUndefined();

    job.progress = 80;
    d.progress(job);
    await advance(INTERVAL * 2);
    expect(rest.edits()).toHaveLength(1);

    Object.assign(job, succeeded({ id: job.id, messages: job.messages }));
    await drive(d.finish(job));
    expect(rest.posts('c')).toHaveLength(2);
    expect(rest.calls.filter((c) => c.method === 'DELETE')).toEqual([]);
    expect(job.messages.results).toEqual([{ channelId: 'c', messageId: 'm2' }]);
  });
});

describe('the result', () => {
  it('is posted (image, buttons, mention) before the progress message is deleted; delivered is stored', async () => {
    const d = delivery();
    const job = makeJob();
    await d.begin(job);
    Object.assign(job, succeeded({ id: job.id, messages: job.messages }));
    await drive(d.finish(job));

    expect(rest.calls.map((c) => `${c.method} ${c.route}`)).toEqual([
      'POST /channels/c/messages',
      'POST /channels/c/messages',
      'DELETE /channels/c/messages/m1',
    ]);
    const post = rest.posts('c')[1];
    expect(post?.files).toBe(1);
    expect(mentioned(post)).toEqual(['u']);
    expect(JSON.stringify(post?.body.components)).toContain('U1');
    expect(job.messages).toEqual({ results: [{ channelId: 'c', messageId: 'm2' }] });
    expect((await repos.jobs.get(job.id))?.deliveredAt).toBe(Date.now());
    expect(await repos.buttons.get(job.buttonKeys![U1.customId]!)).toMatchObject({ jobId: job.id, customId: U1.customId });
  });

  it('still lands when the progress message is already gone at the end (delete answers 10008)', async () => {
    const d = delivery();
    const job = makeJob();
    await d.begin(job);
    rest.failNext('DELETE', '/channels/c/messages/m1', discordError(10008, 404));
    Object.assign(job, succeeded({ id: job.id, messages: job.messages }));
    await drive(d.finish(job));
    expect(job.messages.results).toEqual([{ channelId: 'c', messageId: 'm2' }]);
    expect((await repos.jobs.get(job.id))?.deliveredAt).toBeDefined();
  });

  it('too large to download: posted as a link with its size', async () => {
    const tooLarge = Object.assign(new Error('too large'), { kind: 'too-large', size: 30 * 1024 * 1024 });
    const d = delivery({ fetchImage: () => Promise.reject(tooLarge) });
    const job = succeeded();
    await drive(d.finish(job));
    const [post] = rest.posts('c');
    expect(post?.files).toBe(0);
    expect(content(post)).toContain('30.0 MiB');
    expect(content(post)).toContain(IMAGE_URL);
  });

  it('refused by Discord as too large (40005): posted again without the file, as a link', async () => {
    const d = delivery();
    const job = succeeded();
    rest.failNext('POST', '/channels/c/messages', discordError(40005, 413));
    await drive(d.finish(job));
    const [refused, link] = rest.posts('c');
    expect(refused?.files).toBe(1);
    expect(link?.files).toBe(0);
    expect(content(link)).toContain(i18n.t('en-US', 'result.tooLargeForDiscord', { size: '1 KB', limit: '10.0 MiB' }));
    expect(content(link)).toContain(IMAGE_URL);
    expect(job.messages.results).toEqual([{ channelId: 'c', messageId: 'm1' }]);
  });

  it('a video refused by Discord as too large (40005): posted again with every clip as its worded link, its bytes given back', async () => {
    const clips = [0, 1, 2, 3].map((i) => ({ url: `https://cdn.example/v/0_${i}.mp4` }));
    const mp4 = Buffer.concat([Buffer.from([0, 0, 0, 16]), Buffer.from('ftypisom'), Buffer.alloc(2048)]);
    const videoGate = new ByteGate(64 * 1024 * 1024);
    const d = delivery({ fetchVideo: async () => mp4, videoGate });
    const job = succeeded({ result: { imageUrl: 'https://cdn.example/v.mp4', buttons: [], video: { clips } } });
    rest.failNext('POST', '/channels/c/messages', discordError(40005, 413));
    await drive(d.finish(job));
    const [refused, links] = rest.posts('c');
    expect(refused?.files).toBe(4);
    expect(links?.files).toBe(0);
    for (const [i, c] of clips.entries()) {
      expect(content(links)).toContain(`Clip ${i + 1} (2 KB) is larger than Discord lets me upload here`);
      expect(content(links)).toContain(c.url);
    }
    expect(videoGate.inUse).toBe(0);
  });
});

describe('direct messages', () => {
  it('delivers progress and result in the DM, without a ping (a DM notifies by itself)', async () => {
    const d = delivery();
    const job = makeJob({ delivery: 'dm' });
    await drive(d.begin(job));
    expect(job.messages.progress).toEqual({ channelId: 'dm-u', messageId: 'm1' });
    Object.assign(job, succeeded({ id: job.id, delivery: 'dm', messages: job.messages }));
    await drive(d.finish(job));

    expect(rest.posts('c')).toEqual([]);
    expect(rest.posts('dm-u')).toHaveLength(2);
    expect(mentioned(rest.posts('dm-u')[1])).toEqual([]);
    expect(job.messages.results).toEqual([{ channelId: 'dm-u', messageId: 'm2' }]);
  });

  it('closed DMs (50007): the result falls back to the channel with a mention and a note; the next job goes there directly', async () => {
    const d = delivery();
    const note = i18n.t('en-US', 'delivery.dmClosedFallback');
    const job = succeeded({ delivery: 'dm' });
    rest.failNext('POST', '/channels/dm-u/messages', discordError(50007, 403));
    await drive(d.finish(job));

    const [fallback] = rest.posts('c');
    expect(mentioned(fallback)).toEqual(['u']);
    expect(content(fallback)).toContain(note);
    expect(job.messages.results).toEqual([{ channelId: 'c', messageId: 'm1' }]);
    expect((await repos.users.settings('u')).dmClosed).toBe(true);

    const dmOpens = rest.calls.filter((c) => c.route === '/users/@me/channels').length;
    const next = succeeded({ delivery: 'dm' });
    await drive(d.finish(next));
    expect(rest.calls.filter((c) => c.route === '/users/@me/channels')).toHaveLength(dmOpens);
    expect(rest.posts('dm-u')).toHaveLength(1);
    const [, second] = rest.posts('c');
    expect(mentioned(second)).toEqual(['u']);
    expect(content(second)).toContain(note);
  });
});

describe('retries', () => {
  it('after a Discord 5xx, a retry posts only what was not posted yet, with the same nonce', async () => {
    const d = delivery();
    const job = succeeded({ delivery: 'both' });
    rest.failNext('POST', '/channels/dm-u/messages', serverError());
    await expect(drive(d.finish(job))).rejects.toBeInstanceOf(HTTPError);
    const stored = await repos.jobs.get(job.id);
    expect(stored?.messages.results).toEqual([{ channelId: 'c', messageId: 'm1' }]);
    expect(stored?.deliveredAt).toBeUndefined();

    // another attempt (as the tracker makes it, from the stored job)
    await drive(d.finish(stored!));
    expect(rest.posts('c')).toHaveLength(1);
    const [failed, retried] = rest.posts('dm-u');
    expect(retried?.body.nonce).toBe(failed?.body.nonce);
    expect(stored?.messages.results).toEqual([
      { channelId: 'c', messageId: 'm1' },
      { channelId: 'dm-u', messageId: 'm2' },
    ]);
    expect((await repos.jobs.get(job.id))?.deliveredAt).toBeDefined();
  });

  it('posts once when finished twice at the same time (even from two copies of the job), and not at all once delivered', async () => {
    const d = delivery();
    const job = succeeded();
    await drive(Promise.all([d.finish(job), d.finish(structuredClone(job))]));
    expect(rest.posts('c')).toHaveLength(1);
    await drive(d.finish(job));
    await drive(d.finish((await repos.jobs.get(job.id))!));
    expect(rest.posts('c')).toHaveLength(1);
  });
});

describe("the interaction's own webhook (a rate bucket per token, beside the channel's)", () => {
  const HOOK = '/webhooks/app/tok';
  const withToken = (over: Partial<Job> = {}): Job =>
    makeJob({ interaction: { id: 'ix1', applicationId: 'app', token: 'tok', issuedAt: Date.now() }, ...over });

  it('carries progress, its edits and the result while the token lives; nothing is written in the channel', async () => {
    const d = delivery();
    const job = withToken();
    await d.begin(job);
    expect(job.messages.progress).toEqual({ channelId: 'c', messageId: 'm1', via: 'followup' });
    job.progress = 40;
    d.progress(job);
    await advance(INTERVAL);
    Object.assign(job, succeeded({ id: job.id, messages: job.messages, interaction: job.interaction }));
    await drive(d.finish(job));

    expect(rest.hookCalls()).toEqual([`POST ${HOOK}`, `PATCH ${HOOK}/messages/m1`, `POST ${HOOK}`, `DELETE ${HOOK}/messages/m1`]);
    expect(rest.posts('c')).toEqual([]);
    const result = rest.calls.filter((c) => c.method === 'POST')[1];
    expect(mentioned(result)).toEqual(['u']); // the owner is pinged once, as in the channel
    expect(result?.files).toBe(1);
    expect(job.messages.results).toEqual([{ channelId: 'c', messageId: 'm2', via: 'followup' }]);
  });

  it('is not used in the last minute of the token, nor for a DM the interaction was not in', async () => {
    const d = delivery();
    const old = withToken({ interaction: { id: 'ix1', applicationId: 'app', token: 'tok', issuedAt: Date.now() - 14.5 * 60_000 } });
    await drive(d.finish(Object.assign(old, succeeded({ id: old.id, interaction: old.interaction }))));
    const dm = withToken({ delivery: 'dm' });
    await drive(d.finish(Object.assign(dm, succeeded({ id: dm.id, delivery: 'dm', interaction: dm.interaction }))));
    expect(rest.hookCalls()).toEqual([]);
    expect(rest.posts('c')).toHaveLength(1);
    expect(rest.posts('dm-u')).toHaveLength(1);
  });

  it('hands over to the channel when Discord refuses the token (50027): the result is posted there, once', async () => {
    const d = delivery();
    const job = withToken();
    await d.begin(job);
    rest.failNext('POST', HOOK, discordError(50027, 401));
    Object.assign(job, succeeded({ id: job.id, messages: job.messages, interaction: job.interaction }));
    await drive(d.finish(job));
    expect(job.interaction?.ended).toBe(true);
    expect(rest.posts('c')).toHaveLength(1);
    expect(job.messages.results).toEqual([{ channelId: 'c', messageId: 'm2' }]);
    // the follow-up progress message is removed through the channel (the bot's own message)
    expect(rest.calls.at(-1)).toMatchObject({ method: 'DELETE', route: '/channels/c/messages/m1' });
  });

  it('posts a result follow-up once: an attempt whose answer was lost is looked up in the channel first', async () => {
    const d = delivery();
    const job = succeeded({ interaction: { id: 'ix1', applicationId: 'app', token: 'tok', issuedAt: Date.now() } });
    rest.failNext('POST', HOOK, serverError()); // Discord may or may not have posted it
    await expect(drive(d.finish(job))).rejects.toBeInstanceOf(HTTPError);
    const stored = (await repos.jobs.get(job.id))!;
    expect(stored.messages.followUpPending).toBe('c');

    // it had landed: the retry (from the stored job, as after a restart) finds it and posts nothing
    rest.history = [
      { id: 'm40', interaction_metadata: { id: 'someone else' } },
      { id: 'm41', interaction_metadata: { id: 'ix1' } },
    ];
    await drive(d.finish(stored));
    expect(rest.hookCalls().filter((c) => c.startsWith('POST'))).toHaveLength(1);
    expect(stored.messages.results).toEqual([{ channelId: 'c', messageId: 'm41', via: 'followup' }]);
    expect(stored.messages.followUpPending).toBeUndefined();
    expect((await repos.jobs.get(job.id))?.deliveredAt).toBeDefined();
  });

  it("waits for the interaction's reply before its first follow-up: a quick result never becomes the deferred (ephemeral) reply", async () => {
    const openReplies = new OpenReplies();
    openReplies.opened('tok'); // the handler has deferred, not yet answered
    const d = delivery({ openReplies });
    const job = succeeded({ interaction: { id: 'ix1', applicationId: 'app', token: 'tok', issuedAt: Date.now() } });
    const finished = d.finish(job);
    await advance(1000);
    expect(rest.hookCalls()).toEqual([]); // nothing yet: Discord would turn it into the loading reply
    openReplies.settle('tok');
    await drive(finished);
    expect(rest.hookCalls()).toEqual([`POST ${HOOK}`]);
    expect(job.messages.results).toEqual([{ channelId: 'c', messageId: 'm1', via: 'followup' }]);
  });

  it('posts again when the lost attempt is not in the channel', async () => {
    const d = delivery();
    const job = succeeded({ interaction: { id: 'ix1', applicationId: 'app', token: 'tok', issuedAt: Date.now() } });
    rest.failNext('POST', HOOK, serverError());
    await expect(drive(d.finish(job))).rejects.toBeInstanceOf(HTTPError);
    const stored = (await repos.jobs.get(job.id))!;
    await drive(d.finish(stored));
    expect(rest.hookCalls().filter((c) => c.startsWith('POST'))).toHaveLength(2);
    expect(stored.messages.results).toHaveLength(1);
  });
});

describe('a busy channel', () => {
  it('never sends a progress post that was still waiting for a slot when its job finished', async () => {
    const budget = new ChannelBudget();
    const d = delivery({ messenger: new Messenger(rest as unknown as REST, budget) });
    for (let i = 0; i < 5; i++) await budget.reserve('c'); // other jobs' results filled the window
    const job = makeJob();
    const begun = d.begin(job);
    Object.assign(job, succeeded({ id: job.id, messages: job.messages }));
    await drive(Promise.all([begun, d.finish(job)]));
    expect(rest.posts('c')).toHaveLength(1); // the result only
    expect(job.messages.progress).toBeUndefined();
    expect(job.messages.results).toEqual([{ channelId: 'c', messageId: 'm1' }]);
  });
});
