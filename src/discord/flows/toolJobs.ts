import type { ButtonInteraction, ChatInputCommandInteraction, ModalSubmitInteraction } from 'discord.js';
import type { Rect } from '../../images/mask.js';
import { upstreamOf, type DeliveryMode, type ImageTool, type Job, type SwapEngine } from '../../jobs/model.js';
import type { JobDraft, SubmitResult } from '../../jobs/service.js';
import type { Services } from '../../services.js';
import { ImageToolError } from '../../upstream/imageToolError.js';
import { IMGOPEN_DEADLINE_MS, IMGOPEN_DEFAULT_DEADLINE_MS, IMGOPEN_TOOLS, newBusinessTaskId, type ImgOpenCreated } from '../../upstream/imgOpen.js';
import { MjError } from '../../upstream/mjTypes.js';
import { PICWISH_DEADLINE_MS, PICWISH_PATHS, type PicwishCreated } from '../../upstream/picwish.js';
import type { CheckedImage } from './attachments.js';
import { UserError, type Ctx } from '../interactions/interactionKit.js';
import { jobOwner } from './jobOptions.js';
import { ingressUrl } from './toolInputs.js';

/**
 * Starting face-swap, inpaint and image-tool jobs (from commands and from result buttons alike).
 * Every job goes through the one pipeline, `services.jobs.run`; what the provider adapter needs to poll it
 * is stored in the job's upstream record, and its deadline comes from the adapter's own deadline constants.
 */

export type { ImageTool, SwapEngine };

export const SWAP_ENGINES: readonly SwapEngine[] = ['v2', 'v1', 'multi', 'proxy'];

/** The proxy's InsightFace swap: polled like any proxy task, and given about 5 minutes before the job fails. */
export const PROXY_SWAP_DEADLINE_MS = 5 * 60_000;

/** PicWish creates answered 429 are resent (after the key's limiter has paused) up to this many attempts in all. */
export const PICWISH_CREATE_ATTEMPTS = 3;

const IMGOPEN_TOOL_OF: Record<Exclude<SwapEngine, 'proxy'>, string> = {
  v1: IMGOPEN_TOOLS.faceSwapV1,
  v2: IMGOPEN_TOOLS.faceSwapV2,
  multi: IMGOPEN_TOOLS.faceFusion,
};

/** The engines this deployment offers, best first. */
export function swapEngines(services: Pick<Services, 'config' | 'mj' | 'imgOpen'>): SwapEngine[] {
  const out: SwapEngine[] = [];
  if (services.imgOpen) out.push('v2', 'v1', 'multi');
  if (services.config.mj.faceSwap && services.mj.capabilities().faceSwap) out.push('proxy');
  return out;
}

export function isSwapEngine(v: unknown): v is SwapEngine {
  return typeof v === 'string' && (SWAP_ENGINES as readonly string[]).includes(v);
}

/** Who started a job and from where: the interaction (command, button or modal) and the job's delivery. */
export interface JobOrigin {
  interaction: ChatInputCommandInteraction | ButtonInteraction | ModalSubmitInteraction;
  ctx: Ctx;
  delivery: DeliveryMode;
  parentJobId?: string | undefined;
}

export interface FaceSwapInput {
  engine: SwapEngine;
  /** the image that provides the face */
  source: CheckedImage;
  /** the image that receives it */
  target: CheckedImage;
  /** multi-face: a second face */
  source2?: CheckedImage | undefined;
  /** multi-face: which face of the target (1-based, left to right) */
  faceIdx?: number | undefined;
  /** V2: 0..1, restoration quality vs identity fidelity */
  fidelity?: number | undefined;
}

export async function startFaceSwap(origin: JobOrigin, input: FaceSwapInput): Promise<Job> {
  const { services, t } = origin.ctx;
  if (!swapEngines(services).includes(input.engine)) throw new UserError('tools.errors.engineUnavailable');
  const prompt = t('tools.label.faceswap', { engine: t(`tools.engines.${input.engine}`) });
  if (input.engine === 'proxy') {
    return run(origin, { provider: 'mj', kind: 'faceswap', prompt, upstream: { engine: 'proxy' }, timeoutMs: PROXY_SWAP_DEADLINE_MS }, async (job) => {
      const out = await services.mj.faceSwap({ source: input.source.dataUrl, target: input.target.dataUrl, state: job.id });
      if (out.kind === 'modal') throw new MjError('bad-response', 'the proxy asked for a modal on a face swap');
      return { kind: 'accepted', upstreamId: out.taskId, queuePosition: out.kind === 'accepted' ? out.queuePosition : undefined };
    });
  }

  const client = services.imgOpen;
  if (!client) throw new UserError('tools.errors.engineUnavailable');
  const toolCode = IMGOPEN_TOOL_OF[input.engine];
  const settings = {
    engine: input.engine,
    ...(input.fidelity !== undefined ? { fidelity: input.fidelity } : {}),
    ...(input.faceIdx !== undefined ? { faceIdx: input.faceIdx } : {}),
  };
  const sourceUrl = ingressUrl(input.source, services);
  const targetUrl = ingressUrl(input.target, services);
  const source2Url = input.source2 ? ingressUrl(input.source2, services) : undefined;
  const create = (businessTaskId: string): Promise<ImgOpenCreated> => {
    switch (input.engine) {
      case 'v1':
        return client.faceSwapV1({ sourceUrl, targetUrl, businessTaskId });
      case 'v2':
        return client.faceSwapV2({ sourceUrl, targetUrl, businessTaskId, fidelityWeight: input.fidelity });
      default:
        return client.faceFusion({ sourceUrls: source2Url ? [sourceUrl, source2Url] : [sourceUrl], targetUrl, faceIdx: input.faceIdx, businessTaskId });
    }
  };
  return run(
    origin,
    {
      provider: 'imgopen',
      kind: 'faceswap',
      prompt,
      upstream: { ...settings, toolCode },
      timeoutMs: IMGOPEN_DEADLINE_MS[toolCode] ?? IMGOPEN_DEFAULT_DEADLINE_MS,
    },
    (job) => imgOpenCreate(job, create),
  );
}

/**
 * An Img Open create with a fresh businessTaskId (the only query key, never reused). A network error or 5xx
 * is retried once, with a new id (a businessTaskId is never sent twice); everything else is reported.
 */
async function imgOpenCreate(job: Job, create: (businessTaskId: string) => Promise<ImgOpenCreated>): Promise<SubmitResult> {
  for (let attempt = 1; ; attempt++) {
    const businessTaskId = newBusinessTaskId(`mjr${job.id}`);
    const upstream = upstreamOf(job, 'imgopen');
    upstream.businessTaskId = businessTaskId;
    upstream.submittedAt = Date.now();
    try {
      const created = await create(businessTaskId);
      upstream.toolCode = created.toolCode;
      if (created.vendorTaskId) upstream.vendorTaskId = created.vendorTaskId;
      return { kind: 'accepted', upstreamId: created.businessTaskId };
    } catch (err) {
      const retry = attempt === 1 && err instanceof ImageToolError && err.kind === 'unreachable' && !err.notSent;
      if (!retry) throw err;
    }
  }
}

export interface InpaintInput {
  image: CheckedImage;
  /** black/white mask of the image's size (white = remove) */
  mask?: Buffer | undefined;
  rects?: Rect[] | undefined;
}

export async function startInpaint(origin: JobOrigin, input: InpaintInput): Promise<Job> {
  const { services, t } = origin.ctx;
  const client = services.picwish;
  if (!client) throw new UserError('tools.errors.engineUnavailable');
  const prompt = input.mask ? t('tools.label.inpaintMask') : t('tools.label.inpaintRects', { count: input.rects?.length ?? 0 });
  const path = PICWISH_PATHS.inpaint;
  return run(origin, { provider: 'picwish', kind: 'inpaint', prompt, upstream: { tool: 'inpaint' }, timeoutMs: PICWISH_DEADLINE_MS[path] }, (job) =>
    picwishCreate(job, () =>
      client.inpaint({
        image: input.image.bytes,
        imageName: input.image.name,
        ...(input.mask ? { mask: input.mask, maskName: 'mask.png' } : { rectangles: input.rects }),
      }),
    ),
  );
}

export interface ToolInput {
  tool: ImageTool;
  image: CheckedImage;
  /** upscale only; omitted = the vendor picks by size */
  scale?: 2 | 4 | undefined;
}

export async function startTool(origin: JobOrigin, input: ToolInput): Promise<Job> {
  const { services, t } = origin.ctx;
  const client = services.picwish;
  if (!client) throw new UserError('tools.errors.engineUnavailable');
  const image = { image: input.image.bytes, imageName: input.image.name };
  let prompt: string;
  let path: string;
  let create: () => Promise<PicwishCreated>;
  switch (input.tool) {
    case 'remove-background':
      prompt = t('tools.label.removeBackground');
      path = PICWISH_PATHS.segmentation;
      create = () => client.segmentation(image);
      break;
    case 'restore-face':
      prompt = t('tools.label.restoreFace');
      path = PICWISH_PATHS.scale;
      create = () => client.scale({ ...image, type: 'face' });
      break;
    case 'upscale':
      prompt = input.scale ? t('tools.label.upscaleBy', { factor: input.scale }) : t('tools.label.upscale');
      path = PICWISH_PATHS.scale;
      create = () => client.scale({ ...image, type: 'clean', scaleFactor: input.scale });
      break;
  }
  return run(origin, { provider: 'picwish', kind: 'tool', prompt, upstream: { tool: input.tool }, timeoutMs: PICWISH_DEADLINE_MS[path] }, (job) =>
    picwishCreate(job, create),
  );
}

/** A PicWish create; a 429 is resent (the key's limiter has paused for Retry-After meanwhile), a few times at most. */
async function picwishCreate(job: Job, create: () => Promise<PicwishCreated>): Promise<SubmitResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      const created = await create();
      upstreamOf(job, 'picwish').path = created.path;
      return { kind: 'accepted', upstreamId: created.taskId };
    } catch (err) {
      const busy = err instanceof ImageToolError && err.kind === 'rate-limited' && !err.notSent;
      if (!busy || attempt >= PICWISH_CREATE_ATTEMPTS) throw err;
    }
  }
}

type DraftParts = Pick<JobDraft, 'provider' | 'kind' | 'prompt' | 'upstream' | 'timeoutMs'>;

/** Record, submit and track a job through the shared pipeline (a refusal is reported by the dispatcher). */
async function run(origin: JobOrigin, parts: DraftParts, submit: (job: Job) => Promise<SubmitResult>): Promise<Job> {
  const i = origin.interaction;
  return await origin.ctx.services.jobs.run(
    {
      ...parts,
      owner: jobOwner(i, origin.ctx.locale, origin.ctx.guildId),
      delivery: origin.delivery,
      parentJobId: origin.parentJobId,
      interaction: { id: i.id, applicationId: i.applicationId, token: i.token, issuedAt: i.createdTimestamp },
      attachmentLimit: i.attachmentSizeLimit,
    },
    submit,
  );
}

/** Which upstream powers which feature, for the startup log (never a key). */
export function toolProviders(caps: { engines: string[]; picwish: boolean }, ingress: string): Record<string, string> {
  const swap = [
    caps.engines.includes('v2') ? `Img Open V2/V1/multi-face (inputs by ${ingress})` : '',
    caps.engines.includes('proxy') ? 'proxy InsightFace' : '',
  ].filter(Boolean);
  const picwish = caps.picwish ? 'PicWish' : 'off (set PICWISH_API_KEY)';
  return {
    faceswap: swap.length > 0 ? swap.join(' + ') : 'off (set IMGOPEN_ACCESS_KEY_ID/_SECRET, or MJ_FACE_SWAP=on with a proxy that has InsightFace)',
    inpaint: picwish,
    removeBackground: picwish,
    upscale: picwish,
    restoreFace: picwish,
  };
}
