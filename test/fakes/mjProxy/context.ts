// What route handlers share: options, the task engine, forced codes, and body/field helpers.
import type { MjTask } from '../../../src/upstream/mjTypes.js';
import { imageInfo, type ImageInfo } from '../images.js';
import type { Reply } from './http.js';
import type { TaskEngine } from './tasks.js';
import type { FakeTask, ResolvedOptions } from './types.js';

export interface RouteCtx {
  opts: ResolvedOptions;
  engine: TaskEngine;
  baseUrl: string;
  /** false after disableListByCondition() */
  listEnabled: boolean;
  /** consume one forced submit outcome, if any */
  takeForcedCode(): { code: number; description: string } | undefined;
}

export interface RouteReq {
  method: string;
  /** e.g. `/submit/imagine` (after `/mj` and any mode prefix) */
  sub: string;
  /** 'fast' | 'relax' | 'turbo' from a path prefix */
  pathMode?: string | undefined;
  /** `{id}` from `/task/{id}/...` routes */
  id?: string | undefined;
  body: Record<string, unknown>;
}

export type Body = Record<string, unknown>;

export function str(body: Body, key: string): string | undefined {
  const v = body[key];
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return undefined;
}

export function bool(body: Body, key: string): boolean {
  const v = body[key];
  return v === true || v === 'true' || v === '1';
}

export function instanceProps(): Record<string, unknown> {
  return { discordInstanceId: '1190000000000000001', discordChannelId: '1190000000000000001' };
}

/** Checks every submit shares (§3.1); a message when invalid. */
export function commonInvalid(body: Body): string | undefined {
  const state = str(body, 'state');
  if (state !== undefined && state.length > 255) return 'state参数长度不能超过255';
  const hook = str(body, 'notifyHook');
  if (hook !== undefined && hook.length > 2000) return 'notifyHook参数长度不能超过2000';
  if (hook !== undefined && hook !== '' && !/^https?:\/\//i.test(hook)) return 'notifyHook必须是http(s)地址';
  return undefined;
}

export function botTypeOf(body: Body, fallback = 'MID_JOURNEY'): string {
  const v = (str(body, 'botType') ?? '').toUpperCase();
  if (v === 'NIJI_JOURNEY' || v === 'NIJI') return 'NIJI_JOURNEY';
  if (v === 'MID_JOURNEY' || v === 'MJ') return 'MID_JOURNEY';
  return fallback;
}

/** task.mode: path prefix, then `--relax|--turbo|--fast` in the prompt, else the fallback (FAST). */
export function modeOf(pathMode: string | undefined, prompt: string, fallback = 'FAST'): string {
  if (pathMode) return pathMode.toUpperCase();
  const m = /--(relax|turbo|fast)\b/i.exec(prompt);
  return m?.[1] ? m[1].toUpperCase() : fallback;
}

export function versionParam(version: string): string {
  return version === 'v6r1' ? '6.1' : version === 'v6' ? '6.0' : version === 'v8' ? '8' : '7';
}

/** `task.version` as the proxy reports it (§3.10a): `"v 8.1"` from `--v 8.1`, `"niji 6"` from `--niji 6`; undefined without one. */
export function reportedVersion(finalPrompt: string): string | undefined {
  const m = /(?:^|\s)--(v|version|niji)\s+(\d+(?:\.\d+)?)/i.exec(finalPrompt);
  if (!m) return undefined;
  return `${m[1]?.toLowerCase() === 'niji' ? 'niji' : 'v'} ${m[2]}`;
}

/** Midjourney V8 and later: no upscale, zoom or pan buttons (§3.10a). */
export function isV8OrLater(finalPrompt: string): boolean {
  const m = /^v (\d+)/.exec(reportedVersion(finalPrompt) ?? '');
  return m !== null && Number(m[1]) >= 8;
}

/** What Midjourney echoes: the prompt with `--v` appended unless a version is given. */
export function finalPromptOf(prompt: string, version: string): string {
  if (/--(v|version|niji)\b/i.test(prompt)) return prompt;
  return `${prompt} --v ${versionParam(version)}`.trim();
}

export function bannedWordIn(prompt: string, words: string[]): string | undefined {
  const p = prompt.toLowerCase();
  return words.find((w) => w !== '' && p.includes(w.toLowerCase()));
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

export type ImageRef =
  | { ok: true; kind: 'data' | 'bare'; bytes: Buffer; info: ImageInfo }
  | { ok: true; kind: 'url'; url: string; info?: undefined }
  | { ok: false; reason: string };

/** A data URL, (trueai) bare base64 or an http(s) URL → decoded image. Whitespace is never stripped. */
export function parseImageRef(value: unknown, allow: { bare: boolean; url: boolean }): ImageRef {
  if (typeof value !== 'string' || value === '') return { ok: false, reason: 'empty image' };
  if (/^https?:\/\//i.test(value)) return allow.url ? { ok: true, kind: 'url', url: value } : { ok: false, reason: 'URL not accepted' };
  let payload: string;
  let kind: 'data' | 'bare';
  const m = /^data:([a-z0-9.+/-]*);base64,(.*)$/is.exec(value);
  if (m) {
    payload = m[2] ?? '';
    kind = 'data';
  } else if (allow.bare) {
    payload = value;
    kind = 'bare';
  } else {
    return { ok: false, reason: 'not a data URL' };
  }
  if (!B64.test(payload) || payload.length % 4 === 1) return { ok: false, reason: 'bad base64' };
  const bytes = Buffer.from(payload, 'base64');
  const info = imageInfo(bytes);
  if (!info) return { ok: false, reason: 'not an image' };
  return { ok: true, kind, bytes, info };
}

/** The Task JSON as the flavour serialises it (no fake bookkeeping). */
export function serialize(task: FakeTask): MjTask {
  const { fake: _fake, ...rest } = task;
  return JSON.parse(JSON.stringify(rest)) as MjTask;
}

/** Reply for "would not fit the wait queue": TA 9, others 23. */
export function replyQueueFull(ctx: RouteCtx, reply: Reply): void {
  if (ctx.opts.flavor === 'trueai') reply.envelope(9, '提交失败，队列已满，请稍后重试');
  else reply.envelope(23, '队列已满，请稍后尝试');
}

/** Admit a fresh task and answer 1 or 22. */
export function admitAndReply(ctx: RouteCtx, task: FakeTask, reply: Reply): void {
  const { queued, position } = ctx.engine.admit(task);
  if (queued) {
    reply.envelope(22, `排队中，前面还有${position}个任务`, task.id, { ...instanceProps(), numberOfQueues: position });
  } else {
    reply.envelope(1, '提交成功', task.id, instanceProps());
  }
}

/** Consume a forced code and answer it; true when it did. */
export function replyForced(ctx: RouteCtx, reply: Reply): boolean {
  const f = ctx.takeForcedCode();
  if (!f) return false;
  reply.envelope(f.code, f.description, null, {});
  return true;
}
