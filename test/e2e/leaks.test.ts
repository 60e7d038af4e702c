import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePng } from '../fakes/images.js';
import { waitForResult } from '../support/discordHelpers.js';
import { BOT_TOKEN, PROXY_SECRET, World } from '../support/world.js';

const PICWISH_KEY = 'fake-picwish-key-leak-test';

/**
 * An upstream that echoes another provider's secret (or the run-time callback secret) in a FAILURE reason or an
 * error body: none of them reaches Discord or the logs. Prompts that carry markdown cannot pose as the bot's layout.
 */
describe('leaks', () => {
  let world: World;
  let hookSecret: string;
  beforeAll(async () => {
    world = await World.start({ proxy: { stepMs: 50 }, picwish: { stepMs: 50, apiKeys: [PICWISH_KEY] }, env: { LOG_LEVEL: 'trace' } });
    hookSecret = (await world.app.services.repos.meta.get<string>('hook-secret'))!;
  });
  afterAll(async () => {
    await world?.close();
  });

  const sentToDiscord = () =>
    JSON.stringify(world.discord.calls.map((c) => c.body)) + JSON.stringify(world.discord.allMessages().map((m) => [m.content, m.edits]));

  /** Which secret leaked where (empty when none did). */
  function leaks(): string[] {
    const places = { discord: sentToDiscord(), logs: world.logs.text() };
    const secrets = { picwishKey: PICWISH_KEY, discordToken: BOT_TOKEN, proxySecret: PROXY_SECRET, hookSecret };
    return Object.entries(places).flatMap(([place, text]) =>
      Object.entries(secrets)
        .filter(([, s]) => text.includes(s))
        .map(([name]) => `${name} in ${place}`),
    );
  }

  it("keeps other providers' secrets out of a proxy FAILURE reason, in Discord and in the logs", async () => {
    const { discord, proxy } = world;
    expect(hookSecret.length).toBeGreaterThan(10);
    proxy.failNextTasks(1, `render crashed with key=${PICWISH_KEY} auth=${BOT_TOKEN} hook=${hookSecret}`);
    discord.slash({ name: 'imagine', options: { prompt: 'leaky failure' }, user: discord.alice });
    const failed = await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes('leaky failure') });
    expect(failed.content).toContain('❌');
    expect(failed.content).toContain('render crashed'); // the reason is still shown, without the secrets
    expect(failed.content).toContain('[redacted]');
    expect(leaks()).toEqual([]);
  });

  it("keeps other providers' secrets out of a proxy error body", async () => {
    const { discord, proxy } = world;
    proxy.failNextRequests(
      1,
      { status: 400, body: `bad request: picwish ${PICWISH_KEY} discord ${BOT_TOKEN} hook ${hookSecret}`, contentType: 'text/plain' },
      '/submit/imagine',
    );
    const ix = discord.slash({ name: 'imagine', options: { prompt: 'leaky body' }, user: discord.alice });
    const reply = await discord.waitFor(() => ix.original()?.content || undefined);
    expect(reply).toContain('bad request');
    expect(leaks()).toEqual([]);
  });

  it('keeps the proxy secret and the Discord token out of a PicWish error', async () => {
    const { discord } = world;
    world.picwish!.failNext(1, { status: 400, message: `bad input; proxy ${PROXY_SECRET} token ${BOT_TOKEN} hook ${hookSecret}`, on: 'create' });
    const ix = discord.slash({
      name: 'tools',
      subcommand: 'remove-background',
      options: { image: { attachment: { name: 'in.png', bytes: makePng(64, 48, { seed: 7 }) } } } as never,
    });
    const reply = await discord.waitFor(() => ix.original()?.content || undefined);
    expect(reply).toContain('bad input');
    expect(leaks()).toEqual([]);
  });

  /** Markdown in a bot message that would render as a masked link, an autolink or a line-level layout element. */
  function renderable(content: string, opts: { lineLevel: boolean }): string[] {
    const found: string[] = [];
    if (/(?<!\\)\[[^\n]*?(?<!\\)\]\(\s*<?https?:/.test(content)) found.push('masked link');
    if (/(?<!\\)<https?:\/\//.test(content)) found.push('autolink');
    if (opts.lineLevel && /^[ \t]*(#{1,3}|-#|>|[-+*]|\d+\.)[ \t]/m.test(content)) found.push('line-level markdown');
    return found;
  }

  it('shows a prompt with a masked link and a heading without rendering either, in progress and in the result', async () => {
    const { discord } = world;
    const prompt = 'a harbour [click here](https://evil.example) at dawn\n# BIG\n> quoted\n- listed <https://evil.example/auto>';
    discord.slash({ name: 'imagine', options: { prompt }, user: discord.alice });
    const result = await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes('a harbour') && m.attachments.length > 0 });
    const progress = discord.allMessages().filter((m) => m.content.includes('a harbour') && m.attachments.length === 0);
    expect(progress.length).toBeGreaterThan(0);
    for (const m of [result, ...progress]) {
      for (const text of [m.content, ...m.edits.map((e) => String((e.body as { content?: string }).content ?? ''))])
        expect(renderable(text, { lineLevel: true })).toEqual([]);
    }
    // still readable: the words and the address are all there
    expect(result.content).toContain('click here');
    expect(result.content).toContain('https://evil.example');
    expect(result.content).toContain('BIG');
  });

  it('shows /shorten candidates that echo a masked link without rendering it', async () => {
    const { discord } = world;
    discord.slash({ name: 'shorten', options: { prompt: '[click here](https://evil.example) red boat' }, user: discord.alice });
    const result = await discord.waitFor(() => discord.allMessages().find((m) => m.content.includes('1️⃣') && m.content.includes('evil.example')), {
      timeoutMs: 15_000,
    });
    expect(renderable(result.content, { lineLevel: false })).toEqual([]);
    expect(result.content).toContain('click here');
  });
});
