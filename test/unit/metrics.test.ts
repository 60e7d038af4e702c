import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/jobs/model.js';
import { createLogger } from '../../src/log.js';
import { Metrics, circuitStates } from '../../src/metrics.js';
import { HttpClient, type HttpObservation } from '../../src/upstream/http.js';

const logger = createLogger({ level: 'silent', pretty: false });
const sources = { inFlightJobs: () => 3, gatewayConnected: () => true, circuits: () => ({ 'mj-proxy': 'closed', imgopen: 'open' }) };

let server: Server;
let base = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    res.writeHead(req.url === '/boom' ? 503 : 200);
    res.end('x');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('HttpClient observer', () => {
  it('sees every attempt: status, transport errors, open circuit; a throwing observer never breaks a call', async () => {
    const seen: HttpObservation[] = [];
    const http = new HttpClient({
      name: 'test-upstream',
      logger,
      retry: { retries: 0 },
      breaker: { threshold: 2, halfOpenAfterMs: 60_000 },
      observer: (o) => {
        seen.push(o);
        throw new Error('observer bug');
      },
    });
    try {
      expect((await http.requestJson({ method: 'GET', url: `${base}/ok` })).status).toBe(200);
      expect((await http.requestJson({ method: 'POST', url: `${base}/boom`, json: {} })).status).toBe(503);
      await expect(http.requestJson({ method: 'GET', url: 'http://127.0.0.1:9/' })).rejects.toMatchObject({ kind: 'unreachable' });
      // two consecutive failures opened the circuit: the next call is refused without an attempt
      await expect(http.requestJson({ method: 'GET', url: `${base}/ok` })).rejects.toMatchObject({ circuitOpen: true });
      expect(seen.map((o) => [o.upstream, o.method, o.status, o.error])).toEqual([
        ['test-upstream', 'GET', 200, undefined],
        ['test-upstream', 'POST', 503, undefined],
        ['test-upstream', 'GET', undefined, 'unreachable'],
        ['test-upstream', 'GET', undefined, 'circuit_open'],
      ]);
      for (const o of seen) expect(o.ms).toBeGreaterThanOrEqual(0);
    } finally {
      await http.close();
    }
  });
});

describe('Metrics', () => {
  it('counts into its own registry: two apps in one process never share numbers or clash on names', async () => {
    const a = new Metrics(sources, { defaultMetrics: false });
    const b = new Metrics(sources, { defaultMetrics: false });
    a.interaction('imagine', 'ok');
    a.interaction('imagine', 'ok');
    a.ack(420);
    const textA = (await a.render()).body;
    const textB = (await b.render()).body;
    expect(textA).toContain('mjrelay_interactions_total{command="imagine",outcome="ok"} 2');
    expect(textA).toContain('mjrelay_interaction_ack_seconds_bucket{le="0.5"} 1');
    expect(textB).not.toContain('outcome="ok"');
    expect(textB).toContain('mjrelay_interaction_ack_seconds_count 0');
  });

  it('upstream observations become requests by status class, errors by kind, and durations', async () => {
    const m = new Metrics(sources, { defaultMetrics: false });
    m.upstream({ upstream: 'mj-proxy', method: 'POST', status: 200, ms: 12 });
    m.upstream({ upstream: 'mj-proxy', method: 'POST', status: 502, ms: 30 });
    m.upstream({ upstream: 'mj-proxy', method: 'GET', error: 'timeout', ms: 5000 });
    const t = (await m.render()).body;
    expect(t).toContain('mjrelay_upstream_requests_total{upstream="mj-proxy",method="POST",status="2xx"} 1');
    expect(t).toContain('mjrelay_upstream_requests_total{upstream="mj-proxy",method="POST",status="5xx"} 1');
    expect(t).toContain('mjrelay_upstream_requests_total{upstream="mj-proxy",method="GET",status="error"} 1');
    expect(t).toContain('mjrelay_upstream_errors_total{upstream="mj-proxy",kind="http_5xx"} 1');
    expect(t).toContain('mjrelay_upstream_errors_total{upstream="mj-proxy",kind="timeout"} 1');
    expect(t).toContain('mjrelay_upstream_request_seconds_count{upstream="mj-proxy"} 3');
  });

  it('a delivery tried again after a failure counts its job once', async () => {
    const m = new Metrics(sources, { defaultMetrics: false });
    let failures = 2;
    const sink = m.countingSink({
      progress: () => undefined,
      finish: async () => {
        if (failures-- > 0) throw new Error('Discord answered 500');
      },
    });
    const job = { id: 'j1', provider: 'mj', status: 'succeeded' } as Job;
    for (let attempt = 0; attempt < 3; attempt++) await sink.finish(job).catch(() => undefined);
    expect((await m.render()).body).toContain('mjrelay_jobs_finished_total{provider="mj",status="succeeded"} 1');
  });

  it('gauges read their sources at scrape time; the tracker sink counts final statuses; Discord 429s by scope', async () => {
    const m = new Metrics(sources, { defaultMetrics: false });
    const finished: string[] = [];
    const sink = m.countingSink({ progress: () => undefined, finish: async (job) => void finished.push(job.id) });
    await sink.finish({ id: 'j1', provider: 'mj', status: 'succeeded' } as Job);
    await sink.finish({ id: 'j2', provider: 'mj', status: 'failed' } as Job);
    m.jobFinished({ provider: 'picwish', status: 'failed' }, true);
    m.discordResponse({ status: 429, headers: new Headers({ 'x-ratelimit-scope': 'shared' }) });
    m.discordResponse({ status: 200, headers: new Headers() });
    m.rateLimited({ scope: 'user', global: false });
    const t = (await m.render()).body;
    expect(finished).toEqual(['j1', 'j2']);
    expect(t).toContain('mjrelay_jobs_finished_total{provider="mj",status="succeeded"} 1');
    expect(t).toContain('mjrelay_jobs_finished_total{provider="mj",status="failed"} 1');
    expect(t).toContain('mjrelay_jobs_finished_total{provider="picwish",status="submit_failed"} 1');
    expect(t).toContain('mjrelay_discord_429_total{scope="shared"} 1');
    expect(t).toContain('mjrelay_discord_rate_limited_total{scope="user",global="false"} 1');
    expect(t).toContain('mjrelay_jobs_in_flight 3');
    expect(t).toContain('mjrelay_gateway_connected 1');
    expect(t).toContain('mjrelay_upstream_circuit_open{upstream="mj-proxy"} 0');
    expect(t).toContain('mjrelay_upstream_circuit_open{upstream="imgopen"} 1');
  });

  it('circuitStates reads every registered upstream', () => {
    expect(circuitStates({ a: { circuitState: () => 'closed' }, b: { circuitState: () => 'half-open' } })).toEqual({ a: 'closed', b: 'half-open' });
  });
});
