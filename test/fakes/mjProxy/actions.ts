// Button presses (§3.6, §3.8), the modal step (§3.7, §8) and the legacy change routes (§3.9).
import { PNG } from 'pngjs';
import { classifyCustomId, gridButtons, GRID_ACTIONS, type PressKind } from './buttons.js';
import {
  admitAndReply,
  bool,
  commonInvalid,
  instanceProps,
  modeOf,
  parseImageRef,
  replyForced,
  replyQueueFull,
  str,
  type Body,
  type RouteCtx,
  type RouteReq,
} from './context.js';
import type { Reply } from './http.js';
import { createDescribeTask } from './submits.js';
import { tokenWeights } from './texts.js';
import type { FakeTask } from './types.js';

const MODAL_DESCRIPTION = 'Waiting for window confirm';

interface PressOptions {
  enableRemix: boolean;
  state: string;
  notifyHook: string | undefined;
  pathMode: string | undefined;
  /** legacy change routes: never a modal */
  noModal?: boolean;
}

function needsModal(ctx: RouteCtx, kind: PressKind, o: PressOptions): boolean {
  if (o.noModal) return false;
  switch (kind.modal) {
    case 'always':
      return true;
    case 'analyzer':
      return !ctx.opts.autoSubmit;
    case 'remix':
      return o.enableRemix || (ctx.opts.remix && !ctx.opts.autoSubmit);
    default:
      return false;
  }
}

function childSize(ctx: RouteCtx, parent: FakeTask, action: string): { width: number; height: number } {
  const g = ctx.opts.gridSize;
  if (action === 'UPSCALE') return { width: g * 2, height: g * 2 };
  if (action === 'UPSCALE_HD') return { width: (parent.fake.width || g * 2) * 2, height: (parent.fake.height || g * 2) * 2 };
  if (action === 'SHORTEN') return { width: 0, height: 0 };
  return { width: g, height: g };
}

function childDescription(parent: FakeTask, kind: PressKind, customId: string): string {
  if (kind.action === 'UPSCALE') return `/up ${parent.id} U${kind.index ?? 1}`;
  if (kind.action === 'VARIATION' && /::variation::/.test(customId)) return `/up ${parent.id} V${kind.index ?? 1}`;
  if (kind.action === 'REROLL') return `/up ${parent.id} R`;
  return `/${kind.action.toLowerCase()} ${parent.id} ${customId}`;
}

/** Press `customId` on `parent` (already validated as one of its buttons); answers the request. */
function press(ctx: RouteCtx, parent: FakeTask, customId: string, kind: PressKind, o: PressOptions, reply: Reply): void {
  const flavor = ctx.opts.flavor;
  if (kind.special === 'bookmark') {
    if (flavor === 'plus') return reply.envelope(4, '不支持的操作');
    return reply.envelope(1, '提交成功', parent.id, instanceProps());
  }
  const base = {
    state: o.state,
    botType: String(parent.botType ?? 'MID_JOURNEY'),
    mode: modeOf(o.pathMode, '', String(parent.mode ?? 'FAST')),
    notifyHook: o.notifyHook,
    parentId: parent.id,
    pathMode: o.pathMode,
  };
  const parentPrompt = String(parent.prompt ?? '');
  const parentFinal = String(parent.properties?.finalPrompt ?? parentPrompt);

  if (kind.special === 'imagine-all') {
    if (flavor === 'plus') return reply.envelope(4, '不支持的操作');
    const prompts = parent.fake.prompts ?? [];
    if (!ctx.engine.hasRoom()) return replyQueueFull(ctx, reply);
    const ids = prompts.map((p) => {
      const t = ctx.engine.create({
        ...base,
        action: 'IMAGINE',
        prompt: p,
        description: `/imagine ${p}`,
        finalPrompt: p,
        width: ctx.opts.gridSize,
        height: ctx.opts.gridSize,
      });
      ctx.engine.admit(t);
      return t.id;
    });
    return reply.envelope(1, '提交成功', ids.join(','), instanceProps());
  }

  if (kind.action === 'DESCRIBE') {
    if (!ctx.engine.hasRoom()) return replyQueueFull(ctx, reply);
    const t = createDescribeTask(ctx, {
      ...base,
      sourceKey: `${parent.fake.sourceKey ?? parent.id}#retry${parent.id}`,
      width: parent.fake.width || ctx.opts.gridSize,
      height: parent.fake.height || ctx.opts.gridSize,
      fixedUrl: parent.imageUrl ?? undefined,
    });
    return admitAndReply(ctx, t, reply);
  }

  // prompt the new task starts from
  let prompt = parentPrompt;
  let finalPrompt = parentFinal;
  if (kind.modalKind === 'picreader' || kind.modalKind === 'analyzer') {
    prompt = parent.fake.prompts?.[(kind.index ?? 1) - 1] ?? parentPrompt;
    finalPrompt = prompt;
  }
  if (kind.modalKind === 'inpaint') finalPrompt = '';
  const video = videoOf(parent, kind);
  if (video && kind.video?.motion) finalPrompt = withMotion(parentFinal, kind.video.motion);
  const action = video && kind.action === 'REROLL' ? 'VIDEO' : kind.action;
  const size = childSize(ctx, parent, action);
  const properties: Record<string, unknown> = { custom_id: customId };
  if (kind.index !== undefined && (kind.action === 'UPSCALE' || kind.action === 'VARIATION')) properties.action_index = kind.index;

  if (needsModal(ctx, kind, o)) {
    const t = ctx.engine.create({
      ...base,
      action,
      prompt,
      description: MODAL_DESCRIPTION,
      finalPrompt,
      width: size.width,
      height: size.height,
      status: 'MODAL',
      properties: { ...properties, remix_modal: kind.modalKind ?? 'remix' },
    });
    t.fake.customId = customId;
    t.fake.modalKind = kind.modalKind ?? 'remix';
    t.fake.video = video;
    return reply.envelope(21, flavor === 'plus' ? '窗口等待' : MODAL_DESCRIPTION, t.id, { finalPrompt, remix: true });
  }

  if (!ctx.engine.hasRoom()) return replyQueueFull(ctx, reply);
  const t = ctx.engine.create({
    ...base,
    action,
    prompt,
    description: childDescription(parent, kind, customId),
    finalPrompt,
    width: size.width,
    height: size.height,
    properties,
  });
  t.fake.video = video;
  if (kind.special === 'details') {
    const md = tokenWeights(parentPrompt);
    t.fake.result = { finalPrompt: md, description: md };
    t.fake.fixedImageUrl = null;
    t.fake.prompts = parent.fake.prompts;
  }
  admitAndReply(ctx, t, reply);
}

/** What a press makes of video (§3.10a): animate → 4 clips of 5 s; a clip's U → that clip; extend → 4 s longer; 🔄 on a video grid → a new grid. */
function videoOf(parent: FakeTask, kind: PressKind): FakeTask['fake']['video'] {
  const from = parent.fake.video;
  const motion = kind.video?.motion ?? from?.motion ?? 'low';
  if (kind.video?.step === 'animate') return { clips: 4, durationS: 5, motion };
  if (!from) return undefined;
  if (kind.video?.step === 'upscale') return { clips: 1, durationS: from.durationS, motion };
  if (kind.video?.step === 'extend') return { clips: 1, durationS: from.durationS + 4, motion };
  if (kind.action === 'REROLL') return { ...from };
  return undefined;
}

/** The prompt a video press runs (and a remix modal starts from): `--video 1 --motion high|low`, replacing earlier ones. */
function withMotion(prompt: string, motion: 'high' | 'low'): string {
  const bare = prompt
    .replace(/\s--video\s+\S+/gi, '')
    .replace(/\s--motion\s+\S+/gi, '')
    .trim();
  return `${bare} --video 1 --motion ${motion}`;
}

/** `POST /mj/submit/action` (JSON) and the form reseller's `POST /mj/task/action`. */
export function handleAction(ctx: RouteCtx, req: RouteReq, reply: Reply): void {
  if (replyForced(ctx, reply)) return;
  const { body } = req;
  const taskId = str(body, 'taskId');
  const customId = str(body, 'customId');
  if (!taskId) return reply.envelope(4, 'taskId不能为空');
  if (!customId) return reply.envelope(4, 'customId不能为空');
  const invalid = commonInvalid(body);
  if (invalid) return reply.envelope(4, invalid);
  const parent = ctx.engine.tasks.get(taskId);
  if (!parent) return reply.envelope(3, '关联任务不存在或已失效', null, {}, 404);
  if (parent.status !== 'SUCCESS') return reply.envelope(4, '关联任务状态错误');
  const kind = classifyCustomId(customId);
  if (ctx.opts.flavor === 'trueai' && ctx.opts.trueaiV11 && (!kind || kind.rejectedOnV11)) return reply.envelope(4, '未知的 Action 类型');
  if (!kind || !parent.fake.buttons.some((b) => b.customId === customId)) return reply.envelope(4, '无效的 customId');
  press(ctx, parent, customId, kind, pressOptions(body, req), reply);
}

function pressOptions(body: Body, req: RouteReq): PressOptions {
  return { enableRemix: bool(body, 'enableRemix'), state: str(body, 'state') ?? '', notifyHook: str(body, 'notifyHook') || undefined, pathMode: req.pathMode };
}

/** PNG bytes of a mask → its size, or a reason it is not acceptable. */
function maskSize(ctx: RouteCtx, mask: string | undefined): { width: number; height: number } | string {
  if (!mask) return 'maskBase64不能为空';
  const dataUrl = /^data:image\/png;base64,/i.test(mask);
  if (!dataUrl && (ctx.opts.flavor !== 'trueai' || mask.startsWith('data:'))) return 'maskBase64必须是PNG data URL';
  const ref = parseImageRef(mask, { bare: ctx.opts.flavor === 'trueai', url: false });
  if (!ref.ok || ref.kind === 'url') return `maskBase64格式错误${ref.ok ? '' : `: ${ref.reason}`}`;
  if (ref.info.format !== 'png') return 'maskBase64必须是PNG';
  try {
    const png = PNG.sync.read(ref.bytes);
    return { width: png.width, height: png.height };
  } catch {
    return 'maskBase64不是有效的PNG';
  }
}

/** `POST /mj/submit/modal` (JSON) and the form reseller's `POST /mj/task/modal`. */
export function handleModal(ctx: RouteCtx, req: RouteReq, reply: Reply): void {
  const { body } = req;
  const taskId = str(body, 'taskId');
  if (!taskId) return reply.envelope(4, 'taskId不能为空');
  const task = ctx.engine.tasks.get(taskId);
  if (!task) return reply.envelope(3, '任务不存在', null, {}, 404);
  if (task.status !== 'MODAL' || task.fake.modalSubmitted) return reply.envelope(4, '任务状态错误');
  const parent = ctx.engine.tasks.get(String(task.parentId ?? ''));
  const submitted = (str(body, 'prompt') ?? '').trim();
  const prefill = String(task.properties?.finalPrompt ?? '');
  let effective = submitted || prefill || String(parent?.prompt ?? '');
  if (task.fake.modalKind === 'zoom') {
    const zooms = [...effective.matchAll(/--zoom\s+(\S+)/gi)];
    const v = Number(zooms[0]?.[1]);
    if (zooms.length !== 1 || !Number.isFinite(v) || v < 1 || v > 2) return reply.envelope(4, 'Custom Zoom 需要 --zoom 参数 (1-2)');
  }
  let mask: { width: number; height: number } | undefined;
  if (task.fake.modalKind === 'inpaint') {
    const m = maskSize(ctx, str(body, 'maskBase64'));
    if (typeof m === 'string') return reply.envelope(4, m);
    const want = { width: parent?.fake.width ?? 0, height: parent?.fake.height ?? 0 };
    if (m.width !== want.width || m.height !== want.height) {
      return reply.envelope(4, `蒙版尺寸(${m.width}x${m.height})与图片尺寸(${want.width}x${want.height})不一致`);
    }
    mask = m;
    effective = submitted || String(parent?.prompt ?? '');
  }
  if (!ctx.engine.hasRoom()) return replyQueueFull(ctx, reply);
  task.fake.modalSubmitted = true;
  task.fake.modalPrompt = submitted;
  task.fake.maskSize = mask;
  task.prompt = effective;
  task.promptEn = effective;
  task.description = `/${String(task.action).toLowerCase()} ${String(task.parentId ?? '')}`.trim();
  if (task.properties) task.properties.finalPrompt = effective;
  admitAndReply(ctx, task, reply);
}

const CHANGE_PARENTS: ReadonlySet<string> = new Set(['IMAGINE', 'VARIATION', 'REROLL', 'BLEND']);

function change(ctx: RouteCtx, req: RouteReq, reply: Reply, taskId: string | undefined, action: string, index: number): void {
  if (!taskId) return reply.envelope(4, 'taskId不能为空');
  const parent = ctx.engine.tasks.get(taskId);
  if (!parent) return reply.envelope(3, '关联任务不存在或已失效', null, {}, ctx.opts.flavor === 'novicezk' ? 200 : 404);
  if (!['UPSCALE', 'VARIATION', 'REROLL'].includes(action)) return reply.envelope(4, 'action参数错误');
  if (action !== 'REROLL' && !(Number.isInteger(index) && index >= 1 && index <= 4)) return reply.envelope(4, 'index参数错误');
  if (parent.status !== 'SUCCESS') return reply.envelope(4, '关联任务状态错误');
  if (!CHANGE_PARENTS.has(String(parent.action)) || !GRID_ACTIONS.has(String(parent.action))) return reply.envelope(4, '关联任务不允许执行变化');
  const grid = gridButtons(parent.fake.hash);
  const button = action === 'UPSCALE' ? grid[index - 1] : action === 'VARIATION' ? grid[4 + index] : grid[4];
  const kind = button ? classifyCustomId(button.customId) : undefined;
  if (!button || !kind) return reply.envelope(4, 'action参数错误');
  press(ctx, parent, button.customId, kind, { ...pressOptions(req.body, req), enableRemix: false, noModal: true }, reply);
}

/** `POST /mj/submit/change {taskId, action, index}` (NZ, PL). */
export function handleChange(ctx: RouteCtx, req: RouteReq, reply: Reply): void {
  if (replyForced(ctx, reply)) return;
  const invalid = commonInvalid(req.body);
  if (invalid) return reply.envelope(4, invalid);
  const action = (str(req.body, 'action') ?? '').toUpperCase();
  change(ctx, req, reply, str(req.body, 'taskId'), action, Number(req.body.index ?? 0));
}

/** `POST /mj/submit/simple-change {content: "<taskId> U2"}` (NZ, PL). */
export function handleSimpleChange(ctx: RouteCtx, req: RouteReq, reply: Reply): void {
  if (replyForced(ctx, reply)) return;
  const m = /^\s*(\d+)\s+([UVR])([1-4])?\s*$/i.exec(str(req.body, 'content') ?? '');
  if (!m) return reply.envelope(4, 'content参数错误');
  const letter = (m[2] ?? '').toUpperCase();
  if (letter !== 'R' && !m[3]) return reply.envelope(4, 'content参数错误');
  const action = letter === 'U' ? 'UPSCALE' : letter === 'V' ? 'VARIATION' : 'REROLL';
  change(ctx, req, reply, m[1], action, Number(m[3] ?? 0));
}
