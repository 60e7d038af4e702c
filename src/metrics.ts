// Prometheus metrics for one bot instance. Every instrument lives in a Registry created here and passed around
// explicitly (never prom-client's global default registry), so two apps in one process never mix their numbers.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { InteractionOutcome } from './discord/interactions/dispatcher.js';
import type { Job } from './jobs/model.js';
import type { JobSink } from './jobs/tracker.js';
import type { HttpObservation } from './upstream/http.js';

export const METRIC_PREFIX = 'mjrelay_';

/** Live values read when /metrics is scraped. */
export interface MetricsSources {
  inFlightJobs(): number;
  gatewayConnected(): boolean;
  /** circuit state per upstream name, e.g. { 'mj-proxy': 'closed' } */
  circuits(): Record<string, string>;
  /** jobs waiting in and running through the servers' fair queues (every process's, from the store) */
  queues?(): Promise<{ waiting: number; running: number }>;
}

export class Metrics {
  readonly registry: Registry;
  readonly interactions: Counter<'command' | 'outcome'>;
  readonly ackLatency: Histogram;
  readonly jobsFinished: Counter<'provider' | 'status'>;
  readonly upstreamRequests: Counter<'upstream' | 'method' | 'status'>;
  readonly upstreamErrors: Counter<'upstream' | 'kind'>;
  readonly upstreamDuration: Histogram<'upstream'>;
  readonly discordRateLimited: Counter<'scope' | 'global'>;
  readonly discord429: Counter<'scope'>;

  constructor(sources: MetricsSources, opts: { registry?: Registry; defaultMetrics?: boolean } = {}) {
    const registry = opts.registry ?? new Registry();
    this.registry = registry;
    const registers = [registry];
    const p = METRIC_PREFIX;

    this.interactions = new Counter({
      name: `${p}interactions_total`,
      help: 'Interactions handled, by command (or component route) and outcome (ok, user_error, error, expired, refused)',
      labelNames: ['command', 'outcome'],
      registers,
    });
    this.ackLatency = new Histogram({
      name: `${p}interaction_ack_seconds`,
      help: "Time from an interaction's creation to our acknowledgement (Discord allows 3 s)",
      buckets: [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 5],
      registers,
    });
    this.jobsFinished = new Counter({
      name: `${p}jobs_finished_total`,
      help: 'Jobs that reached a final status, by provider and status (succeeded, failed, cancelled, submit_failed)',
      labelNames: ['provider', 'status'],
      registers,
    });
    this.upstreamRequests = new Counter({
      name: `${p}upstream_requests_total`,
      help: 'HTTP requests to upstream APIs, by upstream, method and status class (2xx, 4xx, 5xx, or error when no answer came)',
      labelNames: ['upstream', 'method', 'status'],
      registers,
    });
    this.upstreamErrors = new Counter({
      name: `${p}upstream_errors_total`,
      help: 'Upstream requests that failed: transport errors by kind (unreachable, timeout, circuit_open, too_large, bad_response, invalid_request) and http_5xx',
      labelNames: ['upstream', 'kind'],
      registers,
    });
    this.upstreamDuration = new Histogram({
      name: `${p}upstream_request_seconds`,
      help: 'Duration of upstream HTTP requests (one attempt)',
      labelNames: ['upstream'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.discordRateLimited = new Counter({
      name: `${p}discord_rate_limited_total`,
      help: 'Discord REST requests held back by a rate limit (discord.js "rateLimited" events), by scope',
      labelNames: ['scope', 'global'],
      registers,
    });
    this.discord429 = new Counter({
      name: `${p}discord_429_total`,
      help: 'HTTP 429 answers received from Discord, by X-RateLimit-Scope',
      labelNames: ['scope'],
      registers,
    });
    new Gauge({
      name: `${p}jobs_in_flight`,
      help: 'Jobs the tracker is following right now',
      registers,
      collect() {
        this.set(sources.inFlightJobs());
      },
    });
    new Gauge({
      name: `${p}queue_jobs`,
      help: "Midjourney jobs in the servers' fair queues: waiting for their turn, or running (all processes)",
      labelNames: ['state'],
      registers,
      async collect() {
        const q = await sources.queues?.().catch(() => undefined);
        if (!q) return;
        this.set({ state: 'waiting' }, q.waiting);
        this.set({ state: 'running' }, q.running);
      },
    });
    new Gauge({
      name: `${p}gateway_connected`,
      help: '1 when every gateway shard is connected and ready',
      registers,
      collect() {
        this.set(sources.gatewayConnected() ? 1 : 0);
      },
    });
    new Gauge({
      name: `${p}upstream_circuit_open`,
      help: "1 when an upstream's circuit breaker is open (or half-open): calls fail fast",
      labelNames: ['upstream'],
      registers,
      collect() {
        this.reset();
        for (const [upstream, state] of Object.entries(sources.circuits())) this.set({ upstream }, state === 'closed' ? 0 : 1);
      },
    });
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: p });
  }

  interaction(command: string, outcome: InteractionOutcome): void {
    this.interactions.inc({ command, outcome });
  }

  ack(ms: number): void {
    this.ackLatency.observe(Math.max(0, ms) / 1000);
  }

  /** A job reached a final status (delivered by the tracker, or refused at submit). */
  jobFinished(job: Pick<Job, 'provider' | 'status'>, submitFailed = false): void {
    this.jobsFinished.inc({ provider: job.provider, status: submitFailed ? 'submit_failed' : job.status });
  }

  /** HttpClient observer: one call per attempt. */
  upstream(o: HttpObservation): void {
    const status = o.status === undefined ? 'error' : `${Math.floor(o.status / 100)}xx`;
    this.upstreamRequests.inc({ upstream: o.upstream, method: o.method, status });
    this.upstreamDuration.observe({ upstream: o.upstream }, o.ms / 1000);
    if (o.error) this.upstreamErrors.inc({ upstream: o.upstream, kind: o.error });
    else if (o.status !== undefined && o.status >= 500) this.upstreamErrors.inc({ upstream: o.upstream, kind: 'http_5xx' });
  }

  rateLimited(info: { scope?: string; global?: boolean }): void {
    this.discordRateLimited.inc({ scope: info.scope ?? 'user', global: String(Boolean(info.global)) });
  }

  /** @discordjs/rest "response" event: counts the 429s Discord actually sent. */
  discordResponse(res: { status: number; headers: { get(name: string): string | null } }): void {
    if (res.status === 429) this.discord429.inc({ scope: res.headers.get('x-ratelimit-scope') ?? 'user' });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** The tracker's sink, counting every job it finishes (results, upstream failures, timeouts, restarts). */
  countingSink(sink: JobSink): JobSink {
    return {
      progress: (job) => sink.progress(job),
      // counted once the delivery went through: a delivery that failed is tried again and must not count twice
      finish: async (job) => {
        await sink.finish(job);
        this.jobFinished(job);
      },
    };
  }
}

/** Circuit state of every upstream client registered so far. */
export function circuitStates(upstreams: Record<string, { circuitState(): string }>): Record<string, string> {
  return Object.fromEntries(Object.entries(upstreams).map(([name, u]) => [name, u.circuitState()]));
}
