// Small HTTP layer shared by the upstream adapters (Midjourney Proxy now; Img Open and PicWish later).
// undici for transport, cockatiel for retries (idempotent calls only) and a per-upstream circuit breaker.
// Nothing here knows about Discord or about any upstream's payloads.

import { Agent, type Dispatcher, type buildConnector } from 'undici';
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  circuitBreaker,
  handleWhen,
  retry,
  type CircuitBreakerPolicy,
  type RetryPolicy,
} from 'cockatiel';
import { scrub, type Logger } from '../log.js';
import { BLOCKED_ADDRESS_CODE } from '../net/guardedDispatcher.js';

export type UpstreamHttpErrorKind =
  | 'unreachable' // refused / reset / DNS / timeouts / aborted / circuit open
  | 'too-large' // the body exceeded the caller's byte cap
  | 'http-status' // downloadBytes only: a non-2xx answer
  | 'bad-response' // protocol error, too many redirects, redirect without Location
  | 'blocked-address' // the address is private, loopback, link-local, metadata, multicast or reserved (see src/net)
  | 'invalid-request'; // malformed URL and the like (a configuration problem)

/** A transport-level failure. The message never contains headers, bodies or query strings. */
export class UpstreamHttpError extends Error {
  readonly kind: UpstreamHttpErrorKind;
  readonly status: number | undefined;
  /** the upstream's circuit is open: the call was not attempted */
  readonly circuitOpen: boolean;
  /** our own timeout (connect / headers / body / total) fired */
  readonly timedOut: boolean;
  /** the caller's AbortSignal fired (never counted against the upstream, never retried) */
  readonly aborted: boolean;
  /** underlying error code, e.g. ECONNREFUSED, UND_ERR_SOCKET */
  readonly code: string | undefined;
  /** 'too-large': the body's declared size, when the upstream said it */
  readonly size: number | undefined;

  constructor(
    kind: UpstreamHttpErrorKind,
    message: string,
    extra: {
      status?: number | undefined;
      circuitOpen?: boolean;
      timedOut?: boolean;
      aborted?: boolean;
      code?: string | undefined;
      size?: number | undefined;
    } = {},
  ) {
    super(message);
    this.name = 'UpstreamHttpError';
    this.kind = kind;
    this.status = extra.status;
    this.circuitOpen = extra.circuitOpen ?? false;
    this.timedOut = extra.timedOut ?? false;
    this.aborted = extra.aborted ?? false;
    this.code = extra.code;
    this.size = extra.size;
  }
}

export interface HttpTimeouts {
  connectMs?: number | undefined;
  headersMs?: number | undefined;
  bodyMs?: number | undefined;
  /** overall budget of one attempt (connect + headers + body) */
  totalMs?: number | undefined;
}

export const DEFAULT_TIMEOUTS: Required<HttpTimeouts> = { connectMs: 5_000, headersMs: 15_000, bodyMs: 30_000, totalMs: 30_000 };

export interface RetryOptions {
  /** retries after the first attempt (default 3) */
  retries?: number;
  /** first backoff delay (default 200 ms); exponential with decorrelated jitter */
  initialDelayMs?: number;
  /** backoff cap (default 3 s) */
  maxDelayMs?: number;
}

export interface BreakerOptions {
  /** consecutive unreachable/5xx failures that open the circuit (default 5) */
  threshold?: number;
  /** how long the circuit stays open before one trial call (default 15 s) */
  halfOpenAfterMs?: number;
}

export interface HttpClientOptions {
  /** upstream name for logs, e.g. "mj-proxy" */
  name: string;
  logger: Logger;
  timeouts?: HttpTimeouts | undefined;
  /** response body cap in bytes (default 16 MiB) */
  maxBodyBytes?: number | undefined;
  retry?: RetryOptions | undefined;
  breaker?: BreakerOptions | undefined;
  /** strings that must never appear in an error message (API keys, hook URLs) */
  secrets?: readonly string[] | undefined;
  /** told about every attempt (metrics); must not throw */
  observer?: HttpObserver | undefined;
}

/** One attempt as the observer sees it: never a URL, header or body. */
export interface HttpObservation {
  upstream: string;
  method: HttpMethod;
  /** the HTTP status, when an answer came */
  status?: number | undefined;
  /** why no usable answer came */
  error?:
    'unreachable' | 'timeout' | 'aborted' | 'circuit_open' | 'too_large' | 'bad_response' | 'invalid_request' | 'http_status' | 'blocked_address' | undefined;
  ms: number;
}

export type HttpObserver = (o: HttpObservation) => void;

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'HEAD';

export interface HttpRequest {
  method: HttpMethod;
  url: string;
  headers?: Record<string, string> | undefined;
  /** sent as application/json */
  json?: unknown;
  /** sent as application/x-www-form-urlencoded (every value percent-encoded) */
  form?: URLSearchParams | undefined;
  /** raw body; set content-type yourself */
  body?: string | Buffer | undefined;
  /** retry on unreachable / 5xx with backoff. Only for calls that are safe to repeat. */
  idempotent?: boolean | undefined;
  /** overrides the client's totalMs for this call (per attempt) */
  timeoutMs?: number | undefined;
  maxBytes?: number | undefined;
  signal?: AbortSignal | undefined;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** the body parsed as JSON whatever the content type; undefined when it does not parse (or is empty) */
  json?: unknown;
}

export type CircuitStateName = 'closed' | 'open' | 'half-open' | 'isolated';

const STATE_NAMES: Record<CircuitState, CircuitStateName> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/** Counts against the breaker and is worth a retry: the upstream is down or broken, not the request. */
function isUpstreamFailure(e: Error): boolean {
  return e instanceof UpstreamHttpError && e.kind === 'unreachable' && !e.aborted && !e.circuitOpen;
}

function isServerError(r: unknown): boolean {
  return typeof r === 'object' && r !== null && typeof (r as HttpResponse).status === 'number' && (r as HttpResponse).status >= 500;
}

export class HttpClient {
  private readonly agent: Agent;
  private readonly timeouts: Required<HttpTimeouts>;
  private readonly maxBodyBytes: number;
  private readonly breaker: CircuitBreakerPolicy;
  private readonly retryPolicy: RetryPolicy;
  private readonly secrets: readonly string[];
  private readonly log: Logger;
  private readonly name: string;
  private readonly observer: HttpObserver | undefined;

  constructor(opts: HttpClientOptions) {
    this.name = opts.name;
    this.observer = opts.observer;
    this.log = opts.logger;
    this.secrets = opts.secrets ?? [];
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...definedOnly(opts.timeouts ?? {}) };
    this.maxBodyBytes = opts.maxBodyBytes ?? 16 * 1024 * 1024;
    this.agent = createAgent(this.timeouts);

    const failures = handleWhen(isUpstreamFailure).orWhenResult(isServerError);
    this.breaker = circuitBreaker(failures, {
      halfOpenAfter: opts.breaker?.halfOpenAfterMs ?? 15_000,
      breaker: new ConsecutiveBreaker(opts.breaker?.threshold ?? 5),
    });
    this.breaker.onBreak(() => this.log.warn({ upstream: this.name }, 'upstream circuit opened: failing fast'));
    this.breaker.onHalfOpen(() => this.log.info({ upstream: this.name }, 'upstream circuit half-open: trying one call'));
    this.breaker.onReset(() => this.log.info({ upstream: this.name }, 'upstream circuit closed'));

    this.retryPolicy = retry(failures, {
      maxAttempts: opts.retry?.retries ?? 3,
      backoff: new ExponentialBackoff({ initialDelay: opts.retry?.initialDelayMs ?? 200, maxDelay: opts.retry?.maxDelayMs ?? 3_000 }),
    });
    this.retryPolicy.onRetry((r) =>
      this.log.debug(
        {
          upstream: this.name,
          attempt: r.attempt,
          delayMs: Math.round(r.delay),
          reason: 'error' in r ? r.error.message : `HTTP ${(r.value as HttpResponse).status}`,
        },
        'retrying upstream call',
      ),
    );
  }

  /**
   * One HTTP exchange. Resolves with any HTTP status (the caller interprets it); rejects only with
   * UpstreamHttpError (transport failures, body cap, open circuit).
   */
  async requestJson(req: HttpRequest): Promise<HttpResponse> {
    const once = () => this.throughBreaker(req);
    return req.idempotent ? this.retryPolicy.execute(once, req.signal) : once();
  }

  circuitState(): CircuitStateName {
    return STATE_NAMES[this.breaker.state];
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private async throughBreaker(req: HttpRequest): Promise<HttpResponse> {
    try {
      return await this.breaker.execute(() => this.attempt(req));
    } catch (e) {
      if (e instanceof BrokenCircuitError) {
        this.observe({ upstream: this.name, method: req.method, error: 'circuit_open', ms: 0 });
        throw new UpstreamHttpError('unreachable', `${this.name} is unavailable (circuit open after repeated failures)`, { circuitOpen: true });
      }
      throw e;
    }
  }

  private observe(o: HttpObservation): void {
    try {
      this.observer?.(o);
    } catch {
      // metrics must never break a call
    }
  }

  private async attempt(req: HttpRequest): Promise<HttpResponse> {
    const started = Date.now();
    const { path, origin } = splitUrl(req.url, this.secrets);
    const headers: Record<string, string> = { accept: 'application/json, text/plain;q=0.9, */*;q=0.5', ...req.headers };
    let body: string | Buffer | undefined = req.body;
    if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers['content-type'] = 'application/json';
    } else if (req.form !== undefined) {
      body = req.form.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }

    const deadline = withDeadline(req.timeoutMs ?? this.timeouts.totalMs, req.signal);
    try {
      const res = await this.agent.request({ origin, path, method: req.method, headers, body: body ?? null, signal: deadline.signal });
      const bytes = await readCapped(res.body, req.maxBytes ?? this.maxBodyBytes, headerValue(res.headers['content-length']));
      const text = bytes.toString('utf8');
      this.log.debug({ upstream: this.name, method: req.method, path: stripQuery(path), status: res.statusCode, ms: Date.now() - started }, 'upstream call');
      this.observe({ upstream: this.name, method: req.method, status: res.statusCode, ms: Date.now() - started });
      return { status: res.statusCode, headers: res.headers, text, json: parseJson(text) };
    } catch (e) {
      const err = toHttpError(e, deadline, this.secrets);
      this.log.debug(
        { upstream: this.name, method: req.method, path: stripQuery(path), kind: err.kind, code: err.code, ms: Date.now() - started },
        'upstream call failed',
      );
      this.observe({ upstream: this.name, method: req.method, error: observedError(err), ms: Date.now() - started });
      throw err;
    } finally {
      deadline.dispose();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// downloadBytes

export interface DownloadOptions {
  maxBytes: number;
  timeoutMs: number;
  headers?: Record<string, string> | undefined;
  signal?: AbortSignal | undefined;
  /**
   * the connection pool, required so that no download goes out unchecked: the bot passes its guarded agent
   * (createDownloadAgent with src/net/guardedDispatcher.ts), whose connector checks every hop at connect time
   */
  dispatcher: Dispatcher;
  /** redirects followed (default 3, at most 10) */
  maxRedirects?: number | undefined;
}

/** An agent for downloadBytes; `connect` replaces undici's connector (e.g. guardedConnector), keeping the other timeouts. */
export function createDownloadAgent(opts: { timeouts?: HttpTimeouts | undefined; connect?: buildConnector.connector | undefined } = {}): Agent {
  return createAgent({ ...DEFAULT_TIMEOUTS, ...definedOnly(opts.timeouts ?? {}) }, opts.connect);
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;

function safeOrigin(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/**
 * GET a URL into a Buffer, streaming, aborting as soon as the body passes maxBytes ("too-large").
 * Follows up to 3 redirects (http and https only), each a new request through the dispatcher, so a guarded
 * dispatcher checks every hop's address; the caller's headers are not sent to another origin.
 * Non-2xx → "http-status". The whole exchange shares one timeoutMs.
 */
export async function downloadBytes(url: string, opts: DownloadOptions): Promise<Buffer> {
  const dispatcher = opts.dispatcher;
  const maxRedirects = Math.min(Math.max(0, opts.maxRedirects ?? 3), MAX_REDIRECTS);
  const firstOrigin = safeOrigin(url);
  const deadline = withDeadline(opts.timeoutMs, opts.signal);
  let current = url;
  try {
    for (let hop = 0; hop <= maxRedirects; hop++) {
      const { origin, path } = splitUrl(current, []);
      const headers = origin === firstOrigin ? (opts.headers ?? {}) : {};
      const res = await dispatcher.request({ origin, path, method: 'GET', headers, signal: deadline.signal });
      if (REDIRECTS.has(res.statusCode)) {
        res.body.resume();
        const location = headerValue(res.headers.location);
        if (!location) throw new UpstreamHttpError('bad-response', `redirect ${res.statusCode} without a Location header`, { status: res.statusCode });
        current = new URL(location, current).toString();
        continue;
      }
      if (res.statusCode < 200 || res.statusCode > 299) {
        res.body.resume();
        throw new UpstreamHttpError('http-status', `download failed with HTTP ${res.statusCode}`, { status: res.statusCode });
      }
      return await readCapped(res.body, opts.maxBytes, headerValue(res.headers['content-length']));
    }
    throw new UpstreamHttpError('bad-response', `more than ${maxRedirects} redirects`);
  } catch (e) {
    throw toHttpError(e, deadline, []);
  } finally {
    deadline.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// helpers

function createAgent(t: Required<HttpTimeouts>, connect?: buildConnector.connector): Agent {
  return new Agent({
    connect: connect ?? { timeout: t.connectMs },
    headersTimeout: t.headersMs,
    bodyTimeout: t.bodyMs,
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
    connections: 16,
  });
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

interface Deadline {
  signal: AbortSignal;
  timedOut(): boolean;
  callerAborted(): boolean;
  dispose(): void;
}

/** An AbortSignal that fires after ms or when the caller's signal fires, remembering which. */
function withDeadline(ms: number, caller: AbortSignal | undefined): Deadline {
  const ctl = new AbortController();
  let fired = false;
  const timer = setTimeout(() => {
    fired = true;
    ctl.abort(new UpstreamHttpError('unreachable', `timed out after ${ms} ms`, { timedOut: true }));
  }, ms);
  const onAbort = () => ctl.abort(new UpstreamHttpError('unreachable', 'request aborted by the caller', { aborted: true }));
  if (caller?.aborted) onAbort();
  else caller?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: ctl.signal,
    timedOut: () => fired,
    callerAborted: () => caller?.aborted === true,
    dispose: () => {
      clearTimeout(timer);
      caller?.removeEventListener('abort', onAbort);
    },
  };
}

class TooLarge extends Error {
  constructor(
    message: string,
    readonly size: number | undefined,
  ) {
    super(message);
  }
}

type Body = AsyncIterable<unknown> & { destroy(err?: Error): unknown; on?(event: 'error', fn: () => void): unknown };

/** Stop reading a body we no longer want; its abort error has no one to go to, so it is swallowed here. */
function discard(body: Body): void {
  body.on?.('error', () => undefined);
  body.destroy();
}

async function readCapped(body: Body, maxBytes: number, contentLength: string | undefined): Promise<Buffer> {
  if (contentLength !== undefined && Number(contentLength) > maxBytes) {
    discard(body);
    throw new TooLarge(`body of ${contentLength} bytes exceeds the ${maxBytes}-byte limit`, Number(contentLength));
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    size += buf.length;
    if (size > maxBytes) {
      discard(body);
      throw new TooLarge(`body exceeds the ${maxBytes}-byte limit`, undefined);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks, size);
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function toHttpError(e: unknown, deadline: Deadline, secrets: readonly string[]): UpstreamHttpError {
  if (e instanceof UpstreamHttpError) return e;
  if (e instanceof TooLarge) return new UpstreamHttpError('too-large', e.message, { size: e.size });
  // an aborted signal rejects with its reason, which we set to an UpstreamHttpError; be defensive anyway
  if (deadline.callerAborted()) return new UpstreamHttpError('unreachable', 'request aborted by the caller', { aborted: true });
  if (deadline.timedOut()) return new UpstreamHttpError('unreachable', 'request timed out', { timedOut: true });
  const code = typeof (e as { code?: unknown })?.code === 'string' ? (e as { code: string }).code : undefined;
  const msg = scrub(e instanceof Error ? e.message : String(e), secrets);
  if (code === BLOCKED_ADDRESS_CODE) return new UpstreamHttpError('blocked-address', msg, { code });
  if (code && TIMEOUT_CODES.has(code)) return new UpstreamHttpError('unreachable', `timed out (${code})`, { timedOut: true, code });
  if (code && NETWORK_CODES.has(code)) return new UpstreamHttpError('unreachable', `connection failed (${code})`, { code });
  if (code === 'UND_ERR_INVALID_ARG' || code === 'ERR_INVALID_URL') return new UpstreamHttpError('invalid-request', `invalid request: ${msg}`, { code });
  if (code?.startsWith('HPE_') || code === 'UND_ERR_HEADERS_OVERFLOW' || code === 'UND_ERR_INFO')
    return new UpstreamHttpError('bad-response', `malformed HTTP response (${code})`, { code });
  if (e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError'))
    return new UpstreamHttpError('unreachable', 'request aborted', { timedOut: e.name === 'TimeoutError', code });
  // unknown transport error: treat as unreachable (the request may not have reached the upstream)
  return new UpstreamHttpError('unreachable', `request failed: ${msg.slice(0, 200)}`, { code });
}

function splitUrl(url: string, secrets: readonly string[]): { origin: string; path: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UpstreamHttpError('invalid-request', `invalid URL: ${scrub(url, secrets).slice(0, 100)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UpstreamHttpError('invalid-request', `unsupported URL scheme ${u.protocol}`);
  return { origin: u.origin, path: `${u.pathname}${u.search}` };
}

function observedError(e: UpstreamHttpError): HttpObservation['error'] {
  if (e.aborted) return 'aborted';
  if (e.timedOut) return 'timeout';
  return e.kind.replace('-', '_') as HttpObservation['error'];
}

function stripQuery(path: string): string {
  const i = path.indexOf('?');
  return i < 0 ? path : path.slice(0, i);
}

export function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export function parseJson(text: string): unknown {
  const t = text.trim();
  if (!t) return undefined;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return undefined;
  }
}
