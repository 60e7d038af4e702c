// Route table per flavour (contract §3.0) and the query routes (§3.11).
import type { MjFlavor } from '../../../src/upstream/mjTypes.js';
import { handleAction, handleChange, handleModal, handleSimpleChange } from './actions.js';
import { serialize, type RouteCtx, type RouteReq } from './context.js';
import type { Reply } from './http.js';
import { handleBlend, handleDescribe, handleFaceSwap, handleImagine, handleShorten, handleUploadDiscordImages } from './submits.js';
import { isTerminal } from './tasks.js';
import { handleVideo } from './videoSubmit.js';

export type BodyRule = 'json' | 'form' | 'none';

export interface RouteDef {
  method: 'GET' | 'POST';
  /** matched against the path after `/mj` (and any mode prefix) */
  pattern: RegExp;
  flavors: readonly MjFlavor[];
  body: BodyRule;
  handler: (ctx: RouteCtx, req: RouteReq, reply: Reply) => void;
}

const ALL: readonly MjFlavor[] = ['trueai', 'plus', 'novicezk', 'task-form'];
const PLUS_LIKE: readonly MjFlavor[] = ['trueai', 'plus'];

function handleFetch(ctx: RouteCtx, req: RouteReq, reply: Reply): void {
  const task = ctx.engine.tasks.get(req.id ?? '');
  if (!task) return ctx.opts.flavor === 'trueai' ? reply.empty(204) : reply.empty(200);
  reply.json(200, serialize(task));
}

/** Shuffled, never in request order when two or more tasks are found. */
function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  if (out.length > 1 && out.every((x, i) => x === items[i])) out.push(out.shift() as T);
  return out;
}

function handleList(ctx: RouteCtx, req: RouteReq, reply: Reply): void {
  if (!ctx.listEnabled) return reply.empty(404);
  const raw = req.body.ids;
  const ids = Array.isArray(raw) ? raw.map((x) => String(x)) : [];
  const found = ids.map((id) => ctx.engine.tasks.get(id)).filter((t) => t !== undefined);
  reply.json(200, shuffled(found).map(serialize));
}

function handleQueue(ctx: RouteCtx, _req: RouteReq, reply: Reply): void {
  const queued = [...ctx.engine.tasks.values()].filter((t) => t.status === 'NOT_START').sort((a, b) => Number(a.submitTime) - Number(b.submitTime));
  reply.json(200, queued.map(serialize));
}

function handleImageSeed(ctx: RouteCtx, req: RouteReq, reply: Reply): void {
  const task = ctx.engine.tasks.get(req.id ?? '');
  if (!task) return reply.envelope(3, '任务不存在', null, {}, 404);
  if (!ctx.opts.seedAvailable) return reply.envelope(4, '账号未配置私信频道');
  if (task.status !== 'SUCCESS') return reply.envelope(4, '任务没有消息 hash', null, {}, 400);
  const seed = String(parseInt(task.fake.hash.replace(/-/g, '').slice(0, 8), 16) % 4294967295);
  task.seed = seed;
  reply.envelope(1, '成功', seed);
}

function handleCancel(ctx: RouteCtx, req: RouteReq, reply: Reply): void {
  const id = req.id ?? '';
  const task = ctx.engine.tasks.get(id);
  if (!task) return reply.envelope(3, '任务不存在', null, {}, 404);
  if (isTerminal(task)) return reply.envelope(4, '任务状态错误');
  if (ctx.opts.flavor === 'trueai') {
    ctx.engine.cancel(id, 'FAILURE', '取消任务');
    return reply.empty(200);
  }
  ctx.engine.cancel(id, 'CANCEL', '取消任务');
  reply.envelope(1, '成功', id);
}

export const ROUTES: readonly RouteDef[] = [
  { method: 'POST', pattern: /^\/submit\/imagine$/, flavors: ALL, body: 'json', handler: handleImagine },
  { method: 'POST', pattern: /^\/submit\/blend$/, flavors: ALL, body: 'json', handler: handleBlend },
  { method: 'POST', pattern: /^\/submit\/describe$/, flavors: ALL, body: 'json', handler: handleDescribe },
  { method: 'POST', pattern: /^\/submit\/shorten$/, flavors: PLUS_LIKE, body: 'json', handler: handleShorten },
  { method: 'POST', pattern: /^\/submit\/action$/, flavors: PLUS_LIKE, body: 'json', handler: handleAction },
  { method: 'POST', pattern: /^\/submit\/modal$/, flavors: PLUS_LIKE, body: 'json', handler: handleModal },
  { method: 'POST', pattern: /^\/task\/action$/, flavors: ['task-form'], body: 'form', handler: handleAction },
  { method: 'POST', pattern: /^\/task\/modal$/, flavors: ['task-form'], body: 'form', handler: handleModal },
  { method: 'POST', pattern: /^\/submit\/change$/, flavors: ['novicezk', 'plus'], body: 'json', handler: handleChange },
  { method: 'POST', pattern: /^\/submit\/simple-change$/, flavors: ['novicezk', 'plus'], body: 'json', handler: handleSimpleChange },
  { method: 'POST', pattern: /^\/submit\/upload-discord-images$/, flavors: ['trueai'], body: 'json', handler: handleUploadDiscordImages },
  { method: 'POST', pattern: /^\/submit\/video$/, flavors: ['trueai'], body: 'json', handler: handleVideo },
  { method: 'POST', pattern: /^\/insight-face\/swap$/, flavors: ['trueai', 'plus', 'task-form'], body: 'json', handler: handleFaceSwap },
  { method: 'GET', pattern: /^\/task\/([^/]+)\/fetch$/, flavors: ALL, body: 'none', handler: handleFetch },
  { method: 'POST', pattern: /^\/task\/list-by-condition$/, flavors: ALL, body: 'json', handler: handleList },
  { method: 'POST', pattern: /^\/task\/list-by-ids$/, flavors: ALL, body: 'json', handler: handleList },
  { method: 'GET', pattern: /^\/task\/queue$/, flavors: ['novicezk', 'plus'], body: 'none', handler: handleQueue },
  { method: 'GET', pattern: /^\/task\/([^/]+)\/image-seed$/, flavors: ['trueai', 'plus', 'task-form'], body: 'none', handler: handleImageSeed },
  { method: 'POST', pattern: /^\/task\/([^/]+)\/cancel$/, flavors: ['trueai', 'plus', 'task-form'], body: 'none', handler: handleCancel },
];

export type RouteMatch = { def: RouteDef; id?: string | undefined } | 'method-not-allowed' | undefined;

/** Find the route for `sub` (path after `/mj`) on a flavour. */
export function matchRoute(flavor: MjFlavor, method: string, sub: string): RouteMatch {
  let wrongMethod = false;
  for (const def of ROUTES) {
    if (!def.flavors.includes(flavor)) continue;
    const m = def.pattern.exec(sub);
    if (!m) continue;
    if (def.method !== method) {
      wrongMethod = true;
      continue;
    }
    return { def, id: m[1] };
  }
  return wrongMethod ? 'method-not-allowed' : undefined;
}
