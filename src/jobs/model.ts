import { randomBytes } from 'node:crypto';
import type { MjButton } from '../upstream/mjTypes.js';

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

export type JobStatus = 'submitting' | 'queued' | 'running' | 'modal' | 'succeeded' | 'failed' | 'cancelled';

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
  /** bot-owned messages: where progress is drawn, and where results went */
  messages: { progress?: MessageRef | undefined; results: MessageRef[] };
  /** the interaction that started the job, usable for ephemeral follow-ups for 15 minutes only */
  interaction?: { applicationId: string; token: string; issuedAt: number } | undefined;
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
  /** provider-specific bookkeeping (e.g. Img Open businessTaskId, modal task ids) */
  upstream: Record<string, unknown>;
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
