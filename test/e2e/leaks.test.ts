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

  const sentToDiscord = () => JSON.stringify(world.discord.calls.map((c) => c.body)) + JSON.stringify(world.discord.allMessages().map((m) => [m.content, m.edits]));

  /** Which secret leaked where (empty when none did). */
  function leaks(): string[] {
    const places = { discord: sentToDiscord(), logs: world.logs.text() };
    const secrets = { picwishKey: PICWISH_KEY, discordToken: BOT_TOKEN, proxySecret: PROXY_SECRET, hookSecret };
    return Object.entries(places).flatMap(([place, text]) => Object.entries(secrets).filter(([, s]) => text.includes(s)).map(([name]) => `${name} in ${place}`));
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
    proxy.failNextRequests(1, { status: 400, body: `bad request: picwish ${PICWISH_KEY} discord ${BOT_TOKEN} hook ${hookSecret}`, contentType: 'text/plain' }, '/submit/imagine');
    const ix = discord.slash({ name: 'imagine', options: { prompt: 'leaky body' }, user: discord.alice });
    const reply = await discord.waitFor(() => ix.original()?.content || undefined);
    expect(reply).toContain('bad request');
    expect(leaks()).toEqual([]);
  });

  it("keeps the proxy secret and the Discord token out of a PicWish error", async () => {
    const { discord } = world;
    world.picwish!.failNext(1, { status: 400, message: `bad input; proxy ${PROXY_SECRET} token ${BOT_TOKEN} hook ${hookSecret}`, on: 'create' });
    const ix = discord.slash({ name: 'tools', subcommand: 'remove-background', options: { image: { attachment: { name: 'in.png', bytes: makePng(64, 48, { seed: 7 }) } } } as never });
    const reply = await discord.waitFor(() => ix.original()?.content || undefined);
    expect(reply).toContain('bad input');
    expect(leaks()).toEqual([]);
  });
});
