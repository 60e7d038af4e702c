import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeInteraction } from '../fakes/discord/index.js';
import { waitForResult } from '../support/discordHelpers.js';
import { World } from '../support/world.js';

/**
 * The proxy misbehaves in every way the contract allows. The bot stays up, acknowledges within 3 s,
 * ends every job with a clear message, and never resubmits blindly.
 */
describe('upstream faults', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.start({ proxy: { stepMs: 60 }, env: { UPSTREAM_TIMEOUT_MS: '700', JOB_TIMEOUT_MS: '3000', QUEUE_BACKOFF_MS: '300' } });
  });
  afterAll(async () => {
    await world?.close();
  });

  let n = 0;
  /** Run /imagine and return the interaction, once its ephemeral reply has text. */
  async function imagine(prompt: string): Promise<{ ix: FakeInteraction; reply: string; submits: number; tag: string }> {
    const tag = `${prompt} #${++n}`;
    const before = world.proxy.requestsTo('/submit/imagine').length;
    const ix = world.discord.slash({ name: 'imagine', options: { prompt: tag }, user: world.discord.alice });
    const ack = await ix.firstCallback(3000);
    expect(ack.type).toBe(5);
    expect(ack.latencyMs).toBeLessThan(3000);
    const reply = await world.discord.waitFor(() => ix.original()?.content || undefined, { timeoutMs: 8000 });
    return { ix, reply, submits: world.proxy.requestsTo('/submit/imagine').length - before, tag };
  }

  it('a 5xx on submit: a clear message, submitted once', async () => {
    world.proxy.failNextRequests(1, { status: 502, body: 'Bad Gateway', contentType: 'text/plain' }, '/submit/imagine');
    const r = await imagine('five hundred');
    expect(r.reply).toMatch(/couldn't read|can't reach|could not finish/);
    expect(r.submits).toBe(1);
  });

  it('a hang past the timeout: "can\'t reach" after the timeout, submitted once', async () => {
    world.proxy.hangNext(1, '/submit/imagine');
    const started = Date.now();
    const r = await imagine('hanging');
    expect(r.reply).toMatch(/can't reach the image service/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(r.submits).toBe(1);
  });

  it('a connection reset: "can\'t reach", submitted once', async () => {
    world.proxy.resetNext(1, '/submit/imagine');
    const r = await imagine('reset');
    expect(r.reply).toMatch(/can't reach the image service/);
    expect(r.submits).toBe(1);
  });

  it('invalid JSON and a wrong content type: "an answer I couldn\'t read"', async () => {
    world.proxy.invalidJsonNext(1, '/submit/imagine');
    expect((await imagine('invalid json')).reply).toMatch(/couldn't read/);
    world.proxy.wrongContentTypeNext(1, '/submit/imagine');
    expect((await imagine('html page')).reply).toMatch(/couldn't read/);
  });

  it('every business code becomes its own message', async () => {
    // the upstream's queue full (code 23, or a code 9 that says so): the job waits in the bot's queue and goes later
    for (const [code, description] of [
      [23, undefined],
      [9, '提交失败，队列已满，请稍后重试'],
    ] as const) {
      world.proxy.nextSubmitCode(code, description);
      const r = await imagine(`code ${code}`);
      expect(r.reply, `code ${code}`).toMatch(/is queued/);
      const end = await waitForResult(world.discord, world.discord.channel.id, { match: (m) => m.content.includes(r.tag), timeoutMs: 10_000 });
      expect(end.attachments, `code ${code}`).toHaveLength(1);
    }
    const cases: [number, string | undefined, RegExp][] = [
      [3, '无可用的账号实例', /No Midjourney account is available/],
      [4, 'prompt contains unsupported parameter', /refused this request: prompt contains unsupported parameter/],
      [24, undefined, /does not allow/],
    ];
    for (const [code, description, expected] of cases) {
      world.proxy.nextSubmitCode(code, description);
      const r = await imagine(`code ${code}`);
      expect(r.reply, `code ${code}`).toMatch(expected);
    }
  });

  it('a task stuck past the job timeout ends with a message, and the progress display stops', async () => {
    world.proxy.stickNext(1);
    const r = await imagine('stuck forever');
    expect(r.reply).toContain('accepted');
    const end = await waitForResult(world.discord, world.discord.channel.id, { match: (m) => m.content.includes(r.tag), timeoutMs: 10_000 });
    expect(end.content).toMatch(/took longer than 3 seconds/);
    expect(end.pingedUserIds).toEqual([world.discord.alice.id]);
    const progress = world.discord.allMessages().filter((m) => m.content.includes(r.tag) && m.id !== end.id);
    await world.discord.waitFor(() => progress.every((m) => m.deleted));
  });

  it('a FAILURE with a reason is told to the user', async () => {
    world.proxy.failNextTasks(1, '[Invalid parameter] Invalid value for --ar');
    const r = await imagine('bad ratio');
    const end = await waitForResult(world.discord, world.discord.channel.id, { match: (m) => m.content.includes(r.tag) });
    expect(end.content).toMatch(/did not accept a parameter/);
    expect(end.content).toContain('Invalid value for --ar');
  });

  it('failing polls do not lose the job', async () => {
    world.proxy.failNextRequests(4, { status: 500 }, 'list-by-condition');
    const r = await imagine('flaky polls');
    const end = await waitForResult(world.discord, world.discord.channel.id, { match: (m) => m.content.includes(r.tag) });
    expect(end.attachments).toHaveLength(1);
  });

  it('when the proxy is down, says so at once instead of timing out every user in turn (circuit breaker)', async () => {
    await world.proxy.down();
    try {
      for (let i = 0; i < 5; i++) expect((await imagine('proxy down')).reply).toMatch(/can't reach/);
      const started = Date.now();
      const r = await imagine('circuit open');
      expect(r.reply).toMatch(/can't reach/);
      expect(Date.now() - started).toBeLessThan(500);
      expect(world.app.services.mj.circuitState()).toBe('open');
    } finally {
      await world.proxy.up();
    }
    expect(world.app.client.isReady()).toBe(true);
  });
});
