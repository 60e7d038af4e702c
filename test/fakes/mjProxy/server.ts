// The fake Midjourney Proxy: a node:http server on 127.0.0.1 that behaves as
// shared/contracts/mj-proxy.md describes, records every request, and injects faults on demand.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { MjTask } from '../../../src/upstream/mjTypes.js';
import { makePng, makeWebp } from '../images.js';
import { makeMp4 } from '../mp4.js';
import { serialize, type RouteCtx, type RouteReq } from './context.js';
import { DEFAULT_DESCRIPTIONS, FaultQueue, type FailSpec, type ForcedCode } from './faults.js';
import { parseBody, readBody, Reply } from './http.js';
import { Notifier } from './notify.js';
import { matchRoute } from './routes.js';
import { TaskEngine } from './tasks.js';
import type { FakeMjProxyOptions, FakeTask, NotificationRecord, RecordedRequest, ResolvedOptions } from './types.js';

const DEFAULTS: ResolvedOptions = {
  flavor: 'trueai',
  authStyle: 'mj-api-secret',
  secret: 'fake-proxy-secret',
  stepMs: 150,
  progressSteps: [0, 15, 46, 78],
  remix: false,
  autoSubmit: false,
  bannedWords: ['forbidden-word'],
  bannedAtRunTime: false,
  maxConcurrent: 10,
  maxQueue: Number.POSITIVE_INFINITY,
  gridSize: 256,
  reportedSize: null,
  reportedWorkMs: null,
  version: 'v7',
  seedAvailable: true,
  trueaiV11: false,
  notifyTimeoutMs: 2000,
  videoEnabled: true,
  videoRoute: true,
  videoAccounts: 'ok',
  hdVideo: false,
  videoClipBytes: 48 * 1024,
  videoMaxSeconds: 21,
};

const MODE_PREFIX = /^\/mj-(fast|relax|turbo)(\/mj(?:\/.*)?)$/;
const IMAGE_PATH = /^\/images\/(\d+)(-preview)?\.png$/;
const IMAGE_CACHE_MAX = 64;
/** §3.10a: `/videos/{id}.mp4` (the task's imageUrl), `/videos/{id}/0_{i}.mp4` (clip i), `/videos/{id}/0_{i}_640_N.webp` (its thumbnail) */
const VIDEO_PATH = /^\/videos\/(\d+)(?:\/0_([0-3])(_640_N\.webp)?)?(\.mp4)?$/;

export class FakeMjProxy {
  /** `http://127.0.0.1:PORT` (no trailing slash); the client appends `/mj/...` */
  url = '';
  port = 0;
  /** every request, in arrival order */
  readonly requests: RecordedRequest[] = [];
  /** requests rejected by the auth check */
  authFailures = 0;
  /** live options; `setOptions()` changes them */
  readonly options: ResolvedOptions;

  private readonly server: Server;
  private readonly engine: TaskEngine;
  private readonly notifier: Notifier;
  private readonly faults = new FaultQueue();
  private forced: ForcedCode[] = [];
  private latencyMs = 0;
  private listEnabled = true;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly imageCache = new Map<string, Buffer>();
  private listening = false;
  private closed = false;

  constructor(opts: FakeMjProxyOptions = {}) {
    const defined = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as FakeMjProxyOptions;
    this.options = { ...DEFAULTS, ...defined };
    this.notifier = new Notifier(this.options.notifyTimeoutMs);
    this.engine = new TaskEngine(this.options, { baseUrl: () => this.url, changed: (t) => this.onChanged(t) });
    this.server = createServer((req, res) => {
      void this.onRequest(req, res);
    });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('clientError', (_err, socket) => socket.destroy());
  }

  /** Bind to 127.0.0.1 (port 0 = any free port first time, the same port after `down()`). */
  async listen(): Promise<void> {
    if (this.listening || this.closed) return;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    const addr = this.server.address();
    if (addr && typeof addr === 'object') this.port = addr.port;
    this.url = `http://127.0.0.1:${this.port}`;
    this.listening = true;
  }

  // ---------------------------------------------------------------- state

  get flavor(): ResolvedOptions['flavor'] {
    return this.options.flavor;
  }

  /** id → live task (with fake-only bookkeeping under `task.fake`) */
  get tasks(): Map<string, FakeTask> {
    return this.engine.tasks;
  }

  task(id: string): FakeTask | undefined {
    return this.engine.tasks.get(id);
  }

  /** The task as `/fetch` would serialise it. */
  taskJson(id: string): MjTask | undefined {
    const t = this.engine.tasks.get(id);
    return t ? serialize(t) : undefined;
  }

  /** Requests whose route (mode prefix removed) ends with `suffix`, e.g. `/submit/action`. */
  requestsTo(suffix: string): RecordedRequest[] {
    return this.requests.filter((r) => r.route.endsWith(suffix));
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  /** notifyHook attempts: `{url, taskId, status, progress, at, httpStatus | error, body}` */
  get notifications(): NotificationRecord[] {
    return this.notifier.notifications;
  }

  /** notifications that were due while `disableNotify()` was in force */
  get droppedNotifications(): NotificationRecord[] {
    return this.notifier.dropped;
  }

  /** Change options at run time (e.g. `{remix: true}`, `{seedAvailable: false}`). */
  setOptions(patch: Partial<FakeMjProxyOptions>): void {
    for (const [k, v] of Object.entries(patch)) if (v !== undefined) (this.options as unknown as Record<string, unknown>)[k] = v;
  }

  // ---------------------------------------------------------------- lifecycle control

  /** Stop every lifecycle timer (tasks keep their state). */
  pause(): void {
    this.engine.pause();
  }

  resume(): void {
    this.engine.resume();
  }

  /** The task stops at IN_PROGRESS and never finishes. */
  stick(taskId: string): void {
    this.engine.stick(taskId);
  }

  /** The next n new tasks get stuck at IN_PROGRESS. */
  stickNext(n: number): void {
    this.engine.stickNext(n);
  }

  /** FAILURE now with `reason`; false when unknown or already terminal. */
  failTask(taskId: string, reason: string): boolean {
    return this.engine.failTask(taskId, reason);
  }

  /** The next n new tasks end FAILURE with `reason` (right after SUBMITTED). */
  failNextTasks(n: number, reason: string): void {
    this.engine.failNext(n, reason);
  }

  /**
   * Two knobs share this name:
   * - `failNext(n, reason: string)` → the next n new **tasks** end FAILURE with that failReason;
   * - `failNext(n, {status, body, contentType}?, match?)` → the next n matching **HTTP requests**
   *   are answered with that status (default 500 + TA's `Result` envelope "操作失败").
   */
  failNext(n: number, reason: string): void;
  failNext(n: number, spec?: FailSpec, match?: string): void;
  failNext(n: number, arg?: string | FailSpec, match?: string): void {
    if (typeof arg === 'string') this.engine.failNext(n, arg);
    else this.faults.add(n, { kind: 'fail', spec: arg ?? {} }, match);
  }

  /** Same as `failNext(n, spec, match)`. */
  failNextRequests(n: number, spec: FailSpec = {}, match?: string): void {
    this.faults.add(n, { kind: 'fail', spec }, match);
  }

  /** SUCCESS now (queued, stuck and MODAL tasks too); false when unknown or already terminal. */
  complete(taskId: string): boolean {
    return this.engine.complete(taskId);
  }

  /** Every running task takes `steps` lifecycle steps now, even while paused (stuck ones stay). */
  advanceAll(steps = 1): void {
    this.engine.advanceAll(steps);
  }

  /** Cancel as `/task/{id}/cancel` would (TA: FAILURE "取消任务"; others: CANCEL). */
  cancelTask(taskId: string): boolean {
    return this.engine.cancel(taskId, this.flavor === 'trueai' ? 'FAILURE' : 'CANCEL', '取消任务');
  }

  /** The next `times` submits (imagine/blend/describe/shorten/action/change/swap) answer `code` without creating a task. */
  nextSubmitCode(code: number, description?: string, times = 1): void {
    this.forced.push({ code, description: description ?? DEFAULT_DESCRIPTIONS[code] ?? `error ${code}`, remaining: times });
  }

  disableListByCondition(): void {
    this.listEnabled = false;
  }

  enableListByCondition(): void {
    this.listEnabled = true;
  }

  /** Drop every notifyHook call from now on (recorded in `droppedNotifications`). */
  disableNotify(): void {
    this.notifier.enabled = false;
  }

  enableNotify(): void {
    this.notifier.enabled = true;
  }

  // ---------------------------------------------------------------- faults

  /** Delay every answer by `ms` (0 = off). */
  setLatency(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  /** Accept the next n matching requests and never answer (until `close()`/`down()`). */
  hangNext(n: number, match?: string): void {
    this.faults.add(n, { kind: 'hang' }, match);
  }

  /** Destroy the socket of the next n matching requests without a response. */
  resetNext(n: number, match?: string): void {
    this.faults.add(n, { kind: 'reset' }, match);
  }

  /** Answer the next n matching requests 200 `application/json` with `{"code":1,` (truncated). */
  invalidJsonNext(n: number, match?: string): void {
    this.faults.add(n, { kind: 'invalid-json' }, match);
  }

  /** Answer the next n matching requests 200 `text/html` `<html>…`. */
  wrongContentTypeNext(n: number, match?: string): void {
    this.faults.add(n, { kind: 'wrong-content-type' }, match);
  }

  /** Answer the next n matching requests `302 Found` with this Location (e.g. a result image moved elsewhere). */
  redirectNext(n: number, location: string, match?: string): void {
    this.faults.add(n, { kind: 'redirect', location }, match);
  }

  clearFaults(): void {
    this.faults.clear();
    this.forced = [];
    this.latencyMs = 0;
  }

  /** Stop listening and drop every connection: new connections are refused. */
  async down(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    await this.closeServer();
  }

  /** Listen again on the same port. */
  async up(): Promise<void> {
    await this.listen();
  }

  /** Stop everything: timers, notifications, sockets (hung ones too), the listener. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.engine.stopAll();
    this.notifier.close();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.listening) {
      this.listening = false;
      await this.closeServer();
    } else {
      this.destroySockets();
    }
  }

  // ---------------------------------------------------------------- waiting helpers

  /** Resolve when `predicate()` is true; reject after `timeoutMs`. */
  async waitFor(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < 1_000_000; i++) {
      if (predicate()) return;
      if (Date.now() > deadline) throw new Error(`fake mj proxy: timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((r) => setTimeout(r, 5));
    }
  }

  /** Resolve with the task once its status is one of `statuses`. */
  async waitForStatus(taskId: string, statuses: string | string[], timeoutMs = 5000): Promise<FakeTask> {
    const want = Array.isArray(statuses) ? statuses : [statuses];
    await this.waitFor(() => want.includes(String(this.task(taskId)?.status)), timeoutMs, `task ${taskId} → ${want.join('|')}`);
    return this.task(taskId) as FakeTask;
  }

  // ---------------------------------------------------------------- internals

  private closeServer(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.destroySockets();
    });
  }

  private destroySockets(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    this.server.closeAllConnections();
  }

  private delay(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  private onChanged(task: FakeTask): void {
    const hook = task.fake.notifyHook;
    if (!hook || task.status === 'MODAL' || task.status === 'NOT_START') return;
    const key = `${String(task.status)}|${String(task.progress)}`;
    if (key === task.fake.lastNotified) return;
    task.fake.lastNotified = key;
    const body = serialize(task);
    // the form reseller's doc: a task's customIds come with the notifyHook callback (its /fetch names no buttons)
    if (this.flavor === 'task-form') body.buttons = task.status === 'SUCCESS' ? task.fake.buttons.map((b) => ({ ...b })) : [];
    this.notifier.send(hook, task.id, String(task.status), task.progress ?? null, body);
  }

  private takeForcedCode(): { code: number; description: string } | undefined {
    const f = this.forced[0];
    if (!f) return undefined;
    f.remaining -= 1;
    if (f.remaining <= 0) this.forced.shift();
    return { code: f.code, description: f.description };
  }

  private authorized(req: IncomingMessage): boolean {
    const secret = this.options.secret;
    if (secret === '') return true;
    const auth = req.headers.authorization;
    switch (this.options.authStyle) {
      case 'mj-api-secret':
        return req.headers['mj-api-secret'] === secret;
      case 'authorization':
        return auth === secret;
      case 'bearer': {
        const m = /^Bearer (.*)$/i.exec(auth ?? '');
        return m?.[1] === secret;
      }
      default:
        return false;
    }
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const prefixed = MODE_PREFIX.exec(path);
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      path,
      route: prefixed?.[2] ?? path,
      mode: prefixed?.[1],
      headers: { ...req.headers },
      body: undefined,
      contentType: req.headers['content-type'] ?? '',
      at: Date.now(),
      status: 0,
    };
    this.requests.push(rec);
    const reply = new Reply(res, rec);
    try {
      const raw = await readBody(req);
      if (raw === 'too-large') return reply.empty(413);
      const parsed = parseBody(raw, rec.contentType);
      rec.body = parsed.value;
      if (this.latencyMs > 0) {
        await this.delay(this.latencyMs);
        if (this.closed) return;
      }
      const fault = this.faults.take(path);
      if (fault) {
        rec.fault = fault.kind;
        switch (fault.kind) {
          case 'hang':
            return; // never answered; close()/down() destroys the socket
          case 'reset':
            req.socket.destroy();
            return;
          case 'invalid-json':
            return reply.raw(200, '{"code":1,', 'application/json; charset=utf-8');
          case 'wrong-content-type':
            return reply.raw(200, '<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>', 'text/html; charset=utf-8');
          case 'redirect':
            return reply.redirect(302, fault.location);
          case 'fail': {
            const { status = 500, body, contentType } = fault.spec;
            if (body === undefined)
              return reply.raw(
                status,
                JSON.stringify({ success: false, code: -1, message: '操作失败', timestamp: Date.now() }),
                contentType ?? 'application/json; charset=utf-8',
              );
            if (typeof body === 'string') return reply.raw(status, body, contentType ?? 'text/plain; charset=utf-8');
            return reply.raw(status, JSON.stringify(body), contentType ?? 'application/json; charset=utf-8');
          }
        }
      }
      const img = IMAGE_PATH.exec(path);
      if (img) return this.serveImage(rec.method, img[1] ?? '', img[2] !== undefined, reply);
      const vid = VIDEO_PATH.exec(path);
      if (vid) return this.serveVideo(rec.method, vid[1] ?? '', Number(vid[2] ?? 0), vid[3] !== undefined, vid[4] !== undefined, reply);
      if (prefixed && this.flavor === 'novicezk') return reply.empty(404);
      const sub = /^\/mj(\/.*)$/.exec(rec.route)?.[1];
      if (sub === undefined) return reply.empty(404);
      if (!this.authorized(req)) {
        this.authFailures += 1;
        return this.flavor === 'trueai' ? reply.text(401, 'Authorization header missing.') : reply.empty(401);
      }
      const match = matchRoute(this.flavor, rec.method, sub);
      if (match === undefined) return reply.empty(404);
      if (match === 'method-not-allowed') return reply.empty(405);
      let body: Record<string, unknown> = {};
      if (match.def.body === 'json') {
        if (parsed.kind === 'form' || parsed.kind === 'other') return reply.empty(415);
        if (parsed.kind === 'json') {
          const v = parsed.value;
          if (parsed.invalid || typeof v !== 'object' || v === null || Array.isArray(v)) {
            return this.flavor === 'trueai' ? reply.taResult('The JSON value could not be converted.', 400) : reply.empty(400);
          }
          body = v as Record<string, unknown>;
        }
      } else if (match.def.body === 'form') {
        if (parsed.kind === 'json' || parsed.kind === 'other') return reply.empty(415);
        if (parsed.kind === 'form') body = parsed.value as Record<string, unknown>;
      }
      const ctx: RouteCtx = {
        opts: this.options,
        engine: this.engine,
        baseUrl: this.url,
        listEnabled: this.listEnabled,
        takeForcedCode: () => this.takeForcedCode(),
      };
      const routeReq: RouteReq = { method: rec.method, sub, pathMode: rec.mode, id: match.id, body };
      match.def.handler(ctx, routeReq, reply);
      if (rec.status === 0) reply.empty(204);
    } catch {
      reply.raw(500, JSON.stringify({ success: false, code: -1, message: '操作失败', timestamp: Date.now() }), 'application/json; charset=utf-8');
    }
  }

  /** A video task's clip as real MP4 bytes (`videoClipBytes` each, made on every request: nothing held), or its webp thumbnail. */
  private serveVideo(method: string, id: string, clip: number, thumbnail: boolean, mp4: boolean, reply: Reply): void {
    if (method !== 'GET' && method !== 'HEAD') return reply.empty(405);
    const task = this.engine.tasks.get(id);
    const video = task?.fake.video;
    if (!task || !video || task.status !== 'SUCCESS' || clip >= video.clips || thumbnail === mp4) return reply.empty(404);
    if (thumbnail) return reply.raw(200, makeWebp(64, 64), 'image/webp');
    const seed = (Number(id.slice(-4)) || 1) + clip;
    reply.raw(200, makeMp4({ bytes: this.options.videoClipBytes, durationS: video.durationS, seed }), 'video/mp4');
  }

  private serveImage(method: string, id: string, preview: boolean, reply: Reply): void {
    if (method !== 'GET' && method !== 'HEAD') return reply.empty(405);
    const task = this.engine.tasks.get(id);
    if (!task || !task.fake.width || !task.fake.height) return reply.empty(404);
    const describeSource = task.fake.fixedImageUrl !== undefined && task.fake.fixedImageUrl !== null && task.fake.fixedImageUrl.startsWith(this.url);
    if (!preview && task.status !== 'SUCCESS' && !describeSource) return reply.empty(404);
    const key = `${id}${preview ? '-preview' : ''}`;
    let bytes = this.imageCache.get(key);
    if (!bytes) {
      const w = preview ? Math.max(1, Math.floor(task.fake.width / 2)) : task.fake.width;
      const h = preview ? Math.max(1, Math.floor(task.fake.height / 2)) : task.fake.height;
      bytes = makePng(w, h, { seed: Number(id.slice(-6)) || 1 });
      if (this.imageCache.size >= IMAGE_CACHE_MAX) {
        const oldest = this.imageCache.keys().next().value;
        if (oldest !== undefined) this.imageCache.delete(oldest);
      }
      this.imageCache.set(key, bytes);
    }
    reply.raw(200, bytes, 'image/png'); // node omits the body for HEAD
  }
}

export async function startFakeMjProxy(opts?: FakeMjProxyOptions): Promise<FakeMjProxy> {
  const proxy = new FakeMjProxy(opts);
  await proxy.listen();
  return proxy;
}
