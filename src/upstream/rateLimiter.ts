// A per-key request limiter: at most `perWindow` requests may *start* within any `windowMs`.
//
// It is a token bucket of `perWindow` tokens in which each token comes back exactly one window (plus a
// safety margin) after it was spent. A classic refill-at-a-rate bucket would let 3 requests start inside
// one second at 2/s (two from the full bucket, one refilled half-way), which a vendor counting QPS per
// second rejects; this one never does. Waiters are served first-come first-served from a bounded queue,
// and each wait can be cancelled with an AbortSignal. One timer at most, only while someone waits.

export type RateLimiterErrorReason = 'queue-full' | 'aborted' | 'closed';

export class RateLimiterError extends Error {
  readonly reason: RateLimiterErrorReason;
  constructor(reason: RateLimiterErrorReason, message: string) {
    super(message);
    this.name = 'RateLimiterError';
    this.reason = reason;
  }
}

export interface RateLimiterOptions {
  /** requests allowed to start within any window (default 2) */
  perWindow?: number | undefined;
  /** window length (default 1000 ms) */
  windowMs?: number | undefined;
  /**
   * extra spacing added to the window so that network jitter between "we started" and "the vendor saw it"
   * never makes two windows' worth arrive inside one (default 100 ms → 2 per 1.1 s ≈ 1.8 req/s)
   */
  marginMs?: number | undefined;
  /** waiters beyond this are refused at once with reason 'queue-full' (default 256) */
  maxQueue?: number | undefined;
  /** clock (default Date.now; fake timers replace it) */
  now?: (() => number) | undefined;
}

interface Waiter {
  resolve: () => void;
  reject: (e: RateLimiterError) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export class RateLimiter {
  readonly perWindow: number;
  readonly windowMs: number;
  readonly marginMs: number;
  readonly maxQueue: number;
  private readonly now: () => number;
  /** start times of the most recent `perWindow` requests, oldest first */
  private starts: number[] = [];
  private queue: Waiter[] = [];
  private timer: NodeJS.Timeout | null = null;
  private pausedUntil = 0;
  private closed = false;

  constructor(opts: RateLimiterOptions = {}) {
    this.perWindow = Math.max(1, Math.floor(opts.perWindow ?? 2));
    this.windowMs = Math.max(1, opts.windowMs ?? 1000);
    this.marginMs = Math.max(0, opts.marginMs ?? 100);
    this.maxQueue = Math.max(0, opts.maxQueue ?? 256);
    this.now = opts.now ?? (() => Date.now());
  }

  /** Number of callers waiting for a slot. */
  get queued(): number {
    return this.queue.length;
  }

  /** Resolves when a request may start (and counts it as started). */
  take(signal?: AbortSignal): Promise<void> {
    if (this.closed) return Promise.reject(new RateLimiterError('closed', 'rate limiter closed'));
    if (signal?.aborted) return Promise.reject(new RateLimiterError('aborted', 'wait for a request slot was cancelled'));
    if (this.queue.length === 0 && this.nextSlot() <= this.now()) {
      this.record();
      return Promise.resolve();
    }
    if (this.queue.length >= this.maxQueue) {
      return Promise.reject(new RateLimiterError('queue-full', `more than ${this.maxQueue} requests are waiting for a slot`));
    }
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { resolve, reject, signal, onAbort: undefined };
      if (signal) {
        w.onAbort = () => {
          const i = this.queue.indexOf(w);
          if (i >= 0) this.queue.splice(i, 1);
          reject(new RateLimiterError('aborted', 'wait for a request slot was cancelled'));
          this.arm();
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.queue.push(w);
      this.arm();
    });
  }

  /** Nobody starts before `ms` from now (e.g. after an HTTP 429 with Retry-After). Never shortens a pause. */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + Math.max(0, ms));
    if (this.queue.length > 0) this.arm(true);
  }

  /** Refuse every waiter and every future take(). */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const waiters = this.queue;
    this.queue = [];
    for (const w of waiters) {
      this.detach(w);
      w.reject(new RateLimiterError('closed', 'rate limiter closed'));
    }
  }

  /** Earliest time the next request may start. */
  private nextSlot(): number {
    let at = this.pausedUntil;
    if (this.starts.length >= this.perWindow) {
      const oldest = this.starts[this.starts.length - this.perWindow] ?? 0;
      at = Math.max(at, oldest + this.windowMs + this.marginMs);
    }
    return at;
  }

  private record(): void {
    this.starts.push(this.now());
    if (this.starts.length > this.perWindow) this.starts = this.starts.slice(-this.perWindow);
  }

  private pump(): void {
    this.timer = null;
    while (this.queue.length > 0 && this.nextSlot() <= this.now()) {
      const w = this.queue.shift()!;
      this.detach(w);
      this.record();
      w.resolve();
    }
    this.arm();
  }

  /** Make sure a timer fires when the head of the queue may go (none when the queue is empty). */
  private arm(reset = false): void {
    if (this.queue.length === 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      return;
    }
    if (this.timer && !reset) return;
    if (this.timer) clearTimeout(this.timer);
    const delay = Math.max(0, this.nextSlot() - this.now());
    this.timer = setTimeout(() => this.pump(), delay);
  }

  private detach(w: Waiter): void {
    if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
  }
}

/**
 * The rate limiters of one app, one per id (created with the first caller's options). Clients of the same vendor
 * key ask the same registry, so creates and polls from anywhere in the bot count against one budget. `createApp`
 * owns it and closes it on stop, which refuses every waiter; nothing outlives the app. `id` must not be a raw
 * secret (hash it).
 */
export class RateLimiters {
  private readonly byId = new Map<string, RateLimiter>();

  /** The one limiter for `id` (created with `opts` on first use; later options are ignored). */
  for(id: string, opts: RateLimiterOptions = {}): RateLimiter {
    let l = this.byId.get(id);
    if (!l) {
      l = new RateLimiter(opts);
      this.byId.set(id, l);
    }
    return l;
  }

  get size(): number {
    return this.byId.size;
  }

  /** Close every limiter (their waiters are refused with reason 'closed') and forget them. */
  closeAll(): void {
    for (const l of this.byId.values()) l.close();
    this.byId.clear();
  }
}
