import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForResult } from '../support/discordHelpers.js';
import { World } from '../support/world.js';

/** Sum of every sample of `name` whose labels include all of `labels`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) {
      sum += Number(m[4]);
      seen = true;
    }
  }
  return seen ? sum : NaN;
}

async function get(port: number, path: string): Promise<{ status: number; contentType: string; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() };
}

describe('/metrics and /healthz on the bot’s HTTP server', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.start();
  });
  afterAll(async () => {
    await world?.close();
  });

  it('after an /imagine run, /metrics exposes interactions, ack latency, jobs, upstream requests, Discord 429s and in-flight jobs', async () => {
    const { discord } = world;
    // one real 429 from Discord on the first post (progress or result, a channel message or a follow-up); discord.js waits and retries
    discord.failNext({
      method: 'POST',
      pathPattern: /^\/(channels\/\d+\/messages|webhooks\/\d+\/[^/]+)$/,
      status: 429,
      code: 0,
      message: 'You are being rate limited.',
      retryAfterSec: 1,
    });

    const started = Date.now();
    const ok = discord.slash({ name: 'imagine', options: { prompt: 'a lighthouse at dusk' }, user: discord.alice });
    await ok.firstCallback(3000);
    await waitForResult(discord, discord.channel.id, { after: started, timeoutMs: 20_000 });
    await world.app.services.tracker.idle();

    // a prompt the proxy refuses at submit (code 24)
    const banned = discord.slash({ name: 'imagine', options: { prompt: 'a forbidden-word here' }, user: discord.bob });
    await banned.firstCallback(3000);
    await discord.waitFor(() => banned.original()?.content, { timeoutMs: 5000 });

    // the outcome is counted once the handler returns, just after the reply reached Discord
    let m = await get(world.app.httpPort, '/metrics');
    for (let i = 0; i < 50 && !(sample(m.text, 'mjrelay_interactions_total', { outcome: 'user_error' }) >= 1); i++) {
      await new Promise((r) => setTimeout(r, 100));
      m = await get(world.app.httpPort, '/metrics');
    }
    expect(m.status).toBe(200);
    expect(m.contentType).toContain('text/plain');
    const t = m.text;

    expect(sample(t, 'mjrelay_interactions_total', { command: 'imagine', outcome: 'ok' })).toBe(1);
    expect(sample(t, 'mjrelay_interactions_total', { command: 'imagine', outcome: 'user_error' })).toBe(1);
    expect(sample(t, 'mjrelay_interaction_ack_seconds_count')).toBe(2);
    expect(sample(t, 'mjrelay_interaction_ack_seconds_bucket', { le: '3' })).toBe(2); // both inside Discord's 3 s
    expect(sample(t, 'mjrelay_jobs_finished_total', { provider: 'mj', status: 'succeeded' })).toBe(1);
    expect(sample(t, 'mjrelay_jobs_finished_total', { provider: 'mj', status: 'submit_failed' })).toBe(1);
    expect(sample(t, 'mjrelay_upstream_requests_total', { upstream: 'mj-proxy', status: '2xx' })).toBeGreaterThanOrEqual(3); // 2 submits + polls
    expect(sample(t, 'mjrelay_upstream_request_seconds_count', { upstream: 'mj-proxy' })).toBeGreaterThanOrEqual(3);
    expect(sample(t, 'mjrelay_discord_429_total')).toBe(1);
    expect(sample(t, 'mjrelay_jobs_in_flight')).toBe(0);
    expect(sample(t, 'mjrelay_gateway_connected')).toBe(1);
    expect(sample(t, 'mjrelay_upstream_circuit_open', { upstream: 'mj-proxy' })).toBe(0);
    // process metrics come from this app's own registry, with the same prefix
    expect(sample(t, 'mjrelay_process_cpu_user_seconds_total')).toBeGreaterThan(0);
  }, 40_000);

  it('/healthz is 200 while the gateway is connected, and 503 once it goes away', async () => {
    const port = world.app.httpPort;
    const healthy = await get(port, '/healthz');
    expect(healthy.status).toBe(200);
    expect(JSON.parse(healthy.text)).toEqual({ ok: true, checks: { gateway: true, store: true, upstream: { 'mj-proxy': 'closed' }, inFlightJobs: 0 } });

    world.discord.stopGateway();
    let last = healthy;
    await world.discord.waitFor(async () => (last = await get(port, '/healthz')).status === 503, { timeoutMs: 10_000 });
    expect(last.status).toBe(503);
    expect(JSON.parse(last.text)).toMatchObject({ ok: false, checks: { gateway: false, store: true } });
    expect(sample((await get(port, '/metrics')).text, 'mjrelay_gateway_connected')).toBe(0);

    // the client reconnects by itself once the gateway is back
    world.discord.startGateway();
    await world.discord.waitFor(async () => (await get(port, '/healthz')).status === 200, { timeoutMs: 10_000 });
  }, 30_000);
});
