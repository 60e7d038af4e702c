// Types of the Midjourney Proxy HTTP API, as the trueai, plus, novicezk and task-form servers speak it.
// Nothing in src/upstream knows about Discord.

export type MjFlavor = 'trueai' | 'plus' | 'novicezk' | 'task-form';
export type MjAuthStyle = 'mj-api-secret' | 'authorization' | 'bearer';
export type MjMode = 'fast' | 'relax' | 'turbo';
export type MjBotType = 'MID_JOURNEY' | 'NIJI_JOURNEY';
export type MjStatus = 'NOT_START' | 'SUBMITTED' | 'IN_PROGRESS' | 'MODAL' | 'SUCCESS' | 'FAILURE' | 'CANCEL';

export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['SUCCESS', 'FAILURE', 'CANCEL']);

/** The submit envelope `{code, description, result, properties}`: code 1 or 22 = accepted, 21 = a modal is waiting. */
export interface MjEnvelope {
  code: number;
  description?: string;
  result?: string | string[] | number | null;
  properties?: Record<string, unknown>;
}

export interface MjButton {
  customId: string;
  emoji?: string;
  label?: string;
  style?: number;
  type?: number;
}

export interface MjTask {
  id: string;
  action?: string;
  status?: MjStatus | string;
  prompt?: string | null;
  promptEn?: string | null;
  description?: string | null;
  state?: string | null;
  submitTime?: number | null;
  startTime?: number | null;
  finishTime?: number | null;
  imageUrl?: string | null;
  imageUrls?: { url: string; thumbnail?: string }[] | null;
  progress?: string | null;
  failReason?: string | null;
  buttons?: MjButton[];
  mode?: string | null;
  /** the model version Midjourney ran, as the proxy reports it: "v 7", "v 8.1", "niji 6" */
  version?: string | null;
  botType?: string | null;
  width?: number | null;
  height?: number | null;
  properties?: ({ finalPrompt?: string; finalZhPrompt?: string; messageId?: string; messageHash?: string } & Record<string, unknown>) | null;
  [extra: string]: unknown;
}

/** Options every submit may carry. */
export interface MjSubmitCommon {
  /** path-mode prefix for this call; undefined = the configured default */
  mode?: MjMode | undefined;
  botType?: MjBotType | undefined;
  /** opaque correlation value echoed back as task.state (≤ 255 chars) */
  state?: string | undefined;
}

export interface MjImagineRequest extends MjSubmitCommon {
  prompt: string;
  /** data URLs (`data:image/png;base64,...`) or http(s) URLs */
  images?: string[] | undefined;
}

export interface MjBlendRequest extends MjSubmitCommon {
  images: string[];
  dimensions?: 'PORTRAIT' | 'SQUARE' | 'LANDSCAPE' | undefined;
}

export interface MjDescribeRequest extends MjSubmitCommon {
  /** data URL */
  image?: string | undefined;
  /** http(s) URL (trueai) */
  link?: string | undefined;
}

export interface MjShortenRequest extends MjSubmitCommon {
  prompt: string;
}

export interface MjActionRequest extends MjSubmitCommon {
  /** the task that owns the button */
  taskId: string;
  /** verbatim upstream customId */
  customId: string;
  enableRemix?: boolean | undefined;
}

export interface MjModalRequest {
  /** the MODAL task id returned with code 21 */
  taskId: string;
  prompt?: string | undefined;
  /** `data:image/png;base64,...` */
  maskBase64?: string | undefined;
  mode?: MjMode | undefined;
}

/** A video from a start frame: trueai's `/mj/submit/video`, or `--video 1` on an imagine elsewhere. */
export interface MjVideoRequest extends MjSubmitCommon {
  /** the member's prompt; may be empty */
  prompt: string;
  /** the start frame: a data URL (`data:image/png;base64,...`) */
  image: string;
  /** the end frame: a data URL (sent as `endImage` on trueai) */
  endImage?: string | undefined;
  /** the end frame as an http(s) URL Midjourney can fetch (`--end <url>` where there is no video route) */
  endImageUrl?: string | undefined;
  /** the clip ends where it starts */
  loop?: boolean | undefined;
  motion: 'low' | 'high';
  /** clips per job: 1, 2 or 4 (Midjourney's default is 4) */
  batchSize?: 1 | 2 | 4 | undefined;
  /** 720p instead of 480p (trueai only: `videoType`) */
  hd?: boolean | undefined;
}

/** Whether a proxy feature answers: probed with a request the route refuses before doing anything. */
export type MjFeatureState = 'available' | 'disabled' | 'missing' | 'unknown';

export interface MjFeatureProbe {
  /** `POST /mj/submit/video` (trueai): `missing` = 404, `disabled` = code 4 "视频功能未启用" */
  video: MjFeatureState;
  /** `POST /mj/submit/upload-discord-images` (trueai): `disabled` = code 4 "禁止上传" */
  upload: MjFeatureState;
}

/** Why a feature cannot be used, as the proxy told us: what the admin must enable. */
export type MjFeatureGate = 'disabled' | 'remix' | 'no-account' | 'no-route';

export interface MjFaceSwapRequest extends MjSubmitCommon {
  /** data URL of the image that provides the face */
  source: string;
  /** data URL of the image that receives it */
  target: string;
}

/** What a submit turned into. Rejections are thrown as MjError. */
export type MjSubmitOutcome =
  | { kind: 'accepted'; taskId: string; queuePosition?: number | undefined; extraTaskIds?: string[] | undefined }
  | { kind: 'modal'; modalTaskId: string; prefill: string }
  | { kind: 'existing'; taskId: string };

export type MjErrorKind =
  | 'queue-full' // 23, or 9 "queue full"
  | 'banned-prompt' // 24
  | 'no-account' // 3 on a submit
  | 'not-found' // 3 / 404 on an action, modal, seed or fetch
  | 'validation' // 4, trueai's Result envelope
  | 'failure' // 9 and unknown codes
  | 'auth' // HTTP 401 / 403
  | 'rate-limited' // HTTP 429
  | 'unsupported' // the configured flavour has no such route (404/405 on a route)
  | 'unreachable' // connection refused / reset / timeout
  | 'bad-response'; // invalid JSON, wrong content type, 5xx without envelope

/** A typed upstream failure that a command can turn into a clear user message. Never carries secrets. */
export class MjError extends Error {
  constructor(
    readonly kind: MjErrorKind,
    message: string,
    readonly details: {
      code?: number | undefined;
      httpStatus?: number | undefined;
      bannedWord?: string | undefined;
      description?: string | undefined;
      /** 'unreachable' because the upstream's circuit breaker is open (the call was not attempted) */
      circuitOpen?: boolean | undefined;
      /** 'rate-limited': the upstream's Retry-After, when it sent one */
      retryAfterMs?: number | undefined;
      /** a refusal that names a proxy feature the admin must enable (video: code 4 disabled, 9 Remix, 3 no account, 404) */
      feature?: 'video' | 'upload' | undefined;
      gate?: MjFeatureGate | undefined;
    } = {},
  ) {
    super(message);
    this.name = 'MjError';
  }

  /** true when a later identical call may succeed */
  get retryable(): boolean {
    if (this.details.gate) return false; // only the admin can change it
    return this.kind === 'queue-full' || this.kind === 'rate-limited' || this.kind === 'unreachable' || this.kind === 'failure' || this.kind === 'bad-response';
  }
}

/** What the configured proxy flavour (MJ_FLAVOR) can do; some flags drop to false at runtime after a 404/405. */
export interface MjCapabilities {
  /** 'full' = any customId via /submit/action; 'change-only' = U/V/reroll via /submit/change; 'form' = /task/action (form-urlencoded) */
  actions: 'full' | 'change-only' | 'form';
  modal: boolean;
  shorten: boolean;
  /** describe accepts an http(s) `link` instead of base64 */
  describeLink: boolean;
  faceSwap: boolean;
  listByCondition: boolean;
  /** every route is also mounted under /mj-fast, /mj-relax, /mj-turbo, so any call can pick its speed */
  modePaths: boolean;
  /**
   * how a video is started: 'route' = `/mj/submit/video` (trueai); 'prompt' = `--video 1` on an imagine (the
   * others); false = not here (the route answered 404 or "video disabled")
   */
  video: 'route' | 'prompt' | false;
  /**
   * a running task can be stopped for the member (`POST /mj/task/{id}/cancel`): plus only — trueai allows it to admin
   * tokens alone and novicezk has no such route (contract §3.0, §3.11); the form reseller's is undocumented
   */
  cancelRunning: boolean;
}
