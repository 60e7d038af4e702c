// Types shared by the fake Midjourney Proxy's modules.
import type { MjAuthStyle, MjButton, MjFlavor, MjTask } from '../../../src/upstream/mjTypes.js';

export interface FakeMjProxyOptions {
  /** default 'trueai' */
  flavor?: MjFlavor;
  /** default 'mj-api-secret' */
  authStyle?: MjAuthStyle;
  /** default 'fake-proxy-secret'; '' = no auth */
  secret?: string;
  /** default 150: time between lifecycle steps */
  stepMs?: number;
  /** default [0, 15, 46, 78]: IN_PROGRESS percentages after SUBMITTED, then SUCCESS */
  progressSteps?: number[];
  /** default false: the account has Remix ON → PAN / VARIATION / reroll answer 21 MODAL */
  remix?: boolean;
  /** default false: "remix auto-submit" — Remix presses and PromptAnalyzer::n queue directly (no modal) */
  autoSubmit?: boolean;
  /** default ['forbidden-word']: code 24 at submit */
  bannedWords?: string[];
  /** TA v11 style: banned prompts are accepted and the task FAILs with "可能包含敏感词" */
  bannedAtRunTime?: boolean;
  /** default 10: running tasks; beyond it submits answer 22 and the task waits (NOT_START) */
  maxConcurrent?: number;
  /** default Infinity: waiting tasks; beyond it submits answer 23 (trueai: 9 "队列已满") */
  maxQueue?: number;
  /** default 256: px of the grid PNG; upscales are gridSize*2 */
  gridSize?: number;
  /** default 'v7': upscale button customIds */
  version?: 'v8' | 'v7' | 'v6r1' | 'v6';
  /** default true; false → image-seed answers code 4 */
  seedAvailable?: boolean;
  /** default false: TA v11 rejects PromptAnalyzer / BOOKMARK / Show Details with code 4 "未知的 Action 类型" */
  trueaiV11?: boolean;
  /** default 2000: notifyHook request timeout */
  notifyTimeoutMs?: number;
  /** default 48 KiB: bytes of each MP4 clip a video task serves (§3.10a) */
  videoClipBytes?: number;
  /** default 21: a clip is offered Extend while it would not pass this many seconds (4 s per extend) */
  videoMaxSeconds?: number;
  /** default true (trueai `EnableVideo`); false → `submit/video` answers code 4 "视频功能未启用" */
  videoEnabled?: boolean;
  /** default true; false → `submit/video` answers 404 without a body (an API gateway without the route) */
  videoRoute?: boolean;
  /** default 'ok'; 'remix-off' → `submit/video` answers code 9 (Remix off); 'none' → code 3 "无可用的账号实例" */
  videoAccounts?: 'ok' | 'remix-off' | 'none';
  /** default false: no account can do HD video, so `videoType: vid_1.1_i2v_720` answers code 3 */
  hdVideo?: boolean;
  /** default null: a lying upstream that reports this size for finished tasks (their images keep their real size) */
  reportedSize?: { width: number; height: number } | null;
  /** default null (the real time between its steps): a finished task reports this many ms between `startTime` and `finishTime` (§5.1), the GPU time it says it used */
  reportedWorkMs?: number | null;
}

export type ResolvedOptions = Required<FakeMjProxyOptions>;

/** Fake-only bookkeeping on a task; never serialised. */
export interface FakeTaskMeta {
  /** the task's Midjourney job hash ({h} in customIds) */
  hash: string;
  /** every button the task has on SUCCESS (also for flavours that do not serialise `buttons`) */
  buttons: MjButton[];
  notifyHook?: string | undefined;
  /** lifecycle steps done (0 = none) */
  step: number;
  /** holding a running slot */
  admitted: boolean;
  /** waiting for a slot */
  queued: boolean;
  stuck: boolean;
  /** when set, the task ends FAILURE with this reason instead of SUCCESS */
  failWith?: string | undefined;
  /** MODAL tasks: the press that created it */
  customId?: string | undefined;
  modalKind?: 'zoom' | 'inpaint' | 'remix' | 'picreader' | 'analyzer' | undefined;
  modalSubmitted?: boolean;
  /** what /submit/modal carried */
  modalPrompt?: string | undefined;
  maskSize?: { width: number; height: number } | undefined;
  /** number of reference images accepted with the submit (imagine/blend/describe/swap) */
  imageCount: number;
  /** final image size (px) */
  width: number;
  height: number;
  /** DESCRIBE: the four prompts; SHORTEN: the five candidates */
  prompts?: string[] | undefined;
  /** the path prefix mode the submit came through ('fast'|'relax'|'turbo') */
  pathMode?: string | undefined;
  /** request body fields that this flavour ignored (e.g. `base64` on trueai) */
  ignored?: string[] | undefined;
  /** applied on SUCCESS (DESCRIBE / SHORTEN texts) */
  result?: { finalPrompt?: string; promptEn?: string; description?: string } | undefined;
  /** DESCRIBE: what the prompts were derived from (retry derives new ones from it) */
  sourceKey?: string | undefined;
  /** a fixed imageUrl (DESCRIBE: the described image; SHORTEN: null) instead of generated ones */
  fixedImageUrl?: string | null | undefined;
  /** VIDEO tasks (and video-U picks): a grid of 4 clips or one clip, how long each lasts, its motion */
  video?: { clips: 1 | 4; durationS: number; motion: 'high' | 'low' } | undefined;
  /** last (status, progress) a notification was sent for */
  lastNotified?: string | undefined;
}

export interface FakeTask extends MjTask {
  fake: FakeTaskMeta;
}

export interface RecordedRequest {
  method: string;
  /** path as requested, without the query string */
  path: string;
  /** path with any mode prefix removed, e.g. `/mj/submit/imagine` */
  route: string;
  /** 'fast' | 'relax' | 'turbo' when a path-mode prefix was used */
  mode?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  /** parsed JSON, a form object, the raw text, or undefined when empty */
  body: unknown;
  contentType: string;
  at: number;
  /** HTTP status sent; 0 while unanswered or when the fake hung up / reset the socket */
  status: number;
  /** the fault injected into this request, if any */
  fault?: string | undefined;
}

export interface NotificationRecord {
  url: string;
  taskId: string;
  status: string;
  progress: string | null;
  at: number;
  /** the receiver's status, once it answered */
  httpStatus?: number | undefined;
  /** transport error / timeout */
  error?: string | undefined;
  /** the JSON body posted */
  body: unknown;
}
