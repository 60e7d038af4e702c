// A fake Img Open (智奇特 AI) tool API on 127.0.0.1 (shared/contracts/image-tools.md §1):
// face swap V1 (`tool/roop`), V2 (`tool/v2/roop`), multiple face swap (`tool/face/fusion`) and the
// tool-task query. It checks both auth values, validates bodies as the contract describes, really
// downloads every input URL (so callers must hand it reachable URLs), runs tasks on a timer, serves
// real PNG results under /results/, records every request, and injects faults on demand.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { imageInfo, makePng } from '../images.js';

export interface FakeImgOpenOptions {
  accessKeyId?: string;
  accessKeySecret?: string;
  /** where the fake expects the two auth values (default header) */
  authLocation?: 'header' | 'query';
  /** wrong auth → HTTP 200 with code "401" (default) or a bare HTTP 401 */
  authFailure?: 'code' | 'http';
  /** timer tick (default 100 ms) */
  stepMs?: number;
  /** ticks a task spends running after its inputs are downloaded (default 2) */
  runSteps?: number;
  /** the raw data.status values the fake reports (default running 0, success 1, failure 2) */
  statusCodes?: { running: number; success: number; failure: number };
  /** where the result URL sits in the query answer (default outputImageUrl) */
  resultShape?: 'outputImageUrl' | 'differential' | 'nested';
  /** echo the presented keys in auth error messages (to prove clients scrub them; default true) */
  echoSecrets?: boolean;
  /** input download timeout (default 3000 ms) */
  downloadTimeoutMs?: number;
}

export interface ImgOpenRecordedRequest {
  /** arrival, ms since the epoch (fractional) */
  time: number;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /** parsed JSON body (undefined for GETs / unparsable bodies) */
  body: unknown;
  /** HTTP status answered */
  status?: number;
  /** envelope code answered */
  code?: string;
}

export interface ImgOpenFailSpec {
  /** answer this HTTP status (body `{code: "<status>", msg}`) */
  status?: number;
  /** answer HTTP 200 with this envelope code */
  code?: string;
  msg?: string;
  /** creates only: accept the task, then end it with this raw data.status and `desc` */
  state?: number;
  desc?: string;
  /** creates only: accept the task, then finish it "successfully" with img_audit_status false */
  moderation?: boolean;
  /** which requests the spec applies to (default: create for state/moderation, any otherwise) */
  on?: 'create' | 'query' | 'any';
}

export interface FakeImgOpenTask {
  businessTaskId: string;
  toolCode: string;
  taskId: string;
  body: Record<string, unknown>;
  inputs: string[];
  /** raw data.status now */
  status: number;
  desc: string;
  phase: 'downloading' | 'running' | 'done';
  ticks: number;
  outputUrl?: string;
  audit: boolean;
  /** forced ending (failNext state / moderation) */
  forced?: { state?: number; desc?: string; moderation?: boolean };
  stuck?: number;
  width: number;
  height: number;
}

const PREFIX = '/AIGCImgOpenServ/saas/tool/';
const TOOLS = new Set(['roop', 'v2/roop', 'face/fusion']);
const TASK_ID = /^[A-Za-z0-9_-]{1,64}$/;
const URL_RE = /^https?:\/\/\S+$/i;
const FIDELITY = /^(0(\.\d+)?|1(\.0+)?|\.\d+)$/;

export class FakeImgOpen {
  url = '';
  readonly requests: ImgOpenRecordedRequest[] = [];
  readonly tasks = new Map<string, FakeImgOpenTask>();
  readonly opts: Required<FakeImgOpenOptions>;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly hosted = new Map<string, Buffer>();
  private readonly results = new Map<string, Buffer>();
  private faults: { spec: ImgOpenFailSpec; left: number }[] = [];
  private limit429 = 0;
  private latencyMs = 0;
  private ticker: NodeJS.Timeout | null = null;
  private seq = 0;
  private downloads = new Set<AbortController>();

  constructor(opts: FakeImgOpenOptions = {}) {
    this.opts = {
      accessKeyId: 'fake-imgopen-id',
      accessKeySecret: 'fake-imgopen-secret',
      authLocation: 'header',
      authFailure: 'code',
      stepMs: 100,
      runSteps: 2,
      statusCodes: { running: 0, success: 1, failure: 2 },
      resultShape: 'outputImageUrl',
      echoSecrets: true,
      downloadTimeoutMs: 3000,
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

  // ---------------------------------------------------------------- knobs

  /** Serve bytes at a URL of this fake (an image host for the inputs). */
  host(bytes: Buffer, ext = 'png'): string {
    const name = `${++this.seq}.${ext}`;
    this.hosted.set(name, bytes);
    return `${this.url}/inputs/${name}`;
  }

  failNext(n: number, spec: ImgOpenFailSpec): void {
    this.faults.push({ spec, left: n });
  }

  rateLimit429Next(n: number): void {
    this.limit429 += n;
  }

  /** The task stays at `status` (default: running) forever. */
  stick(businessTaskId: string, status?: number): void {
    const t = this.tasks.get(businessTaskId);
    if (!t) throw new Error(`no task ${businessTaskId}`);
    t.stuck = status ?? this.opts.statusCodes.running;
    t.status = t.stuck;
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  /** Requests whose path ends with `suffix`. */
  requestsTo(suffix: string): ImgOpenRecordedRequest[] {
    return this.requests.filter((r) => r.path.endsWith(suffix));
  }

  // ---------------------------------------------------------------- HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://fake');
    const rec: ImgOpenRecordedRequest = {
      time: performance.timeOrigin + performance.now(),
      method: req.method ?? 'GET',
      path: u.pathname,
      query: Object.fromEntries(u.searchParams),
      headers: req.headers,
      body: undefined,
    };
    this.requests.push(rec);
    const raw = await readAll(req);
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      rec.status = status;
      if (isRecord(body) && typeof body.code === 'string') rec.code = body.code;
      const text = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      if (res.destroyed) return;
      res.writeHead(status, { 'content-length': text.length, 'content-type': Buffer.isBuffer(body) ? 'image/png' : 'application/json', ...headers });
      res.end(text);
    };

    if (req.method === 'GET') {
      const file = u.pathname.startsWith('/inputs/')
        ? this.hosted.get(u.pathname.slice(8))
        : u.pathname.startsWith('/results/')
          ? this.results.get(u.pathname.slice(9))
          : undefined;
      if (file) return send(200, file);
      return send(404, 'not found');
    }
    if (req.method !== 'POST' || !u.pathname.startsWith(PREFIX)) return send(404, { code: '404', msg: 'no such route' });

    const rest = u.pathname.slice(PREFIX.length);
    const isQuery = rest.endsWith('/queryTask');
    const toolCode = isQuery ? rest.slice(0, -'/queryTask'.length) : rest;
    if (!TOOLS.has(toolCode)) return send(404, { code: '404', msg: `unknown tool ${toolCode}` });

    // auth
    const id = this.opts.authLocation === 'header' ? header(req, 'x-request-req-accesskeyid') : (u.searchParams.get('X-Request-req-accessKeyId') ?? undefined);
    const secret =
      this.opts.authLocation === 'header' ? header(req, 'x-request-req-accesskeysecret') : (u.searchParams.get('X-Request-req-accessKeySecret') ?? undefined);
    if (id !== this.opts.accessKeyId || secret !== this.opts.accessKeySecret) {
      const msg = this.opts.echoSecrets ? `鉴权失败 invalid accessKey: id=${id ?? ''} secret=${secret ?? ''}` : '鉴权失败 invalid accessKey';
      return this.opts.authFailure === 'http' ? send(401, { code: '401', msg }) : send(200, { code: '401', msg, data: null });
    }

    // faults
    if (this.limit429 > 0) {
      this.limit429--;
      return send(429, { code: '429', msg: 'too many requests' }, { 'retry-after': '1' });
    }
    const fault = this.takeFault(isQuery ? 'query' : 'create');
    if (fault?.status !== undefined) return send(fault.status, { code: String(fault.status), msg: fault.msg ?? `HTTP ${fault.status}` });
    if (fault?.code !== undefined) return send(200, { code: fault.code, msg: fault.msg ?? `error ${fault.code}`, data: null });

    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8')) as unknown;
    } catch {
      return send(200, { code: '400', msg: 'body must be JSON', data: null });
    }
    rec.body = body;
    if (!String(header(req, 'content-type') ?? '').includes('application/json'))
      return send(200, { code: '400', msg: 'Content-Type must be application/json', data: null });
    if (!isRecord(body)) return send(200, { code: '400', msg: 'body must be a JSON object', data: null });

    if (isQuery) return this.query(toolCode, body, send);
    const problem = validate(toolCode, body);
    if (problem) return send(200, { code: '400', msg: problem, data: null });
    const businessTaskId = body.businessTaskId as string;
    if (this.tasks.has(businessTaskId)) return send(200, { code: '400', msg: 'businessTaskId already used', data: null });
    const inputs =
      toolCode === 'face/fusion' ? [...(body.sourceUrl as string[]), body.targetUrl as string] : [body.sourceUrl as string, body.targetUrl as string];
    const task: FakeImgOpenTask = {
      businessTaskId,
      toolCode,
      taskId: `t${++this.seq}`,
      body,
      inputs,
      status: this.opts.statusCodes.running,
      desc: 'running',
      phase: 'downloading',
      ticks: 0,
      audit: true,
      width: 64,
      height: 64,
    };
    if (fault && (fault.state !== undefined || fault.moderation)) task.forced = { state: fault.state, desc: fault.desc, moderation: fault.moderation };
    this.tasks.set(businessTaskId, task);
    void this.download(task);
    return send(200, { code: '200', msg: 'success', data: { taskId: task.taskId, businessTaskId, status: task.status } });
  }

  private query(toolCode: string, body: Record<string, unknown>, send: (s: number, b: unknown) => void): void {
    const id = body.businessTaskId;
    const t = typeof id === 'string' ? this.tasks.get(id) : undefined;
    if (!t || t.toolCode !== toolCode) return send(200, { code: '400', msg: 'task not found', data: null });
    send(200, { code: '200', msg: 'success', data: this.taskData(t) });
  }

  private taskData(t: FakeImgOpenTask): Record<string, unknown> {
    const done = t.phase === 'done' && t.outputUrl !== undefined;
    switch (this.opts.resultShape) {
      case 'differential':
        return {
          task_id: t.taskId,
          status: t.status,
          desc: t.desc,
          differentialImageRspList: done ? [{ image_url: t.outputUrl, seed: 1, image_status: 1, img_audit_status: t.audit, img_audit: [] }] : [],
        };
      case 'nested':
        return { taskId: t.taskId, businessTaskId: t.businessTaskId, status: t.status, desc: t.desc, result: done ? { images: [{ url: t.outputUrl }] } : null };
      default: {
        const d: Record<string, unknown> = {
          taskId: t.taskId,
          businessTaskId: t.businessTaskId,
          status: t.status,
          desc: t.desc,
          outputImageUrl: done ? t.outputUrl : null,
        };
        if (!t.audit)
          d.differentialImageRspList = [{ image_url: t.outputUrl, image_status: 1, img_audit_status: false, img_audit: [{ label: 'porn', confidence: 0.97 }] }];
        return d;
      }
    }
  }

  // ---------------------------------------------------------------- task engine

  private async download(t: FakeImgOpenTask): Promise<void> {
    let failure: string | undefined;
    for (const [i, url] of t.inputs.entries()) {
      const ctl = new AbortController();
      this.downloads.add(ctl);
      const timer = setTimeout(() => ctl.abort(), this.opts.downloadTimeoutMs);
      try {
        const r = await fetch(url, { signal: ctl.signal });
        const bytes = Buffer.from(await r.arrayBuffer());
        if (!r.ok) failure = `image download failed (HTTP ${r.status})`;
        else {
          const info = imageInfo(bytes);
          if (!info) failure = 'invalid image format';
          else if (i === t.inputs.length - 1) {
            t.width = Math.min(256, info.width);
            t.height = Math.min(256, info.height);
          }
        }
      } catch {
        failure = 'image download failed (unreachable)';
      } finally {
        clearTimeout(timer);
        this.downloads.delete(ctl);
      }
      if (failure) break;
    }
    if (failure) this.finish(t, this.opts.statusCodes.failure, failure);
    else t.phase = 'running';
  }

  private tick(): void {
    for (const t of this.tasks.values()) {
      if (t.phase !== 'running' || t.stuck !== undefined) continue;
      if (++t.ticks < this.opts.runSteps) continue;
      const f = t.forced;
      if (f?.state !== undefined) this.finish(t, f.state, f.desc ?? 'task failed');
      else {
        const name = `${t.businessTaskId}.png`;
        this.results.set(name, makePng(t.width, t.height, { seed: t.ticks + t.inputs.length }));
        t.outputUrl = `${this.url}/results/${name}`;
        t.audit = !f?.moderation;
        this.finish(t, this.opts.statusCodes.success, 'success');
      }
    }
  }

  private finish(t: FakeImgOpenTask, status: number, desc: string): void {
    if (t.stuck !== undefined) return;
    t.phase = 'done';
    t.status = status;
    t.desc = desc;
  }

  private takeFault(route: 'create' | 'query'): ImgOpenFailSpec | undefined {
    for (const f of this.faults) {
      const on = f.spec.on ?? (f.spec.state !== undefined || f.spec.moderation ? 'create' : 'any');
      if (f.left <= 0 || (on !== 'any' && on !== route)) continue;
      f.left--;
      this.faults = this.faults.filter((x) => x.left > 0);
      return f.spec;
    }
    return undefined;
  }
}

function validate(toolCode: string, b: Record<string, unknown>): string | undefined {
  if (typeof b.businessTaskId !== 'string' || !TASK_ID.test(b.businessTaskId)) return 'businessTaskId is required ([A-Za-z0-9_-]{1,64})';
  if (b.callbackUrl !== undefined && (typeof b.callbackUrl !== 'string' || !URL_RE.test(b.callbackUrl))) return 'callbackUrl must be a URL';
  if (typeof b.targetUrl !== 'string' || !URL_RE.test(b.targetUrl)) return 'targetUrl must be an image URL';
  if (toolCode === 'face/fusion') {
    const s = b.sourceUrl;
    if (!Array.isArray(s) || s.length < 1 || s.length > 2 || !s.every((x) => typeof x === 'string' && URL_RE.test(x)))
      return 'sourceUrl must be an array of 1-2 image URLs';
    if (b.faceIdx !== undefined && (typeof b.faceIdx !== 'number' || !Number.isInteger(b.faceIdx) || b.faceIdx < 1)) return 'faceIdx must be an integer >= 1';
    return undefined;
  }
  if (typeof b.sourceUrl !== 'string' || !URL_RE.test(b.sourceUrl)) return 'sourceUrl must be an image URL';
  if (toolCode === 'v2/roop' && b.fidelityWeight !== undefined) {
    if (typeof b.fidelityWeight !== 'string' || !FIDELITY.test(b.fidelityWeight)) return 'fidelityWeight must be a string from "0" to "1"';
  }
  if (toolCode === 'roop' && b.fidelityWeight !== undefined) return 'fidelityWeight is not a V1 parameter';
  return undefined;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function startFakeImgOpen(opts: FakeImgOpenOptions = {}): Promise<FakeImgOpen> {
  const f = new FakeImgOpen(opts);
  await f.listen();
  return f;
}
