// Per-route rate-limit buckets (fixed windows) and the global per-bot limit, with
// Discord's headers. Buckets are keyed by bucket hash + major parameter (channel, guild,
// or webhook id + token), the same way @discordjs/rest keys its queues.
import type { RateLimitHit, RateLimitRule } from './types.js';

export interface RateLimitDecision {
  /** Headers to add to the (successful) response. */
  headers: Record<string, string>;
  /** Set when the request must be answered with 429. */
  limited?: {
    scope: 'user' | 'global' | 'shared';
    retryAfterMs: number;
    bucket: string;
    headers: Record<string, string>;
    body: { message: string; retry_after: number; global: boolean; code?: number };
  };
}

interface Window {
  count: number;
  resetAt: number;
}

interface CompiledRule extends Required<Omit<RateLimitRule, 'routePattern'>> {
  match: (method: string, path: string, route: string) => boolean;
  /** Built-in rules apply only when rate limits are enabled; runtime rules always apply. */
  builtIn: boolean;
  key: string | null;
}

/** Channel message create + edit share one bucket per channel (observed ~5 / 5 s). */
export const DEFAULT_RULES: RateLimitRule[] = [
  { routePattern: 'POST /channels/:id/messages', limit: 5, windowMs: 5000, bucket: 'fake-channel-messages' },
  { routePattern: 'PATCH /channels/:id/messages/:id', limit: 5, windowMs: 5000, bucket: 'fake-channel-messages' },
  // Interaction-token webhooks: observed ~5 / 2 s per token.
  { routePattern: /^\w+ \/webhooks\/\d{17,19}\/[^/]+/, limit: 5, windowMs: 2000, bucket: 'fake-interaction-webhook' },
];

export const GLOBAL_LIMIT_PER_SECOND = 50;

function compile(rule: RateLimitRule, index: number, builtIn: boolean): CompiledRule {
  const p = rule.routePattern;
  let match: CompiledRule['match'];
  if (p instanceof RegExp) {
    match = (method, path) => {
      p.lastIndex = 0;
      return p.test(`${method} ${path}`);
    };
  } else if (/^[A-Z]+ /.test(p)) {
    match = (_m, _p, route) => route === p;
  } else {
    match = (_m, _p, route) => route.slice(route.indexOf(' ') + 1) === p;
  }
  return {
    match,
    limit: rule.limit,
    windowMs: rule.windowMs,
    bucket: rule.bucket ?? `fake-bucket-${index}`,
    scope: rule.scope ?? 'user',
    builtIn,
    key: typeof p === 'string' ? p : null,
  };
}

/** The major parameter @discordjs/rest uses for a path. */
export function majorParameter(path: string): string {
  const m = /(?:^\/webhooks\/(\d{17,19}\/[^/?]+))|(?:^\/(?:channels|guilds|webhooks)\/(\d{17,19}))/.exec(path);
  return m?.[2] ?? m?.[1] ?? 'global';
}

export class RateLimiter {
  private rules: CompiledRule[] = [];
  private readonly windows = new Map<string, Window>();
  private globalWindow: Window = { count: 0, resetAt: 0 };
  private ruleCount = 0;
  readonly hits: RateLimitHit[] = [];

  constructor(
    public enabled: boolean,
    private readonly now: () => number = Date.now,
  ) {
    this.rules = DEFAULT_RULES.map((r) => compile(r, this.ruleCount++, true));
  }

  /** Adds a runtime rule (always active, checked before the built-in ones; replaces one with the same string pattern). */
  add(rule: RateLimitRule): void {
    const compiled = compile(rule, this.ruleCount++, false);
    if (compiled.key !== null) this.rules = this.rules.filter((r) => r.builtIn || r.key !== compiled.key);
    this.rules.unshift(compiled);
  }

  reset(): void {
    this.windows.clear();
    this.globalWindow = { count: 0, resetAt: 0 };
  }

  private tick(w: Window, windowMs: number, t: number): void {
    if (t >= w.resetAt) {
      w.count = 0;
      w.resetAt = t + windowMs;
    }
  }

  /**
   * Accounts one request. `authenticated` requests count against the global limit;
   * interaction callbacks must not be passed here at all.
   */
  check(method: string, path: string, route: string, authenticated: boolean): RateLimitDecision {
    const t = this.now();
    if (authenticated && this.enabled) {
      this.tick(this.globalWindow, 1000, t);
      if (this.globalWindow.count >= GLOBAL_LIMIT_PER_SECOND) {
        const retryAfterMs = this.globalWindow.resetAt - t;
        return this.limited(method, path, route, 'global', 'global', retryAfterMs, {});
      }
    }
    const rule = this.rules.find((r) => (this.enabled || !r.builtIn) && r.match(method, path, route));
    if (!rule) {
      if (authenticated && this.enabled) this.globalWindow.count++;
      return { headers: {} };
    }
    const key = `${rule.bucket}:${majorParameter(path)}`;
    let w = this.windows.get(key);
    if (!w) {
      w = { count: 0, resetAt: 0 };
      this.windows.set(key, w);
    }
    this.tick(w, rule.windowMs, t);
    const resetAfterMs = Math.max(0, w.resetAt - t);
    const headers: Record<string, string> = {
      'X-RateLimit-Limit': String(rule.limit),
      'X-RateLimit-Remaining': '0',
      'X-RateLimit-Reset': (w.resetAt / 1000).toFixed(3),
      'X-RateLimit-Reset-After': (resetAfterMs / 1000).toFixed(3),
      'X-RateLimit-Bucket': rule.bucket,
    };
    if (w.count >= rule.limit) {
      return this.limited(method, path, route, rule.scope, rule.bucket, resetAfterMs, headers);
    }
    w.count++;
    if (authenticated && this.enabled) this.globalWindow.count++;
    headers['X-RateLimit-Remaining'] = String(rule.limit - w.count);
    return { headers };
  }

  private limited(
    method: string,
    path: string,
    route: string,
    scope: 'user' | 'global' | 'shared',
    bucket: string,
    retryAfterMs: number,
    routeHeaders: Record<string, string>,
  ): RateLimitDecision {
    const retryAfterSec = Math.max(0.001, retryAfterMs / 1000);
    const headers: Record<string, string> = {
      ...routeHeaders,
      'Retry-After': String(Math.max(1, Math.ceil(retryAfterSec))),
      'X-RateLimit-Scope': scope,
    };
    if (scope === 'global') headers['X-RateLimit-Global'] = 'true';
    this.hits.push({ method, path, route, bucket, scope, retryAfterMs, at: this.now() });
    return {
      headers: {},
      limited: {
        scope,
        retryAfterMs,
        bucket,
        headers,
        body: {
          message: scope === 'global' ? 'You are being rate limited.' : 'You are being rate limited.',
          retry_after: Number(retryAfterSec.toFixed(3)),
          global: scope === 'global',
        },
      },
    };
  }
}
