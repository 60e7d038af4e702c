// A fake PicWish / 佐糖 open API on 127.0.0.1 (shared/contracts/image-tools.md §2): inpaint,
// segmentation and scale as multipart creates, `GET <path>/<task_id>` queries, the state machine
// 0 → 2 → 3 → 4 → 1 on a timer, negative states for bad inputs, real result images under /results/.
// It enforces the vendor's 2 requests/s per key (HTTP 429) and measures the busiest 1 s window per key,
// so tests can show the bot never goes over.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { imageInfo, makeJpeg, makePng } from '../images.js';

export type PicwishKind = 'inpaint' | 'segmentation' | 'scale';

export interface FakePicwishOptions {
  /** accepted X-API-KEY values (default ['fake-picwish-key']) */
  apiKeys?: string[];
  /** requests per key allowed in any 1 s window (default 2) */
  qps?: number;
  /** answer 429 above qps (default true) */
  enforceQps?: boolean;
  /** Retry-After seconds on 429 (default 1; null = no header) */
  retryAfterSec?: number | null;
  /** timer tick (default 100 ms) */
  stepMs?: number;
  /** input file limit; bigger → state -5 (default 15 MB) */
  maxFileBytes?: number;
  /** request body limit; bigger → HTTP 413 (default 40 MB) */
  maxBodyBytes?: number;
  /** echo the presented key in 401 messages (to prove clients scrub it; default true) */
  echoSecrets?: boolean;
}

export interface PicwishRecordedRequest {
  /** arrival, ms since the epoch (fractional) */
  time: number;
  method: string;
  path: string;
  key: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  /** multipart fields: strings as-is, files as {file, size, type} */
  fields?: Record<string, string | { file: string; size: number; type: string }>;
  /** multipart files as received (e.g. to read a mask's pixels) */
  files?: Record<string, Buffer>;
  status?: number;
}

export interface PicwishFailSpec {
  /** creates only: accept the task, then end it in this (negative) state */
  state?: number;
  /** answer this HTTP status */
  status?: number;
  message?: string;
  /** which requests the spec applies to (default: create for state, any for status) */
  on?: 'create' | 'query' | 'any';
}

export interface FakePicwishTask {
  taskId: string;
  kind: PicwishKind;
  key: string;
  state: number;
  progress: number;
  fields: Record<string, string>;
  input?: Buffer;
  inputUrl?: string;
  forcedState?: number;
  stuck: boolean;
  prepared: boolean;
  image?: string;
  width: number;
  height: number;
  createdAt: number;
}

const PREFIX = '/api/tasks/visual/';
const KINDS = new Set<PicwishKind>(['inpaint', 'segmentation', 'scale']);
const WINDOW_MS = 1000;

export class FakePicwish {
  url = '';
  readonly requests: PicwishRecordedRequest[] = [];
  readonly tasks = new Map<string, FakePicwishTask>();
  readonly opts: Required<FakePicwishOptions>;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly arrivals = new Map<string, number[]>();
  private readonly tooMany = new Map<string, number>();
  private readonly hosted = new Map<string, Buffer>();
  private readonly results = new Map<string, Buffer>();
  private faults: { spec: PicwishFailSpec; left: number }[] = [];
  private limit429 = 0;
  private latencyMs = 0;
  private ticker: NodeJS.Timeout | null = null;
  private seq = 0;
  private downloads = new Set<AbortController>();

  constructor(opts: FakePicwishOptions = {}) {
    this.opts = {
      apiKeys: ['fake-picwish-key'],
      qps: 2,
      enforceQps: true,
      retryAfterSec: 1,
      stepMs: 100,
      maxFileBytes: 15 * 1024 * 1024,
      maxBodyBytes: 40 * 1024 * 1024,
      echoSecrets: true,
      ...opts,
    };
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const addr = this.server.address();
    if (addr && typeof addr === 'object') this.url = `http://127.0.0.1:${addr.port}`;
    this.ticker = setInterval(() => this.tick(), this.opts.stepMs);
  }

  async close(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
    for (const d of this.downloads) d.abort();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---------------------------------------------------------------- knobs and measurements

  failNext(n: number, spec: PicwishFailSpec): void {
    this.faults.push({ spec, left: n });
  }

  /** The next n API requests (any key) answer 429. */
  rateLimit429Next(n: number): void {
    this.limit429 += n;
  }

  /** The task stays in its current state forever. */
  stick(taskId: string): void {
    const t = this.tasks.get(taskId);
    if (!t) throw new Error(`no task ${taskId}`);
    t.stuck = true;
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  /** Serve bytes at a URL of this fake (for image_url inputs). */
  host(bytes: Buffer, ext = 'png'): string {
    const name = `${++this.seq}.${ext}`;
    this.hosted.set(name, bytes);
    return `${this.url}/inputs/${name}`;
  }

  /** The most API requests from `key` that arrived within any 1 s window (all answers counted). */
  maxRequestsPerSecond(key = this.opts.apiKeys[0] ?? ''): number {
    const t = this.arrivals.get(key) ?? [];
    let best = 0;
    let j = 0;
    for (let i = 0; i < t.length; i++) {
      while ((t[i] ?? 0) - (t[j] ?? 0) >= WINDOW_MS) j++;
      best = Math.max(best, i - j + 1);
    }
    return best;
  }

  /** How many 429s the QPS check served to `key` (injected 429s not counted). */
  qps429(key = this.opts.apiKeys[0] ?? ''): number {
    return this.tooMany.get(key) ?? 0;
  }

  requestsTo(prefix: string): PicwishRecordedRequest[] {
    return this.requests.filter((r) => r.path.startsWith(prefix));
  }

  // ---------------------------------------------------------------- HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://fake');
    const now = performance.timeOrigin + performance.now();
    const key = header(req, 'x-api-key');
    const rec: PicwishRecordedRequest = { time: now, method: req.method ?? 'GET', path: u.pathname, key, headers: req.headers };
    this.requests.push(rec);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      rec.status = status;
      const bytes = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
      if (res.destroyed) return;
      res.writeHead(status, {
        'content-length': bytes.length,
        'content-type': Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json',
        ...headers,
      });
      res.end(bytes);
    };

    if (req.method === 'GET' && (u.pathname.startsWith('/inputs/') || u.pathname.startsWith('/results/'))) {
      await drain(req);
      const file = u.pathname.startsWith('/inputs/') ? this.hosted.get(u.pathname.slice(8)) : this.results.get(u.pathname.slice(9));
      return file ? send(200, file) : send(404, { status: 404, message: 'not found' });
    }

    // every API request counts toward its key's QPS, whatever the answer
    if (key !== undefined) {
      const list = this.arrivals.get(key) ?? [];
      list.push(now);
      this.arrivals.set(key, list);
    }
    const raw = await readCapped(req, this.opts.maxBodyBytes);
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));

    if (!u.pathname.startsWith(PREFIX)) return send(404, { status: 404, message: 'Not Found' });
    const rest = u.pathname.slice(PREFIX.length).split('/');
    const kind = rest[0] as PicwishKind;
    if (!KINDS.has(kind) || rest.length > 2) return send(404, { status: 404, message: 'Not Found' });
    const isQuery = rest.length === 2;
    if (isQuery ? req.method !== 'GET' : req.method !== 'POST') return send(405, { status: 405, message: 'Method Not Allowed' });

    if (!key || !this.opts.apiKeys.includes(key)) {
      const message = this.opts.echoSecrets ? `Unauthorized: invalid X-API-KEY "${key ?? ''}"` : 'Unauthorized';
      return send(401, { status: 401, message });
    }
    if (this.opts.enforceQps && key !== undefined) {
      const list = this.arrivals.get(key) ?? [];
      const inWindow = list.filter((t) => now - t < WINDOW_MS).length;
      if (inWindow > this.opts.qps) {
        this.tooMany.set(key, (this.tooMany.get(key) ?? 0) + 1);
        return send(429, { status: 429, message: 'Too Many Requests' }, this.retryAfter());
      }
    }
    if (this.limit429 > 0) {
      this.limit429--;
      return send(429, { status: 429, message: 'Too Many Requests' }, this.retryAfter());
    }
    const fault = this.takeFault(isQuery ? 'query' : 'create');
    if (fault?.status !== undefined) return send(fault.status, { status: fault.status, message: fault.message ?? `HTTP ${fault.status}` });
    if (raw === 'too-large') return send(413, { status: 413, message: 'Request Entity Too Large' });

    if (isQuery) {
      const t = this.tasks.get(rest[1] ?? '');
      if (!t || t.kind !== kind || t.key !== key) return send(404, { status: 404, message: 'task not found' });
      return send(200, { status: 200, data: this.taskData(t) });
    }
    return this.create(kind, key, req, raw, rec, fault, send);
  }

  private async create(
    kind: PicwishKind,
    key: string,
    req: IncomingMessage,
    raw: Buffer,
    rec: PicwishRecordedRequest,
    fault: PicwishFailSpec | undefined,
    send: (status: number, body: unknown) => void,
  ): Promise<void> {
    const ct = header(req, 'content-type') ?? '';
    if (!ct.startsWith('multipart/form-data')) return send(400, { status: 400, message: 'Content-Type must be multipart/form-data' });
    let form: FormData;
    try {
      form = await new Request('http://fake/', { method: 'POST', headers: { 'content-type': ct }, body: raw }).formData();
    } catch {
      return send(400, { status: 400, message: 'malformed multipart body' });
    }
    const fields: Record<string, string> = {};
    const files: Record<string, Buffer> = {};
    rec.fields = {};
    for (const [name, value] of form.entries()) {
      if (typeof value === 'string') {
        fields[name] = value;
        rec.fields[name] = value;
      } else {
        const bytes = Buffer.from(await value.arrayBuffer());
        files[name] = bytes;
        rec.fields[name] = { file: value.name, size: bytes.length, type: value.type };
        (rec.files ??= {})[name] = bytes;
      }
    }
    const problem = validate(kind, fields, files);
    if (problem) return send(400, { status: 400, message: problem });

    const taskId = `${crypto.randomUUID()}`;
    const task: FakePicwishTask = {
      taskId,
      kind,
      key,
      state: 0,
      progress: 0,
      fields,
      input: files.image_file,
      inputUrl: fields.image_url,
      stuck: false,
      prepared: false,
      width: 64,
      height: 64,
      createdAt: Date.now(),
    };
    if (fault?.state !== undefined) task.forcedState = fault.state;
    this.tasks.set(taskId, task);
    void this.prepare(task);
    return send(200, { status: 200, message: 'success', data: { task_id: taskId } });
  }

  private taskData(t: FakePicwishTask): Record<string, unknown> {
    const d: Record<string, unknown> = {
      task_id: t.taskId,
      state: t.state,
      state_detail: STATE_DETAIL[t.state] ?? 'unknown',
      progress: t.progress,
      return_type: 1,
      created_at: Math.floor(t.createdAt / 1000),
    };
    if (t.state === 1) {
      d.image = t.image;
      d.image_width = t.width;
      d.image_height = t.height;
      d.completed_at = Math.floor(Date.now() / 1000);
    }
    return d;
  }

  // ---------------------------------------------------------------- task engine

  /** Fetch image_url if given, then check size and format: the failures the vendor reports as states. */
  private async prepare(t: FakePicwishTask): Promise<void> {
    if (t.inputUrl) {
      const ctl = new AbortController();
      this.downloads.add(ctl);
      const timer = setTimeout(() => ctl.abort(), 3000);
      try {
        const r = await fetch(t.inputUrl, { signal: ctl.signal });
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        t.input = Buffer.from(await r.arrayBuffer());
      } catch {
        t.forcedState ??= -3;
      } finally {
        clearTimeout(timer);
        this.downloads.delete(ctl);
      }
    }
    const input = t.input ?? Buffer.alloc(0);
    if (t.forcedState === undefined && input.length > this.opts.maxFileBytes) t.forcedState = -5;
    const info = t.forcedState === undefined ? imageInfo(input) : undefined;
    if (t.forcedState === undefined && !info) t.forcedState = -7;
    if (info) {
      const factor = t.kind === 'scale' ? Number(t.fields.scale_factor || 2) : 1;
      t.width = Math.min(512, info.width * factor);
      t.height = Math.min(512, info.height * factor);
    }
    t.prepared = true;
  }

  /** 0 → 2 → 3 → 4 (33%, 66%, 99%) → 1, one step per tick; a forced state replaces the step after 2. */
  private tick(): void {
    for (const t of this.tasks.values()) {
      if (t.stuck || !t.prepared || t.state === 1 || t.state < 0) continue;
      if (t.forcedState !== undefined && t.state >= 2) {
        t.state = t.forcedState;
        continue;
      }
      if (t.state === 0) t.state = 2;
      else if (t.state === 2) t.state = 3;
      else if (t.state === 3) {
        t.state = 4;
        t.progress = 33;
      } else if (t.progress >= 99) this.complete(t);
      else t.progress += 33;
    }
  }

  private complete(t: FakePicwishTask): void {
    const ext = t.kind === 'inpaint' ? 'jpg' : 'png';
    const bytes =
      t.kind === 'inpaint'
        ? makeJpeg(t.width, t.height)
        : t.kind === 'segmentation'
          ? makePng(t.width, t.height, { color: '#33669900' })
          : makePng(t.width, t.height, { seed: 7 });
    const name = `${t.taskId}.${ext}`;
    this.results.set(name, bytes);
    t.image = `${this.url}/results/${name}?Expires=${Math.floor(Date.now() / 1000) + 3600}&Signature=fake`;
    t.state = 1;
    t.progress = 100;
  }

  private retryAfter(): Record<string, string> {
    return this.opts.retryAfterSec === null ? {} : { 'retry-after': String(this.opts.retryAfterSec) };
  }

  private takeFault(route: 'create' | 'query'): PicwishFailSpec | undefined {
    for (const f of this.faults) {
      const on = f.spec.on ?? (f.spec.state !== undefined ? 'create' : 'any');
      if (f.left <= 0 || (on !== 'any' && on !== route)) continue;
      f.left--;
      this.faults = this.faults.filter((x) => x.left > 0);
      return f.spec;
    }
    return undefined;
  }
}

const STATE_DETAIL: Record<number, string> = {
  1: 'Complete',
  0: 'Queueing',
  2: 'Preparing',
  3: 'Waiting',
  4: 'Processing',
  [-1]: 'Failed',
  [-2]: 'Upload result failed',
  [-3]: 'Download image failed',
  [-5]: 'Image exceeds 15MB',
  [-7]: 'Invalid image',
  [-8]: 'Processing timeout',
};

function validate(kind: PicwishKind, f: Record<string, string>, files: Record<string, Buffer>): string | undefined {
  const has = (name: string) => name in f || name in files;
  if (Number(has('image_file')) + Number(has('image_url')) !== 1) return 'exactly one of image_file and image_url is required';
  if (has('image_url') && (f.image_url ?? '').length > 512) return 'image_url must be at most 512 characters';
  if (f.sync !== undefined && f.sync !== '0') return 'the fake supports sync=0 only';
  if (f.return_type !== undefined && f.return_type !== '1') return 'the fake supports return_type=1 only';
  if (kind === 'inpaint') {
    if (Number(has('mask_file')) + Number(has('mask_url')) + Number(has('rectangles')) !== 1)
      return 'exactly one of mask_file, mask_url and rectangles is required';
    if (has('rectangles')) {
      let rects: unknown;
      try {
        rects = JSON.parse(f.rectangles ?? '');
      } catch {
        return 'rectangles must be a JSON array';
      }
      if (!Array.isArray(rects) || rects.length === 0) return 'rectangles must be a non-empty JSON array';
      if (rects.length > 50) return 'at most 50 rectangles';
      const ok = rects.every(
        (r) => typeof r === 'object' && r !== null && ['x', 'y', 'width', 'height'].every((k) => typeof (r as Record<string, unknown>)[k] === 'number'),
      );
      if (!ok) return 'each rectangle needs numeric x, y, width, height';
    }
  }
  if (kind === 'scale') {
    if (f.type !== undefined && !['', 'clean', 'face'].includes(f.type)) return 'type must be clean or face';
    if (f.scale_factor !== undefined && !['', '1', '2', '4'].includes(f.scale_factor)) return 'scale_factor must be 1, 2 or 4';
  }
  if (kind === 'segmentation' && f.format !== undefined && !['png', 'jpg'].includes(f.format)) return 'format must be png or jpg';
  return undefined;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

async function drain(req: IncomingMessage): Promise<void> {
  for await (const _ of req) void _;
}

async function readCapped(req: IncomingMessage, max: number): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size <= max) chunks.push(c as Buffer);
  }
  return size > max ? 'too-large' : Buffer.concat(chunks);
}

export async function startFakePicwish(opts: FakePicwishOptions = {}): Promise<FakePicwish> {
  const f = new FakePicwish(opts);
  await f.listen();
  return f;
}
