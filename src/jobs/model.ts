import { randomBytes } from 'node:crypto';
import type { MjButton } from '../upstream/mjTypes.js';
import type { RecordedSubmit } from '../upstream/submitRecorder.js';

/** Which upstream runs a job. Everything below the provider adapters is provider-agnostic. */
export type Provider = 'mj' | 'imgopen' | 'picwish';

/** What the user asked for; decides how the result is drawn. */
export type JobKind =
  | 'imagine'
  | 'action' // a Midjourney button press (upscale, variation, zoom, pan…)
  | 'blend'
  | 'describe'
  | 'shorten'
  | 'faceswap'
  | 'inpaint'
  | 'tool'; // background removal, upscale, face restore

/** `waiting`: in the bot's own fair queue, not sent yet; `queued`: accepted by the upstream, waiting there */
export type JobStatus = 'waiting' | 'submitting' | 'queued' | 'running' | 'modal' | 'succeeded' | 'failed' | 'cancelled';

export const FINAL_STATUSES: ReadonlySet<JobStatus> = new Set(['succeeded', 'failed', 'cancelled']);

export type DeliveryMode = 'channel' | 'dm' | 'both';
export type SpeedMode = 'fast' | 'relax' | 'turbo';

/** A localizable message: a key in the locale files and its parameters. */
export interface Msg {
  key: string;
  params?: Record<string, string | number> | undefined;
}

export interface MessageRef {
  channelId: string;
  messageId: string;
  /** posted as a follow-up of the job's interaction (edited through its webhook while the token lives) */
  via?: 'followup' | undefined;
}

export interface JobResult {
  /** upstream URL of the image (short-lived; re-hosted at delivery) */
  imageUrl?: string | undefined;
  width?: number | undefined;
  height?: number | undefined;
  /** upstream buttons, verbatim (their customIds are what a click must send) */
  buttons: MjButton[];
  /** the prompt as the upstream finally ran it */
  finalPrompt?: string | undefined;
  /** text results (describe prompts, shorten analysis) */
  text?: string | undefined;
  seed?: string | undefined;
  /** the speed the upstream actually used (it may differ from the one asked for) */
  mode?: SpeedMode | undefined;
  /** the model version the upstream reports it ran ("v 8.1", "niji 6"), shown beside the speed */
  version?: string | undefined;
  /** a video result (Animate, a clip's U, Extend): its clips (MP4, durable upstream URLs) and thumbnails; `imageUrl` is then the video too */
  video?: JobVideo | undefined;
}

/** The clips of a video result: four for a video grid, one for a single clip. */
export interface JobVideo {
  clips: { url: string; thumbnailUrl?: string | undefined }[];
  /** seconds, when the upstream says */
  durationS?: number | undefined;
}

export interface Job {
  /** our id: short, URL-safe, shown to users (`/job id`) */
  id: string;
  provider: Provider;
  kind: JobKind;
  /** the upstream's task id, once accepted */
  upstreamId?: string | undefined;
  parentJobId?: string | undefined;
  /** for actions: which button of the parent started this job (drives the display label) */
  action?: { customId: string; kind: string; index?: number | undefined } | undefined;
  /** who asked, where; `roles` (their role ids in that server) decide role-based limits */
  owner: { userId: string; guildId?: string | undefined; channelId: string; locale: string; roles?: string[] | undefined };
  delivery: DeliveryMode;
  status: JobStatus;
  progress: number;
  previewUrl?: string | undefined;
  queuePosition?: number | undefined;
  prompt: string;
  mode?: SpeedMode | undefined;
  botType?: 'MID_JOURNEY' | 'NIJI_JOURNEY' | undefined;
  result?: JobResult | undefined;
  error?: Msg | undefined;
  /**
   * bot-owned messages: where progress is drawn, and where results went. `followUpPending`: a result follow-up to
   * this channel was sent and its answer is not recorded yet (a crash in between): looked up before posting again.
   */
  messages: { progress?: MessageRef | undefined; results: MessageRef[]; followUpPending?: string | undefined };
  /**
   * the interaction that started the job: its webhook carries the job's messages for 15 minutes (its own rate
   * bucket); `ended` once Discord refused its token
   */
  interaction?: { id?: string | undefined; applicationId: string; token: string; issuedAt: number; ended?: boolean | undefined } | undefined;
  /** the largest attachment the invoking interaction allowed (bytes) */
  attachmentLimit: number;
  createdAt: number;
  updatedAt: number;
  finishedAt?: number | undefined;
  deadlineAt: number;
  /** set once the final message is posted: delivery happens exactly once */
  deliveredAt?: number | undefined;
  /** a DM could not be sent (50007): the result went to the channel instead */
  dmFallback?: boolean | undefined;
  /** Discord button key per upstream customId of this job's result (stable across re-draws and restarts) */
  buttonKeys?: Record<string, string> | undefined;
  /** upstream customIds of this job's buttons that were pressed (drawn as used) */
  usedButtons?: string[] | undefined;
  /** a job waiting in the bot's queue: the submit to send when its turn comes (any process can send it) */
  queued?: { request: RecordedSubmit; at: number } | undefined;
  /** what the provider's adapter needs to follow the task; its shape is chosen by `provider` (read it with `upstreamOf`) */
  upstream: JobUpstream;
}

/** What a provider reports about a job on a poll or a callback. */
export interface JobUpdate {
  status: JobStatus;
  progress?: number | undefined;
  previewUrl?: string | undefined;
  queuePosition?: number | undefined;
  result?: JobResult | undefined;
  error?: Msg | undefined;
}

const ALPHABET = 'abcdefghijkmnopqrstuvwxyz23456789';

/** A short, unguessable, unambiguous id (no 0/o/1/l). */
export function newId(length = 10): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[bytes[i]! % ALPHABET.length];
  return out;
}

export function isFinal(job: Pick<Job, 'status'>): boolean {
  return FINAL_STATUSES.has(job.status);
}

/** Face-swap engines: Img Open V2 (with restoration), V1, multi-face (faceFusion), and the proxy's InsightFace. */
export type SwapEngine = 'v2' | 'v1' | 'multi' | 'proxy';

/** One-click PicWish tools. */
export type ImageTool = 'remove-background' | 'upscale' | 'restore-face';

/*
 * Per-provider bookkeeping, kept with the job in the store. Every field is optional: jobs stored by older versions
 * lack some (or all) of them, and a job records each field only once it is known (e.g. after the create answered).
 */

/** A Midjourney Proxy job (imagine, a button, blend, describe, shorten, or a face swap through the proxy). */
export interface MjUpstream {
  /** the task the proxy opened when it answered a submit with a modal (remix prompt, Custom Zoom, Vary Region): the member's input is sent to it, and cancelling the job cancels it */
  modalTaskId?: string | undefined;
  /** the prompt that modal starts with (the one the proxy proposed) */
  prefill?: string | undefined;
  /** buttons an authenticated callback named for the task: task-form proxies name a task's customIds only in callbacks, never in a fetch */
  callbackButtons?: MjButton[] | undefined;
  /** the member edited the prompt of a button the proxy runs without one (remix on): the job ran the unchanged prompt */
  editNotApplied?: boolean | undefined;
  /** a face swap: the proxy's InsightFace */
  engine?: 'proxy' | undefined;
}

/** An Img Open face-swap job. */
export interface ImgOpenUpstream {
  /** our id for the task, fresh for every create (Img Open is queried by it and by the tool code, never by its own id) */
  businessTaskId?: string | undefined;
  /** the tool that runs the task (roop, v2/roop, faceFusion …): the status query names it */
  toolCode?: string | undefined;
  /** Img Open's own id for the task, when the create named one (kept for support, never queried) */
  vendorTaskId?: string | undefined;
  /** when the create was sent (ms epoch): the first poll waits a little after it */
  submittedAt?: number | undefined;
  engine?: Exclude<SwapEngine, 'proxy'> | undefined;
  /** V2: 0..1, restoration quality vs identity fidelity (offered again by "Swap again") */
  fidelity?: number | undefined;
  /** multi-face: which face of the target (1-based, left to right) */
  faceIdx?: number | undefined;
}

/** A PicWish job (inpaint, background removal, upscale, face restore). */
export interface PicwishUpstream {
  tool?: ImageTool | 'inpaint' | undefined;
  /** the create's path: PicWish answers a task's status under the path that created it */
  path?: string | undefined;
}

/** The bookkeeping shape of each provider. */
export interface UpstreamByProvider {
  mj: MjUpstream;
  imgopen: ImgOpenUpstream;
  picwish: PicwishUpstream;
}

/** One provider's shape, with every other provider's fields absent: any field can be read, none mixed in by mistake. */
type Only<P extends Provider> = UpstreamByProvider[P] & {
  [K in Exclude<AnyUpstreamKey, keyof UpstreamByProvider[P]>]?: undefined;
};
type AnyUpstreamKey = { [P in Provider]: keyof UpstreamByProvider[P] }[Provider];

/** A job's upstream record: the shape of one provider (which one, `Job.provider` says). */
export type JobUpstream = { [P in Provider]: Only<P> }[Provider];

/**
 * A job's upstream record as the shape of `provider`, to read or to fill in; the job must be that provider's. A job
 * stored without a record (older versions) gets an empty one. It is the job's own object: what is written to it is
 * saved with the job.
 */
export function upstreamOf<P extends Provider>(job: Pick<Job, 'id' | 'provider' | 'upstream'>, provider: P): UpstreamByProvider[P] {
  if (job.provider !== provider) throw new Error(`job ${job.id} is a ${job.provider} job, not ${provider}`);
  job.upstream ??= {};
  return job.upstream as UpstreamByProvider[P];
}
