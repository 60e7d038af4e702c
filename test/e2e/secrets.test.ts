import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForResult } from '../support/discordHelpers.js';
import { BOT_TOKEN, PROXY_SECRET, World } from '../support/world.js';

/** The Discord token and the proxy secret never appear in logs, messages or errors, even when an upstream echoes them. */
describe('secrets', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.start({ proxy: { stepMs: 50 }, env: { LOG_LEVEL: 'trace' } });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('stay out of replies, Discord requests and logs when the proxy echoes them back', async () => {
    const { discord, proxy } = world;
    // the proxy puts the secret into error texts of every shape it has
    proxy.nextSubmitCode(4, `invalid header mj-api-secret: ${PROXY_SECRET}`);
    const a = discord.slash({ name: 'imagine', options: { prompt: 'echo one' }, user: discord.alice });
    await discord.waitFor(() => a.original()?.content);
    proxy.failNextRequests(
      1,
      { status: 500, body: `{"success":false,"code":-1,"message":"secret ${PROXY_SECRET} rejected"}`, contentType: 'application/json' },
      '/submit/imagine',
    );
    const b = discord.slash({ name: 'imagine', options: { prompt: 'echo two' }, user: discord.alice });
    await discord.waitFor(() => b.original()?.content);
    proxy.failNextTasks(1, `account token ${PROXY_SECRET} ${BOT_TOKEN} blocked`);
    discord.slash({ name: 'imagine', options: { prompt: 'echo three' }, user: discord.alice });
    await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes('echo three') });
    // and one ordinary job, so that every log path ran
    discord.slash({ name: 'imagine', options: { prompt: 'plain job' }, user: discord.alice });
    await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes('plain job') });

    expect(a.original()!.content).toContain('refused this request');
    expect(b.original()!.content.length).toBeGreaterThan(0);

    const everythingSentToDiscord = JSON.stringify(discord.calls.map((c) => c.body)) + JSON.stringify(discord.allMessages().map((m) => m.content));
    const logs = world.logs.text();
    expect(logs.length).toBeGreaterThan(1000);
    for (const secret of [PROXY_SECRET, BOT_TOKEN]) {
      expect(everythingSentToDiscord).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
    // the token did reach Discord in the Authorization header, and the secret reached the proxy: they were in use
    expect(proxy.requests.some((r) => JSON.stringify(r.headers).includes(PROXY_SECRET))).toBe(true);
  });
});
