import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForResult } from '../support/discordHelpers.js';
import { freePort } from '../support/tmp.js';
import { World } from '../support/world.js';

/** With PUBLIC_URL set, the proxy's notifyHook callbacks drive updates; they are hints only, never trusted. */
describe('webhook mode (notifyHook)', () => {
  let world: World;
  let port: number;
  let hookUrl: string;

  beforeAll(async () => {
    port = await freePort();
    world = await World.start({
      proxy: { stepMs: 150 },
      // polling is only a slow safety sweep here: results must arrive through callbacks
      env: { PUBLIC_URL: `http://127.0.0.1:${port}`, HTTP_PORT: String(port), POLL_INTERVAL_MS: '20000', WEBHOOK_SAFETY_POLL_MS: '20000' },
      app: { httpPort: port },
    });
    hookUrl = String((world.proxy.requestsTo('/submit/imagine')[0]?.body as { notifyHook?: string } | undefined)?.notifyHook ?? '');
  });
  afterAll(async () => {
    await world?.close();
  });

  it('passes a notifyHook with an unguessable secret and delivers through callbacks, re-fetching (not trusting) the task', async () => {
    const { discord, proxy } = world;
    discord.slash({ name: 'imagine', options: { prompt: 'a comet over the sea' }, user: discord.alice });
    const result = await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes('comet'), timeoutMs: 10_000 });
    expect(result.attachments).toHaveLength(1);

    const hook = String((proxy.requestsTo('/submit/imagine')[0]!.body as { notifyHook: string }).notifyHook);
    expect(hook).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/hooks/mj/[A-Za-z0-9_-]{24,}$`));
    hookUrl = hook;
    expect(proxy.notifications.filter((n) => n.httpStatus === 200).length).toBeGreaterThanOrEqual(3);
    // the result came from a re-fetch of the task, not from the callback's body; progress callbacks are batched
    // into slower refreshes, so there are fewer fetches than callbacks
    const fetches = proxy.requests.filter((r) => r.route.includes('list-by-condition') || r.route.includes('/fetch'));
    expect(fetches.length).toBeGreaterThanOrEqual(1);
    expect(fetches.length).toBeLessThan(proxy.notifications.length);
  });

  it('ignores forged callbacks: no secret, a wrong secret, an unknown task, and a body that lies', async () => {
    const { discord, proxy } = world;
    const base = `http://127.0.0.1:${port}`;
    const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

    expect((await post(`${base}/hooks/mj`, { id: '1' })).status).toBe(404);
    expect((await post(`${base}/hooks/mj/wrong-secret`, { id: '1' })).status).toBe(403);
    const before = proxy.requests.length;
    expect((await post(hookUrl, { id: '9999999999999999', status: 'SUCCESS' })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    expect(proxy.requests.length).toBe(before); // an unknown task is not even fetched

    // a real in-flight task, and a callback claiming it succeeded with someone else's image
    proxy.pause();
    try {
      discord.slash({ name: 'imagine', options: { prompt: 'a lying callback' }, user: discord.alice });
      const task = await discord.waitFor(() => [...proxy.tasks.values()].find((t) => t.prompt === 'a lying callback'));
      const res = await post(hookUrl, { ...task, status: 'SUCCESS', progress: '100%', imageUrl: 'https://evil.example/x.png', buttons: [] });
      expect(res.status).toBe(200);
      await new Promise((r) => setTimeout(r, 500));
      const delivered = discord.allMessages().filter((m) => m.content.includes('a lying callback') && (m.attachments.length > 0 || m.content.includes('evil')));
      expect(delivered).toEqual([]); // the re-fetch showed the truth: still running
    } finally {
      proxy.resume();
    }
    const result = await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes('a lying callback'), timeoutMs: 10_000 });
    expect(result.content).not.toContain('evil');
    expect(result.attachments).toHaveLength(1);
  });

  it('caps callback bodies', async () => {
    const res = await fetch(hookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(512 * 1024) }).catch(
      (e: unknown) => e,
    );
    // the server refuses (413) or drops the connection; either way nothing is parsed
    if (res instanceof Response) expect(res.status).toBe(413);
    else expect(res).toBeInstanceOf(Error);
  });

  it('still delivers by the safety poll when the proxy never sends callbacks', async () => {
    const { discord, proxy } = world;
    await world.restart({ WEBHOOK_SAFETY_POLL_MS: '1000' });
    proxy.disableNotify();
    try {
      discord.slash({ name: 'imagine', options: { prompt: 'a silent proxy' }, user: discord.alice });
      const result = await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes('silent proxy'), timeoutMs: 10_000 });
      expect(result.attachments).toHaveLength(1);
    } finally {
      proxy.enableNotify();
    }
  });
});
