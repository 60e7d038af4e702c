// Img Open (智奇特 AI) client: face swap V1/V2 and multiple face swap, plus the tool-task query
// (api.zhiqite.com). HTTP only; nothing here knows about Discord.
//
// Every create is a JSON POST carrying image URLs and a caller-chosen businessTaskId, which is also the
// only query key. Creates are never retried (a retry must use a new businessTaskId); queries are
// idempotent and retried by HttpClient. The envelope's `code` is a string and only "200" means OK.

import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.js';
import { HttpClient, type BreakerOptions, type CircuitStateName, type HttpObserver, type HttpResponse, type HttpTimeouts, type RetryOptions } from './http.js';
import { ImageToolError, cleanVendorText, fromHttpError, parseRetryAfter, secretVariants, type ImageToolErrorKind } from './imageToolError.js';

export const IMGOPEN_PREFIX = '/AIGCImgOpenServ/saas/tool/';

/** toolCode = the create path after /AIGCImgOpenServ/saas/tool/, slashes included; the status query names it. */
export const IMGOPEN_TOOLS = {
  faceSwapV1: 'roop',
  faceSwapV2: 'v2/roop',
  faceFusion: 'face/fusion',
} as const;

/** Default per-tool deadlines (face swap 2 min, multi-face and detection 3 min, anything else 5 min); the job's deadlineAt is set from these by the submitter. */
export const IMGOPEN_DEADLINE_MS: Record<string, number> = {
  roop: 120_000,
  'v2/roop': 120_000,
  'face/fusion': 180_000,
  'face/detection': 180_000,
};
export const IMGOPEN_DEFAULT_DEADLINE_MS = 300_000;

export interface StatusMap {
  running: number[];
  success: number[];
  failure: number[];
}

/**
 * Tool (CV) tasks: 0 running, 1 success, 2 failure — UNCONFIRMED: this is the vendor's table, but public SD
 * examples show 2 = success, so success also needs a result URL.
 */
export const TOOL_STATUS_MAP: StatusMap = { running: [0], success: [1], failure: [2] };
/** SD tasks: 2 success, 0/1/3 running — for reference; tool tasks use TOOL_STATUS_MAP. */
export const SD_STATUS_MAP: StatusMap = { running: [0, 1, 3], success: [2], failure: [] };

/** Envelope code (a string) → error kind. Only "200" is confirmed; "400" and "402" come from vendor notes, the rest are guesses. */
export const DEFAULT_CODE_KINDS: Record<string, ImageToolErrorKind> = {
  '400': 'rejected',
  '401': 'auth',
  '403': 'auth',
  '402': 'credit',
  '404': 'not-found',
  '429': 'rate-limited',
};

/** A failure description → a more specific kind (how the vendor reports these is UNCONFIRMED). */
export const DEFAULT_FAILURE_PATTERNS: { re: RegExp; kind: ImageToolErrorKind }[] = [
  { re: /no face|face not (found|detected)|未检测到人脸|没有检测到人脸|未识别到人脸|无人脸|找不到人脸/i, kind: 'no-face' },
  { re: /download|fetch|下载|获取图片|图片获取|无法访问/i, kind: 'download-failed' },
  { re: /audit|censor|nsfw|sensitive|违规|审核|敏感/i, kind: 'moderation' },
  { re: /invalid image|not an image|unsupported (image|format)|图片格式|格式错误/i, kind: 'invalid-image' },
  { re: /too large|too big|过大|超过.*(大小|限制)/i, kind: 'too-large' },
  { re: /timeout|timed out|超时/i, kind: 'timeout' },
];

export interface ImgOpenClientOptions {
  /** default https://api.zhiqite.com (no trailing slash needed) */
  baseUrl: string;
  accessKeyId: string;
  accessKeySecret: string;
  /** every other secret of the deployment (other providers' keys, the Discord token…): kept out of error texts too */
  alsoScrub?: readonly string[] | undefined;
  /** where the two auth values go (default header; one doc page shows query parameters) */
  authLocation?: 'header' | 'query' | undefined;
  /** data.status meaning for tool tasks (default TOOL_STATUS_MAP) */
  statusMap?: StatusMap | undefined;
  /** envelope code → kind (merged over DEFAULT_CODE_KINDS); any other non-"200" code is 'rejected' */
  codeKinds?: Record<string, ImageToolErrorKind> | undefined;
  /** failure text → kind, tried in order (default DEFAULT_FAILURE_PATTERNS) */
  failurePatterns?: { re: RegExp; kind: ImageToolErrorKind }[] | undefined;
  timeouts?: HttpTimeouts | undefined;
  retry?: RetryOptions | undefined;
  breaker?: BreakerOptions | undefined;
  /** told about every HTTP attempt (metrics) */
  observer?: HttpObserver | undefined;
  logger: Logger;
}

export interface FaceSwapRequest {
  /** image that provides the face */
  sourceUrl: string;
  /** image that receives the face */
  targetUrl: string;
  businessTaskId: string;
  callbackUrl?: string | undefined;
}

export interface FaceSwapV2Request extends FaceSwapRequest {
  /** 0..1: restoration quality vs identity fidelity; sent as a string */
  fidelityWeight?: number | undefined;
}

export interface FaceFusionRequest {
  /** 1–2 images that provide faces */
  sourceUrls: string[];
  /** image that receives them (e.g. a two-person photo) */
  targetUrl: string;
  /** 1-based, counted left to right among the faces in the target */
  faceIdx?: number | undefined;
  businessTaskId: string;
  callbackUrl?: string | undefined;
}

/** What a create returns: the handle to persist (job.upstream) and the query key. */
export interface ImgOpenCreated {
  businessTaskId: string;
  toolCode: string;
  /** the vendor's own id when the create answer carries one (informational; never a query key) */
  vendorTaskId?: string | undefined;
}

export type ImgOpenState = 'running' | 'success' | 'failure' | 'unknown';

export interface ImgOpenTaskStatus {
  state: ImgOpenState;
  /** data.status as sent (number when numeric) */
  rawStatus: number | string | undefined;
  resultUrl?: string | undefined;
  /** vendor text (desc / msg), sanitised */
  message?: string | undefined;
  /** img_audit_status === false somewhere in the answer */
  moderationBlocked?: boolean | undefined;
  /** for state 'failure': the most specific kind we could tell (default 'failed') */
  failureKind?: ImageToolErrorKind | undefined;
  /** 0..100 when the vendor reports progress */
  progress?: number | undefined;
  /** the answer's data object (for logging an unseen shape; may hold vendor URLs, never keys) */
  data: unknown;
}

const TASK_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** A fresh businessTaskId: `<prefix>-<time>-<random>`, within [A-Za-z0-9_-]{1,64}. Never reuse one. */
export function newBusinessTaskId(prefix = 'mjr'): string {
  const p = prefix.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 24) || 'mjr';
  const rand = randomBytes(12).toString('base64url');
  return `${p}-${Date.now().toString(36)}-${rand}`.slice(0, 64);
}

export class ImgOpenClient {
  private readonly http: HttpClient;
  private readonly base: string;
  private readonly secrets: string[];
  private readonly log: Logger;
  private readonly statusMap: StatusMap;
  private readonly codeKinds: Record<string, ImageToolErrorKind>;
  private readonly failurePatterns: { re: RegExp; kind: ImageToolErrorKind }[];
  private readonly seenShapes = new Set<string>();

  constructor(private readonly opts: ImgOpenClientOptions) {
    this.log = opts.logger;
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.secrets = secretVariants([opts.accessKeyId, opts.accessKeySecret, ...(opts.alsoScrub ?? [])]);
    this.statusMap = opts.statusMap ?? TOOL_STATUS_MAP;
    this.codeKinds = { ...DEFAULT_CODE_KINDS, ...opts.codeKinds };
    this.failurePatterns = opts.failurePatterns ?? DEFAULT_FAILURE_PATTERNS;
    this.http = new HttpClient({
      name: 'imgopen',
      logger: opts.logger,
      timeouts: opts.timeouts,
      retry: opts.retry,
      breaker: opts.breaker,
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

  // ------------------------------------------------------------------ creates (never retried)

  async faceSwapV1(req: FaceSwapRequest): Promise<ImgOpenCreated> {
    return this.create(IMGOPEN_TOOLS.faceSwapV1, req.businessTaskId, {
      sourceUrl: this.url('sourceUrl', req.sourceUrl),
      targetUrl: this.url('targetUrl', req.targetUrl),
      ...this.callback(req.callbackUrl),
    });
  }

  async faceSwapV2(req: FaceSwapV2Request): Promise<ImgOpenCreated> {
    const body: Record<string, unknown> = {
      sourceUrl: this.url('sourceUrl', req.sourceUrl),
      targetUrl: this.url('targetUrl', req.targetUrl),
      ...this.callback(req.callbackUrl),
    };
    if (req.fidelityWeight !== undefined) body.fidelityWeight = fidelityString(req.fidelityWeight);
    return this.create(IMGOPEN_TOOLS.faceSwapV2, req.businessTaskId, body);
  }

  async faceFusion(req: FaceFusionRequest): Promise<ImgOpenCreated> {
    if (!Array.isArray(req.sourceUrls) || req.sourceUrls.length < 1 || req.sourceUrls.length > 2) {
      throw local('sourceUrls must hold 1 or 2 image URLs');
    }
    const body: Record<string, unknown> = {
      sourceUrl: req.sourceUrls.map((u, i) => this.url(`sourceUrls[${i}]`, u)),
      targetUrl: this.url('targetUrl', req.targetUrl),
      ...this.callback(req.callbackUrl),
    };
    if (req.faceIdx !== undefined) {
      if (!Number.isInteger(req.faceIdx) || req.faceIdx < 1) throw local('faceIdx must be a whole number ≥ 1 (faces are counted from 1, left to right)');
      body.faceIdx = req.faceIdx;
    }
    return this.create(IMGOPEN_TOOLS.faceFusion, req.businessTaskId, body);
  }

  // ------------------------------------------------------------------ query (idempotent, retried)

  /** The tool task's state, normalised. Throws ImageToolError on transport errors and on any code other than "200". */
  async query(toolCode: string, businessTaskId: string, signal?: AbortSignal): Promise<ImgOpenTaskStatus> {
    checkTaskId(businessTaskId);
    const res = await this.send(`${IMGOPEN_PREFIX}${cleanToolCode(toolCode)}/queryTask`, { businessTaskId }, true, signal);
    const data = this.unwrap(res);
    return this.normalise(toolCode, data);
  }

  /** Exposed for tests and for callback payloads (same shape as a query's data, presumably). */
  normalise(toolCode: string, data: unknown): ImgOpenTaskStatus {
    const d = isRecord(data) ? data : undefined;
    const rawStatus = d ? readStatus(d.status) : undefined;
    const resultUrl = d ? findResultUrl(d) : undefined;
    const message = d ? cleanVendorText(d.desc ?? d.msg ?? d.message ?? d.failReason ?? d.errorMsg, this.secrets) : undefined;
    const moderationBlocked = d ? isModerationBlocked(d) : false;
    const progress = d ? readProgress(d.progress) : undefined;
    const base = { rawStatus, data, ...(message ? { message } : {}), ...(progress !== undefined ? { progress } : {}) };

    if (moderationBlocked) return { ...base, state: 'failure', moderationBlocked: true, failureKind: 'moderation' };
    const n = typeof rawStatus === 'number' ? rawStatus : undefined;
    if (n !== undefined && this.statusMap.failure.includes(n)) {
      return { ...base, state: 'failure', failureKind: this.classify(message) };
    }
    if (n !== undefined && this.statusMap.success.includes(n)) {
      if (resultUrl) return { ...base, state: 'success', resultUrl };
      this.noteShape(toolCode, 'success-without-url', data);
      return { ...base, state: 'unknown' };
    }
    if (n !== undefined && this.statusMap.running.includes(n)) return { ...base, state: 'running' };
    this.noteShape(toolCode, `status-${String(rawStatus)}`, data);
    return { ...base, state: 'unknown' };
  }

  // ------------------------------------------------------------------ internals

  private async create(toolCode: string, businessTaskId: string, fields: Record<string, unknown>): Promise<ImgOpenCreated> {
    checkTaskId(businessTaskId);
    const res = await this.send(`${IMGOPEN_PREFIX}${toolCode}`, { ...fields, businessTaskId }, false);
    const data = this.unwrap(res);
    const d = isRecord(data) ? data : {};
    const vendorTaskId = d.taskId ?? d.task_id ?? d.id_task;
    return { businessTaskId, toolCode, vendorTaskId: vendorTaskId === undefined || vendorTaskId === null ? undefined : String(vendorTaskId) };
  }

  private async send(path: string, json: Record<string, unknown>, idempotent: boolean, signal?: AbortSignal): Promise<HttpResponse> {
    let url = `${this.base}${path}`;
    const headers: Record<string, string> = {};
    if ((this.opts.authLocation ?? 'header') === 'query') {
      const q = new URLSearchParams({ 'X-Request-req-accessKeyId': this.opts.accessKeyId, 'X-Request-req-accessKeySecret': this.opts.accessKeySecret });
      url = `${url}?${q.toString()}`;
    } else {
      headers['X-Request-req-accessKeyId'] = this.opts.accessKeyId;
      headers['X-Request-req-accessKeySecret'] = this.opts.accessKeySecret;
    }
    try {
      return await this.http.requestJson({ method: 'POST', url, headers, json, idempotent, signal });
    } catch (e) {
      throw fromHttpError('imgopen', e, this.secrets);
    }
  }

  /** HTTP status + envelope → data, or a typed error. */
  private unwrap(res: HttpResponse): unknown {
    const env = isRecord(res.json) ? res.json : undefined;
    const reason = cleanVendorText(env?.msg ?? env?.message ?? (env ? undefined : res.text.slice(0, 300)), this.secrets);
    const fail = (kind: ImageToolErrorKind, what: string, code?: string) =>
      new ImageToolError('imgopen', kind, `imgopen: ${what}${reason ? `: ${reason}` : ''}`, { status: res.status, code, reason });

    if (res.status === 401 || res.status === 403) throw fail('auth', `HTTP ${res.status} (check IMGOPEN_ACCESS_KEY_ID / _SECRET)`);
    if (res.status === 429) {
      throw new ImageToolError('imgopen', 'rate-limited', `imgopen: HTTP 429`, {
        status: 429,
        retryAfterMs: parseRetryAfter(headerOf(res, 'retry-after')),
        reason,
      });
    }
    if (res.status >= 500) throw fail('unreachable', `HTTP ${res.status}`);
    if (res.status === 404 && env?.code === undefined) throw fail('not-found', 'HTTP 404 (wrong base URL or path?)');
    if (!env || env.code === undefined) throw fail('bad-response', `HTTP ${res.status} without an envelope`);
    const code = String(env.code);
    if (code !== '200') throw fail(this.codeKinds[code] ?? 'rejected', `code ${code}`, code);
    if (res.status < 200 || res.status > 299) throw fail('bad-response', `HTTP ${res.status} with code 200`);
    return env.data;
  }

  private classify(message: string | undefined): ImageToolErrorKind {
    if (!message) return 'failed';
    return this.failurePatterns.find((p) => p.re.test(message))?.kind ?? 'failed';
  }

  /** Log an answer shape once per (tool, kind): the contract leaves the query body undocumented. */
  private noteShape(toolCode: string, kind: string, data: unknown): void {
    const key = `${toolCode}:${kind}:${isRecord(data) ? Object.keys(data).sort().join(',') : typeof data}`;
    if (this.seenShapes.has(key) || this.seenShapes.size > 200) return;
    this.seenShapes.add(key);
    this.log.warn(
      { upstream: 'imgopen', toolCode, kind, body: cleanVendorText(data, this.secrets, 2000) },
      'imgopen: unseen task answer shape; treating it as still running',
    );
  }

  private url(field: string, value: unknown): string {
    if (typeof value !== 'string' || !/^https?:\/\/\S+$/i.test(value)) throw local(`${field} must be an http(s) URL`);
    try {
      new URL(value);
    } catch {
      throw local(`${field} must be an http(s) URL`);
    }
    return value;
  }

  private callback(url: string | undefined): Record<string, string> {
    return url ? { callbackUrl: this.url('callbackUrl', url) } : {};
  }
}

// ---------------------------------------------------------------------------------------------

function local(message: string): ImageToolError {
  return new ImageToolError('imgopen', 'rejected', `imgopen: ${message}`, { reason: message, notSent: true });
}

function checkTaskId(id: string): void {
  if (typeof id !== 'string' || !TASK_ID_RE.test(id)) throw local('businessTaskId must match [A-Za-z0-9_-]{1,64}');
}

function cleanToolCode(code: string): string {
  const c = code.replace(/^\/+|\/+$/g, '');
  if (!/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/.test(c)) throw local('invalid toolCode');
  return c;
}

/** 0..1 → "0".."1" (at most 3 decimals, no exponent). */
export function fidelityString(w: number): string {
  if (typeof w !== 'number' || !Number.isFinite(w) || w < 0 || w > 1) throw local('fidelityWeight must be a number from 0 to 1');
  return String(Math.round(w * 1000) / 1000);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readStatus(v: unknown): number | string | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v.trim());
  if (typeof v === 'string' && v.trim()) return v.trim();
  return undefined;
}

function readProgress(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number.parseFloat(v) : Number.NaN;
  return Number.isFinite(n) ? Math.max(0, Math.min(100, n)) : undefined;
}

const HTTP_URL = /^https?:\/\/\S+$/i;

/** data.outputImageUrl, then differentialImageRspList[*].image_url, then any http(s) URL under data. */
export function findResultUrl(data: Record<string, unknown>): string | undefined {
  const direct = data.outputImageUrl;
  if (typeof direct === 'string' && HTTP_URL.test(direct)) return direct;
  if (Array.isArray(direct)) {
    const first = direct.find((u): u is string => typeof u === 'string' && HTTP_URL.test(u));
    if (first) return first;
  }
  const list = data.differentialImageRspList;
  if (Array.isArray(list)) {
    for (const item of list) {
      const u = isRecord(item) ? item.image_url : undefined;
      if (typeof u === 'string' && HTTP_URL.test(u)) return u;
    }
  }
  return anyUrl(data, 0);
}

const INPUT_KEYS = /callback|source|target|input|origin/i;

function anyUrl(v: unknown, depth: number): string | undefined {
  if (depth > 4) return undefined;
  if (typeof v === 'string') return HTTP_URL.test(v) ? v : undefined;
  if (Array.isArray(v)) {
    for (const x of v) {
      const u = anyUrl(x, depth + 1);
      if (u) return u;
    }
    return undefined;
  }
  if (isRecord(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (INPUT_KEYS.test(k)) continue; // our own inputs / callbackUrl echoed back are not results
      const u = anyUrl(x, depth + 1);
      if (u) return u;
    }
  }
  return undefined;
}

function isModerationBlocked(data: Record<string, unknown>): boolean {
  const blocked = (x: unknown) => x === false || x === 'false';
  if (blocked(data.img_audit_status)) return true;
  const list = data.differentialImageRspList;
  return Array.isArray(list) && list.some((item) => isRecord(item) && blocked(item.img_audit_status));
}

function headerOf(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
