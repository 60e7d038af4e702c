// PicWish / 佐糖 open API client: object removal (inpaint), background removal (segmentation) and
// upscale / face enhance (scale). HTTP only; nothing about Discord.
//
// Creates are multipart POSTs with the image bytes (`image_file`, never a URL: Discord URLs are long and
// expire, the vendor fetch times out after 10 s) and `sync=0`; queries are `GET <path>/<task_id>`. Every
// request, create or query, first takes a slot from the one limiter of this API key (default 2 req/s).
// A 429 on a query waits (Retry-After if given) and retries; a 429 on a create is reported, never resent.

import { createHash } from 'node:crypto';
import type { Logger } from '../log.js';
import { sniffImage } from '../images/sniff.js';
import { HttpClient, type BreakerOptions, type CircuitStateName, type HttpObserver, type HttpResponse, type HttpTimeouts } from './http.js';
import { ImageToolError, cleanVendorText, fromHttpError, parseRetryAfter, secretVariants, type ImageToolErrorKind } from './imageToolError.js';
import { RateLimiter, RateLimiterError, type RateLimiters } from './rateLimiter.js';

export const PICWISH_PATHS = {
  inpaint: '/api/tasks/visual/inpaint',
  segmentation: '/api/tasks/visual/segmentation',
  scale: '/api/tasks/visual/scale',
} as const;

/**
 * Default deadline per path: PicWish caps processing at 30 s (state -8) but queueing adds to it, so 45 s; one
 * public client gives segmentation 60 s.
 */
export const PICWISH_DEADLINE_MS: Record<string, number> = {
  [PICWISH_PATHS.inpaint]: 45_000,
  [PICWISH_PATHS.segmentation]: 60_000,
  [PICWISH_PATHS.scale]: 45_000,
};

/** General input limit: PicWish rejects a larger input with state -5. */
export const PICWISH_MAX_INPUT_BYTES = 15 * 1024 * 1024;
export const PICWISH_MAX_RECTANGLES = 50;

/**
 * Negative task states → error kind: -1 failed, -2 the result could not be stored, -3 the input could not be
 * downloaded, -5 over 15 MB, -7 not a valid image, -8 processing timed out. Any other negative state is 'failed'.
 */
export const PICWISH_STATE_KINDS: Record<number, ImageToolErrorKind> = {
  [-1]: 'failed',
  [-2]: 'failed',
  [-3]: 'download-failed',
  [-5]: 'too-large',
  [-7]: 'invalid-image',
  [-8]: 'timeout',
};

/** HTTP status (or the body's mirrored `status`) → error kind (401: bad X-API-KEY or service not enabled; 402: credit, unconfirmed). */
export function picwishHttpKind(status: number): ImageToolErrorKind {
  if (status === 400) return 'rejected';
  if (status === 401 || status === 403) return 'auth';
  if (status === 402) return 'credit';
  if (status === 404) return 'not-found';
  if (status === 413) return 'too-large';
  if (status === 429) return 'rate-limited';
  if (status >= 500) return 'unreachable';
  return 'bad-response';
}

export function picwishStateKind(state: number): ImageToolErrorKind | undefined {
  if (state >= 0) return undefined;
  return PICWISH_STATE_KINDS[state] ?? 'failed';
}

export interface PicwishClientOptions {
  /** default https://techhk.aoscdn.com (techsz.aoscdn.com for mainland China) */
  baseUrl: string;
  apiKey: string;
  /** every other secret of the deployment (other providers' keys, the Discord token…): kept out of error texts too */
  alsoScrub?: readonly string[] | undefined;
  /** requests per second for this key, creates and polls together (default 2) */
  qps?: number | undefined;
  /** spacing margin of the limiter (default 100 ms; see RateLimiter) */
  qpsMarginMs?: number | undefined;
  /** waiting requests beyond this fail as rate-limited (default 256) */
  maxQueue?: number | undefined;
  /** the app's limiters: every client of this key takes the same one from it (default: a limiter of this client alone) */
  limiters?: RateLimiters | undefined;
  /** inject a limiter (tests); wins over `limiters` */
  limiter?: RateLimiter | undefined;
  /** client-side input cap (default 15 MB): bigger files fail as too-large without a call */
  maxInputBytes?: number | undefined;
  /** query retries after a 429 or a transport failure (default 3) */
  queryRetries?: number | undefined;
  /** wait after a 429 without Retry-After (default 1000 ms) */
  retryAfterDefaultMs?: number | undefined;
  timeouts?: HttpTimeouts | undefined;
  breaker?: BreakerOptions | undefined;
  /** told about every HTTP attempt (metrics) */
  observer?: HttpObserver | undefined;
  logger: Logger;
}

export interface Rectangle {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface CallOptions {
  /** cancels the call (also while it waits for a rate-limit slot) */
  signal?: AbortSignal | undefined;
  /** give up (ImageToolError 'rate-limited', notSent) if no slot is free within this many ms */
  maxWaitMs?: number | undefined;
}

export interface InpaintRequest extends CallOptions {
  image: Buffer;
  imageName: string;
  /** white = remove, black = keep, same size as the image (polarity UNCONFIRMED) */
  mask?: Buffer | undefined;
  maskName?: string | undefined;
  /** source-pixel boxes, at most 50 */
  rectangles?: Rectangle[] | undefined;
}

export interface SegmentationRequest extends CallOptions {
  image: Buffer;
  imageName: string;
}

export interface ScaleRequest extends CallOptions {
  image: Buffer;
  imageName: string;
  /** clean = general upscale, face = portrait enhancement ("face restore") */
  type: 'clean' | 'face';
  /** omitted = vendor picks by size */
  scaleFactor?: 1 | 2 | 4 | undefined;
}

export interface PicwishCreated {
  taskId: string;
  /** the create path (also the query path prefix): persist it with the task id */
  path: string;
}

export interface PicwishTask {
  taskId: string;
  /** 1 done, 0/2/3/4 pending, < 0 failed */
  state: number;
  stateDetail?: string | undefined;
  progress?: number | undefined;
  /** result URL (data.image, or data.file on some endpoints); valid about 1 hour */
  imageUrl?: string | undefined;
  width?: number | undefined;
  height?: number | undefined;
  /** for state < 0 */
  errorKind?: ImageToolErrorKind | undefined;
}

export class PicwishClient {
  readonly limiter: RateLimiter;
  private readonly http: HttpClient;
  private readonly base: string;
  private readonly secrets: string[];
  private readonly log: Logger;
  private readonly maxInputBytes: number;

  constructor(private readonly opts: PicwishClientOptions) {
    this.log = opts.logger;
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.secrets = secretVariants([opts.apiKey, ...(opts.alsoScrub ?? [])]);
    this.maxInputBytes = opts.maxInputBytes ?? PICWISH_MAX_INPUT_BYTES;
    const keyId = `picwish:${createHash('sha256').update(opts.apiKey).digest('hex').slice(0, 16)}`;
    const limiterOptions = { ...windowFor(opts.qps ?? 2), marginMs: opts.qpsMarginMs, maxQueue: opts.maxQueue };
    this.limiter = opts.limiter ?? opts.limiters?.for(keyId, limiterOptions) ?? new RateLimiter(limiterOptions);
    // No HttpClient retries: every attempt must take a limiter slot, so retries happen here.
    this.http = new HttpClient({
      name: 'picwish',
      logger: opts.logger,
      timeouts: opts.timeouts,
      breaker: opts.breaker,
      retry: { retries: 0 },
      secrets: this.secrets,
      observer: opts.observer,
    });
  }

  circuitState(): CircuitStateName {
    return this.http.circuitState();
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  // ------------------------------------------------------------------ creates (never resent)

  async inpaint(req: InpaintRequest): Promise<PicwishCreated> {
    const form = this.baseForm(req.image, req.imageName);
    const hasMask = req.mask !== undefined;
    const hasRects = req.rectangles !== undefined;
    if (hasMask === hasRects) throw local('inpaint needs exactly one of mask or rectangles');
    if (req.mask) {
      this.checkBytes('mask', req.mask);
      form.append('mask_file', blobOf(req.mask), req.maskName ?? 'mask.png');
    } else {
      form.append('rectangles', JSON.stringify(checkRectangles(req.rectangles ?? [])));
    }
    return this.create(PICWISH_PATHS.inpaint, form, req);
  }

  async segmentation(req: SegmentationRequest): Promise<PicwishCreated> {
    const form = this.baseForm(req.image, req.imageName);
    form.append('format', 'png');
    return this.create(PICWISH_PATHS.segmentation, form, req);
  }

  async scale(req: ScaleRequest): Promise<PicwishCreated> {
    if (req.type !== 'clean' && req.type !== 'face') throw local('scale type must be clean or face');
    if (req.scaleFactor !== undefined && ![1, 2, 4].includes(req.scaleFactor)) throw local('scaleFactor must be 1, 2 or 4');
    const form = this.baseForm(req.image, req.imageName);
    form.append('type', req.type);
    if (req.scaleFactor !== undefined) form.append('scale_factor', String(req.scaleFactor));
    return this.create(PICWISH_PATHS.scale, form, req);
  }

  // ------------------------------------------------------------------ query

  /** GET <path>/<taskId>. 429 and transport failures are retried (each attempt through the limiter). */
  async query(path: string, taskId: string, opts: CallOptions = {}): Promise<PicwishTask> {
    const p = cleanPath(path);
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(taskId)) throw local('invalid task id');
    const url = `${this.base}${p}/${taskId}`;
    const retries = this.opts.queryRetries ?? 3;
    let last: ImageToolError | undefined;
    for (let attempt = 0; attempt <= retries; attempt++) {
      try {
        const res = await this.send({ method: 'GET', url }, opts);
        return this.readTask(taskId, this.unwrap(res));
      } catch (e) {
        const err = e instanceof ImageToolError ? e : fromHttpError('picwish', e, this.secrets);
        if (err.notSent || !(err.kind === 'rate-limited' || err.kind === 'unreachable') || opts.signal?.aborted) throw err;
        last = err;
        if (attempt === retries) break;
        // after a 429, send() has already paused the key's limiter for Retry-After; the next take() waits for it
        const waitMs = err.kind === 'rate-limited' ? (err.retryAfterMs ?? this.opts.retryAfterDefaultMs ?? 1000) : 250 * 2 ** attempt;
        this.log.debug({ upstream: 'picwish', attempt: attempt + 1, waitMs, kind: err.kind }, 'picwish query retry');
        if (err.kind !== 'rate-limited') await sleep(waitMs, opts.signal);
      }
    }
    throw last ?? new ImageToolError('picwish', 'unreachable', 'picwish: query failed');
  }

  // ------------------------------------------------------------------ internals

  private baseForm(image: Buffer, imageName: string): FormData {
    this.checkBytes('image', image);
    const form = new FormData();
    form.append('sync', '0');
    form.append('return_type', '1');
    form.append('image_file', blobOf(image), safeName(imageName));
    return form;
  }

  private checkBytes(what: string, bytes: Buffer): void {
    if (!Buffer.isBuffer(bytes) || bytes.length === 0) throw local(`${what} is empty`);
    if (bytes.length > this.maxInputBytes) {
      throw new ImageToolError('picwish', 'too-large', `picwish: ${what} is ${bytes.length} bytes (limit ${this.maxInputBytes})`, { notSent: true });
    }
  }

  private async create(path: string, form: FormData, opts: CallOptions): Promise<PicwishCreated> {
    // Encode through the WHATWG Request so the boundary and part headers are Node's own; HttpClient
    // then sends the bytes with that content type (no HttpClient change needed).
    const encoded = new Request('http://multipart.invalid/', { method: 'POST', body: form });
    const body = Buffer.from(await encoded.arrayBuffer());
    const contentType = encoded.headers.get('content-type') ?? 'multipart/form-data';
    let res: HttpResponse;
    try {
      res = await this.send({ method: 'POST', url: `${this.base}${path}`, body, headers: { 'content-type': contentType } }, opts);
    } catch (e) {
      throw e instanceof ImageToolError ? e : fromHttpError('picwish', e, this.secrets);
    }
    const data = this.unwrap(res);
    const taskId = data.task_id;
    if (typeof taskId !== 'string' && typeof taskId !== 'number') {
      throw new ImageToolError('picwish', 'bad-response', 'picwish: create answer without data.task_id', { status: res.status });
    }
    return { taskId: String(taskId), path };
  }

  /** One request: a limiter slot first, then HttpClient. */
  private async send(req: { method: 'GET' | 'POST'; url: string; body?: Buffer; headers?: Record<string, string> }, opts: CallOptions): Promise<HttpResponse> {
    const waitSignal = opts.maxWaitMs !== undefined ? anySignal(opts.signal, AbortSignal.timeout(Math.max(0, opts.maxWaitMs))) : opts.signal;
    try {
      await this.limiter.take(waitSignal);
    } catch (e) {
      if (e instanceof RateLimiterError && opts.signal?.aborted) {
        throw new ImageToolError('picwish', 'unreachable', 'picwish: request cancelled by the caller', { notSent: true });
      }
      if (e instanceof RateLimiterError) {
        const why = e.reason === 'queue-full' ? 'too many requests are waiting' : e.reason === 'closed' ? 'the limiter is closed' : 'no request slot in time';
        throw new ImageToolError('picwish', 'rate-limited', `picwish: ${why}`, { notSent: true });
      }
      throw e;
    }
    let res: HttpResponse;
    try {
      res = await this.http.requestJson({ ...req, headers: { ...req.headers, 'X-API-KEY': this.opts.apiKey }, idempotent: false, signal: opts.signal });
    } catch (e) {
      throw fromHttpError('picwish', e, this.secrets);
    }
    // over the key's QPS: every request of this key backs off, not only this one
    if (res.status === 429) this.limiter.pause(parseRetryAfter(headerOf(res, 'retry-after')) ?? this.opts.retryAfterDefaultMs ?? 1000);
    return res;
  }

  /** HTTP status + body `status` → `data`, or a typed error. */
  private unwrap(res: HttpResponse): Record<string, unknown> {
    const body = isRecord(res.json) ? res.json : undefined;
    const reason = cleanVendorText(body?.message ?? body?.msg ?? (body ? undefined : res.text.slice(0, 300)), this.secrets);
    const bodyStatus =
      typeof body?.status === 'number' ? body.status : typeof body?.status === 'string' && /^\d+$/.test(body.status) ? Number(body.status) : undefined;
    const status = res.status >= 200 && res.status < 300 ? (bodyStatus ?? 200) : res.status;
    if (status !== 200) {
      const kind = picwishHttpKind(status);
      const retryAfterMs = kind === 'rate-limited' ? parseRetryAfter(headerOf(res, 'retry-after')) : undefined;
      throw new ImageToolError('picwish', kind, `picwish: HTTP ${status}${reason ? `: ${reason}` : ''}`, {
        status,
        code: String(status),
        reason,
        retryAfterMs,
      });
    }
    if (!body || !isRecord(body.data)) throw new ImageToolError('picwish', 'bad-response', 'picwish: answer without a data object', { status: res.status });
    return body.data;
  }

  private readTask(taskId: string, d: Record<string, unknown>): PicwishTask {
    const state = toNumber(d.state);
    if (state === undefined) throw new ImageToolError('picwish', 'bad-response', 'picwish: task answer without a numeric state');
    const image = typeof d.image === 'string' && d.image ? d.image : typeof d.file === 'string' && d.file ? d.file : undefined;
    const task: PicwishTask = { taskId: typeof d.task_id === 'string' ? d.task_id : taskId, state };
    const detail = cleanVendorText(d.state_detail, this.secrets);
    if (detail) task.stateDetail = detail;
    const progress = toNumber(d.progress);
    if (progress !== undefined) task.progress = Math.max(0, Math.min(100, progress));
    if (image && /^https?:\/\//i.test(image)) task.imageUrl = image;
    const w = toNumber(d.image_width);
    const h = toNumber(d.image_height);
    if (w !== undefined) task.width = w;
    if (h !== undefined) task.height = h;
    const kind = picwishStateKind(state);
    if (kind) task.errorKind = kind;
    return task;
  }
}

/** A PicwishTask in a negative state as a typed error (for submitters and the adapter). */
export function picwishTaskError(task: PicwishTask): ImageToolError {
  const kind = task.errorKind ?? picwishStateKind(task.state) ?? 'failed';
  return new ImageToolError('picwish', kind, `picwish: task ${task.taskId} ended in state ${task.state}${task.stateDetail ? ` (${task.stateDetail})` : ''}`, {
    code: String(task.state),
    reason: task.stateDetail,
  });
}

// ---------------------------------------------------------------------------------------------

/** Whole qps → that many per second; a fraction (e.g. 1.8) → one request per 1000/qps ms. */
function windowFor(qps: number): { perWindow: number; windowMs: number } {
  const q = Number.isFinite(qps) && qps > 0 ? qps : 2;
  return Number.isInteger(q) ? { perWindow: q, windowMs: 1000 } : { perWindow: 1, windowMs: 1000 / q };
}

function local(message: string): ImageToolError {
  return new ImageToolError('picwish', 'rejected', `picwish: ${message}`, { reason: message, notSent: true });
}

function checkRectangles(rects: Rectangle[]): Rectangle[] {
  if (!Array.isArray(rects) || rects.length === 0) throw local('rectangles must hold at least one box');
  if (rects.length > PICWISH_MAX_RECTANGLES) throw local(`at most ${PICWISH_MAX_RECTANGLES} rectangles are allowed (got ${rects.length})`);
  return rects.map((r, i) => {
    const ok = [r.x, r.y, r.width, r.height].every((n) => Number.isInteger(n) && n >= 0) && r.width > 0 && r.height > 0;
    if (!ok) throw local(`rectangle ${i + 1} must have whole, non-negative x/y and positive width/height`);
    return { x: r.x, y: r.y, width: r.width, height: r.height };
  });
}

function blobOf(bytes: Buffer): Blob {
  const mime = sniffImage(bytes)?.mime ?? 'application/octet-stream';
  return new Blob([new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)], { type: mime });
}

function safeName(name: string): string {
  const n = (name || 'image').replace(/[^\w.-]+/g, '_').slice(0, 100);
  return n || 'image';
}

function cleanPath(path: string): string {
  const p = `/${path.replace(/^\/+|\/+$/g, '')}`;
  if (!/^(\/[A-Za-z0-9_.-]+)+$/.test(p)) throw local('invalid query path');
  return p;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v.trim());
  return undefined;
}

function headerOf(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function anySignal(a: AbortSignal | undefined, b: AbortSignal): AbortSignal {
  return a ? AbortSignal.any([a, b]) : b;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
