// Submit routes that start a new job: imagine, blend, describe, shorten, insight-face swap (§3.2–3.5,
// image-tools.md §3).
import { createHash } from 'node:crypto';
import type { Reply } from './http.js';
import {
  admitAndReply,
  bannedWordIn,
  botTypeOf,
  commonInvalid,
  finalPromptOf,
  modeOf,
  parseImageRef,
  replyForced,
  replyQueueFull,
  str,
  versionParam,
  type RouteCtx,
  type RouteReq,
} from './context.js';
import { describePrompts, keycapList, ratio, shortenMarkdown } from './texts.js';

export function handleImagine(ctx: RouteCtx, req: RouteReq, reply: Reply): void {
  if (replyForced(ctx, reply)) return;
  const { body } = req;
  const prompt = (str(body, 'prompt') ?? '').trim();
  if (!prompt) return reply.envelope(4, 'prompt不能为空');
  const invalid = commonInvalid(body);
  if (invalid) return reply.envelope(4, invalid);
  const flavor = ctx.opts.flavor;
  const ignored: string[] = [];
  let images: unknown[] = [];
  if (flavor === 'task-form') {
    if (body.base64 !== undefined && body.base64 !== null && body.base64 !== '') images = [body.base64];
    if (body.base64Array !== undefined) ignored.push('base64Array');
  } else {
    if (Array.isArray(body.base64Array)) images = body.base64Array as unknown[];
    else if (body.base64Array !== undefined && body.base64Array !== null) return reply.envelope(4, 'base64Array参数错误');
    if (body.base64 !== undefined) ignored.push('base64');
  }
  for (const img of images) {
    const ref = parseImageRef(img, { bare: flavor === 'trueai', url: flavor === 'trueai' });
    if (!ref.ok) return reply.envelope(4, `base64格式错误: ${ref.reason}`);
  }
  const banned = bannedWordIn(prompt, ctx.opts.bannedWords);
  if (banned !== undefined && !ctx.opts.bannedAtRunTime) {
    return reply.envelope(24, '可能包含敏感词', null, { promptEn: prompt, bannedWord: banned });
  }
  if (!ctx.engine.hasRoom()) return replyQueueFull(ctx, reply);
  const task = ctx.engine.create({
    action: 'IMAGINE',
    prompt,
    description: `/imagine ${prompt}`,
    state: str(body, 'state') ?? '',
    botType: botTypeOf(body),
    mode: modeOf(req.pathMode, prompt),
    finalPrompt: finalPromptOf(prompt, ctx.opts.version),
    notifyHook: str(body, 'notifyHook') || undefined,
    width: ctx.opts.gridSize,
    height: ctx.opts.gridSize,
    imageCount: images.length,
    pathMode: req.pathMode,
  });
  if (ignored.length > 0) task.fake.ignored = ignored;
  if (banned !== undefined) task.fake.failWith = '可能包含敏感词';
  admitAndReply(ctx, task, reply);
}

/**
 * `POST /mj/submit/upload-discord-images` (trueai, §3.10): `{base64Array}` → code 1 with one Discord CDN URL per image,
 * in order (not a task). The URL names the image's SHA-256, so a test knows which upload it is.
 */
export function handleUploadDiscordImages(ctx: RouteCtx, req: RouteReq, reply: Reply): void {
  if (replyForced(ctx, reply)) return;
  const list = req.body.base64Array;
  if (!Array.isArray(list) || list.length === 0) return reply.envelope(4, 'base64Array参数错误');
  const urls: string[] = [];
  for (const img of list as unknown[]) {
    const ref = parseImageRef(img, { bare: true, url: false });
    if (!ref.ok || ref.kind === 'url') return reply.envelope(4, `base64格式错误: ${ref.ok ? 'URL not accepted' : ref.reason}`);
    urls.push(uploadedImageUrl(ref.bytes));
  }
  reply.envelope(1, '成功', urls);
}

/** Where the fake says an uploaded image now lives (Discord's CDN, as the real proxy answers). */
export function uploadedImageUrl(bytes: Buffer): string {
  const digest = createHash('sha256').update(bytes).digest('hex').slice(0, 24);
  return `https://cdn.discordapp.com/attachments/1190000000000000001/1190000000000000009/${digest}.png`;
}

const DIMENSIONS: Record<string, string> = { PORTRAIT: '2:3', SQUARE: '1:1', LANDSCAPE: '3:2' };

export function handleBlend(ctx: RouteCtx, req: RouteReq, reply: Reply): void {
  if (replyForced(ctx, reply)) return;
  const { body } = req;
  const flavor = ctx.opts.flavor;
  const dims = body.dimensions;
  if (dims !== undefined && dims !== null && (typeof dims !== 'string' || !(dims in DIMENSIONS))) {
    if (flavor === 'trueai') return reply.taResult(`The JSON value could not be converted to BlendDimensions. Path: $.dimensions`);
    return reply.envelope(4, 'dimensions参数错误');
  }
  if ((dims === undefined || dims === null) && flavor === 'novicezk') return reply.envelope(4, 'dimensions参数错误');
  const list = body.base64Array;
  if (!Array.isArray(list) || list.length < 2 || list.length > 5) return reply.envelope(4, 'base64List参数错误');
  for (const img of list as unknown[]) {
    const ref = parseImageRef(img, { bare: flavor === 'trueai', url: flavor === 'trueai' });
    if (!ref.ok) return reply.envelope(4, `base64格式错误: ${ref.reason}`);
  }
  const invalid = commonInvalid(body);
  if (invalid) return reply.envelope(4, invalid);
  if (!ctx.engine.hasRoom()) return replyQueueFull(ctx, reply);
  const ar = DIMENSIONS[typeof dims === 'string' ? dims : 'SQUARE'] ?? '1:1';
  const task = ctx.engine.create({
    action: 'BLEND',
    prompt: '',
    description: '',
    state: str(body, 'state') ?? '',
    botType: botTypeOf(body),
    mode: modeOf(req.pathMode, ''),
    finalPrompt: `--ar ${ar} --v ${versionParam(ctx.opts.version)}`,
    notifyHook: str(body, 'notifyHook') || undefined,
    width: ctx.opts.gridSize,
    height: ctx.opts.gridSize,
    imageCount: list.length,
    pathMode: req.pathMode,
  });
  task.description = `/blend ${task.id} ${list.length}`;
  admitAndReply(ctx, task, reply);
}

export function handleDescribe(ctx: RouteCtx, req: RouteReq, reply: Reply): void {
  if (replyForced(ctx, reply)) return;
  const { body } = req;
  const flavor = ctx.opts.flavor;
  const b64 = str(body, 'base64');
  const link = flavor === 'trueai' ? str(body, 'link') : undefined;
  let width = ctx.opts.gridSize;
  let height = ctx.opts.gridSize;
  let sourceKey: string;
  let fixedUrl: string | undefined;
  if (b64) {
    const ref = parseImageRef(b64, { bare: flavor === 'trueai', url: false });
    if (!ref.ok) return reply.envelope(4, `base64格式错误: ${ref.reason}`);
    if (ref.info) ({ width, height } = ref.info);
    sourceKey = b64;
  } else if (link) {
    if (!/^https?:\/\//i.test(link)) return reply.envelope(4, 'link格式错误');
    sourceKey = link;
    fixedUrl = link;
  } else {
    return reply.envelope(4, flavor === 'trueai' ? 'base64和link不能同时为空' : 'base64不能为空');
  }
  const invalid = commonInvalid(body);
  if (invalid) return reply.envelope(4, invalid);
  if (!ctx.engine.hasRoom()) return replyQueueFull(ctx, reply);
  const task = createDescribeTask(ctx, {
    sourceKey,
    width,
    height,
    fixedUrl,
    state: str(body, 'state') ?? '',
    botType: botTypeOf(body),
    mode: modeOf(req.pathMode, ''),
    notifyHook: str(body, 'notifyHook') || undefined,
    pathMode: req.pathMode,
  });
  admitAndReply(ctx, task, reply);
}

export function createDescribeTask(
  ctx: RouteCtx,
  a: {
    sourceKey: string;
    width: number;
    height: number;
    fixedUrl: string | undefined;
    state: string;
    botType: string;
    mode: string;
    notifyHook: string | undefined;
    pathMode: string | undefined;
    parentId?: string;
  },
) {
  const prompts = describePrompts(a.sourceKey, ratio(a.width, a.height));
  const list = keycapList(prompts);
  const task = ctx.engine.create({
    action: 'DESCRIBE',
    prompt: '',
    promptEn: '',
    description: '',
    state: a.state,
    botType: a.botType,
    mode: a.mode,
    finalPrompt: '',
    notifyHook: a.notifyHook,
    parentId: a.parentId,
    width: a.width,
    height: a.height,
    imageCount: 1,
    pathMode: a.pathMode,
  });
  task.description = `/describe ${task.id}`;
  task.fake.prompts = prompts;
  task.fake.sourceKey = a.sourceKey;
  task.fake.result = { finalPrompt: list, promptEn: list };
  task.fake.fixedImageUrl = a.fixedUrl ?? `${ctx.baseUrl}/images/${task.id}.png`;
  task.imageUrl = task.fake.fixedImageUrl;
  return task;
}

export function handleShorten(ctx: RouteCtx, req: RouteReq, reply: Reply): void {
  if (replyForced(ctx, reply)) return;
  const { body } = req;
  const prompt = (str(body, 'prompt') ?? '').trim();
  if (!prompt) return reply.envelope(4, 'prompt不能为空');
  const invalid = commonInvalid(body);
  if (invalid) return reply.envelope(4, invalid);
  const banned = bannedWordIn(prompt, ctx.opts.bannedWords);
  if (banned !== undefined && !ctx.opts.bannedAtRunTime) {
    return reply.envelope(24, '可能包含敏感词', null, { promptEn: prompt, bannedWord: banned });
  }
  if (!ctx.engine.hasRoom()) return replyQueueFull(ctx, reply);
  const { markdown, candidates } = shortenMarkdown(prompt);
  const task = ctx.engine.create({
    action: 'SHORTEN',
    prompt,
    description: `/shorten ${prompt}`,
    state: str(body, 'state') ?? '',
    botType: botTypeOf(body),
    mode: modeOf(req.pathMode, prompt),
    finalPrompt: '',
    notifyHook: str(body, 'notifyHook') || undefined,
    width: 0,
    height: 0,
    pathMode: req.pathMode,
  });
  task.fake.prompts = candidates;
  task.fake.result = { finalPrompt: markdown, description: markdown };
  task.fake.fixedImageUrl = null;
  if (banned !== undefined) task.fake.failWith = '可能包含敏感词';
  admitAndReply(ctx, task, reply);
}

export function handleFaceSwap(ctx: RouteCtx, req: RouteReq, reply: Reply): void {
  if (replyForced(ctx, reply)) return;
  const { body } = req;
  const ta = ctx.opts.flavor === 'trueai';
  const source = str(body, 'sourceBase64') || (ta ? str(body, 'sourceUrl') : undefined);
  const target = str(body, 'targetBase64') || (ta ? str(body, 'targetUrl') : undefined);
  if (!source || !target) return reply.envelope(4, 'sourceBase64和targetBase64不能为空');
  const src = parseImageRef(source, { bare: ta, url: ta });
  const tgt = parseImageRef(target, { bare: ta, url: ta });
  if (!src.ok) return reply.envelope(4, `sourceBase64格式错误: ${src.reason}`);
  if (!tgt.ok) return reply.envelope(4, `targetBase64格式错误: ${tgt.reason}`);
  if (source === target) return reply.envelope(4, '源图和目标图不能相同');
  const invalid = commonInvalid(body);
  if (invalid) return reply.envelope(4, invalid);
  if (!ctx.engine.hasRoom()) return replyQueueFull(ctx, reply);
  const size = tgt.info ?? { width: ctx.opts.gridSize * 2, height: ctx.opts.gridSize * 2 };
  const task = ctx.engine.create({
    action: 'SWAP_FACE',
    prompt: '',
    description: '/swap',
    state: str(body, 'state') ?? '',
    botType: 'INSIGHT_FACE',
    mode: modeOf(req.pathMode, ''),
    finalPrompt: '',
    notifyHook: str(body, 'notifyHook') || undefined,
    width: size.width,
    height: size.height,
    imageCount: 2,
    pathMode: req.pathMode,
  });
  admitAndReply(ctx, task, reply);
}
