import type { ButtonInteraction, ModalSubmitInteraction } from 'discord.js';
import type { Job } from '../jobs/model.js';
import type { MappedButton } from '../mj/buttons.js';
import type { ButtonRecord } from '../store/repositories.js';
import { customId, deferEphemeral, replyEphemeral, UserError, type ComponentInteraction, type ComponentRoute, type Ctx } from './interactionKit.js';
import { findButton } from './jobAccess.js';
import { acceptedReply, pickDelivery } from './jobOptions.js';
import { mayPress, PRESS_WINDOW_MS } from './mjButtons.js';
import { modal } from './modals.js';
import { admitBeforeDownload } from './admission.js';
import { IMGOPEN_LIMITS, limitsFor, modalText, PICWISH_LIMITS, PROXY_LIMITS, readRegion, readToolImages, resultImage, uploadedFile } from './toolInputs.js';
import { isSwapEngine, startFaceSwap, startInpaint, startTool, type ImageTool, type JobOrigin, type SwapEngine } from './toolJobs.js';

/**
 * The bot's own buttons on face-swap, inpaint and image-tool results (their upstreams have none):
 * drawn through the delivery's button planner with route `t` (`mj:t:<key>`), modals answered on `mj:tm:<key>`.
 * A follow-up always works on the result image, re-downloaded from the bot's own result message.
 */

export const TOOL_ROUTE = 't';
export const TOOL_MODAL_ROUTE = 'tm';
/** pseudo customId of a bot-only button, stored in its ButtonRecord */
const RELAY = 'relay:';

type ToolAction = 'swap' | 'inpaint' | 'face' | 'bg' | 'up';

const SPECS: Record<ToolAction, { labelKey: string; label: string; emoji: string }> = {
  swap: { labelKey: 'tools.buttons.swapAgain', label: 'Swap again', emoji: '🔁' },
  inpaint: { labelKey: 'tools.buttons.inpaintAgain', label: 'Inpaint again', emoji: '🖌️' },
  face: { labelKey: 'tools.buttons.restoreFace', label: 'Restore face', emoji: '✨' },
  bg: { labelKey: 'tools.buttons.removeBackground', label: 'Remove background', emoji: '✂️' },
  up: { labelKey: 'tools.buttons.upscale', label: 'Upscale', emoji: '⏫' },
};

const TOOL_OF: Record<'face' | 'bg' | 'up', ImageTool> = { face: 'restore-face', bg: 'remove-background', up: 'upscale' };

/** What this deployment can do (decides which buttons are drawn). */
export interface ToolCaps {
  engines: SwapEngine[];
  picwish: boolean;
}

export function isToolJob(job: Pick<Job, 'kind'>): boolean {
  return job.kind === 'faceswap' || job.kind === 'inpaint' || job.kind === 'tool';
}

/** The buttons of a tool job's result, in one row. */
export function planToolButtons(job: Job, caps: ToolCaps): MappedButton[][] {
  const actions: ToolAction[] = [];
  const engine = job.upstream.engine;
  if (job.kind === 'faceswap' && isSwapEngine(engine) && caps.engines.includes(engine)) actions.push('swap');
  if (caps.picwish) {
    if (job.kind === 'inpaint') actions.push('inpaint');
    const tool = job.upstream.tool;
    if (tool !== 'restore-face') actions.push('face');
    if (tool !== 'remove-background') actions.push('bg');
    if (tool !== 'upscale') actions.push('up');
  }
  if (actions.length === 0) return [];
  return [actions.map((a) => ({ customId: `${RELAY}${a}`, kind: 'unknown', ...SPECS[a], style: 2, modal: a === 'swap' || a === 'inpaint' ? 'always' : 'never', group: 0, route: TOOL_ROUTE }))];
}

export function toolButtonRoutes(): ComponentRoute[] {
  return [
    { prefix: TOOL_ROUTE, handle: (i, rest, ctx) => onPress(asButton(i), rest, ctx) },
    { prefix: TOOL_MODAL_ROUTE, handle: (i, rest, ctx) => onModal(asModal(i), rest, ctx) },
  ];
}

function asButton(i: ComponentInteraction): ButtonInteraction {
  if (!i.isButton()) throw new UserError('errors.buttonUnknown');
  return i;
}

function asModal(i: ComponentInteraction): ModalSubmitInteraction {
  if (!i.isModalSubmit()) throw new UserError('errors.buttonUnknown');
  return i;
}

interface Pressed {
  record: ButtonRecord;
  parent: Job;
  action: ToolAction;
}

async function resolvePress(i: ButtonInteraction | ModalSubmitInteraction, key: string, ctx: Ctx): Promise<Pressed> {
  const record = await findButton(i, key, ctx); // older than JOB_RETENTION_DAYS, or unknown: says so
  if (!record.customId.startsWith(RELAY)) throw new UserError('errors.buttonExpired');
  if (!mayPress(i, record.ownerId, ctx.services.config, ctx.rules)) throw new UserError('errors.notYourJob', { user: `<@${record.ownerId}>` });
  const action = record.customId.slice(RELAY.length);
  const parent = await ctx.services.jobs.get(record.jobId);
  if (!parent || !(action in SPECS)) throw new UserError('errors.buttonExpired');
  return { record, parent, action: action as ToolAction };
}

async function onPress(i: ButtonInteraction, key: string, ctx: Ctx): Promise<void> {
  const p = await resolvePress(i, key, ctx);
  if (p.action === 'swap' || p.action === 'inpaint') {
    // a modal must be the first answer: everything it shows comes from the store
    await i.showModal(p.action === 'swap' ? swapModal(p, key, ctx) : inpaintModal(p, key, ctx));
    return;
  }
  await i.deferUpdate();
  await admitBeforeDownload(i, ctx); // refused by a limit: not even the result image is fetched again
  if (!(await ctx.services.repos.buttons.claim(key, PRESS_WINDOW_MS))) {
    await replyEphemeral(i, ctx.t('errors.alreadyPressed'));
    return;
  }
  try {
    const image = await resultImage(p.parent, ctx, limitsFor(PICWISH_LIMITS, i.attachmentSizeLimit));
    await startTool(await origin(i, p, ctx), { tool: TOOL_OF[p.action], image });
  } catch (err) {
    await ctx.services.repos.buttons.release(key);
    throw err;
  }
  await markUsed(p.parent, p.record.customId, ctx);
}

function swapModal(p: Pressed, key: string, ctx: Ctx) {
  const engine = p.parent.upstream.engine;
  const fidelity = p.parent.upstream.fidelity;
  return modal(customId(TOOL_MODAL_ROUTE, key), ctx.t('tools.modals.swap.title'), [
    { id: 'face', label: ctx.t('tools.modals.swap.faceLabel'), description: ctx.t('tools.modals.swap.faceDescription'), file: true, required: true },
    ...(engine === 'v2'
      ? [{ id: 'fidelity', label: ctx.t('tools.modals.swap.fidelityLabel'), description: ctx.t('tools.modals.swap.fidelityDescription'), value: typeof fidelity === 'number' ? String(fidelity) : '', placeholder: '0.5', required: false, paragraph: false, maxLength: 5 }]
      : []),
    ...(engine === 'multi'
      ? [{ id: 'faceIdx', label: ctx.t('tools.modals.swap.faceIndexLabel'), description: ctx.t('tools.modals.swap.faceIndexDescription'), placeholder: '1', required: false, paragraph: false, maxLength: 2 }]
      : []),
  ]);
}

function inpaintModal(p: Pressed, key: string, ctx: Ctx) {
  const size = { width: p.parent.result?.width ?? '?', height: p.parent.result?.height ?? '?' };
  return modal(customId(TOOL_MODAL_ROUTE, key), ctx.t('tools.modals.inpaint.title'), [
    { id: 'mask', label: ctx.t('tools.modals.inpaint.maskLabel'), description: ctx.t('tools.modals.inpaint.maskDescription', size), file: true, required: false },
    {
      id: 'rects',
      label: ctx.t('tools.modals.inpaint.rectsLabel'),
      description: ctx.t('tools.modals.inpaint.rectsDescription', size),
      placeholder: '100,120,200,150; 400,80,120,120',
      required: false,
      paragraph: true,
      maxLength: 2000,
    },
  ]);
}

async function onModal(i: ModalSubmitInteraction, key: string, ctx: Ctx): Promise<void> {
  const p = await resolvePress(i, key, ctx);
  await deferEphemeral(i);
  await admitBeforeDownload(i, ctx); // a member a limit refuses costs no download and no decode
  let job: Job;
  if (p.action === 'swap') job = await swapAgain(i, p, ctx);
  else if (p.action === 'inpaint') job = await inpaintAgain(i, p, ctx);
  else throw new UserError('errors.buttonUnknown');
  await markUsed(p.parent, p.record.customId, ctx);
  await i.editReply({ content: acceptedReply(job, ctx), allowedMentions: { parse: [] } });
}

/** Swap again: a new face (uploaded in the modal) onto this result, with the same engine. */
async function swapAgain(i: ModalSubmitInteraction, p: Pressed, ctx: Ctx): Promise<Job> {
  const engine = p.parent.upstream.engine;
  if (!isSwapEngine(engine)) throw new UserError('errors.buttonExpired');
  const fidelity = engine === 'v2' ? parseFidelity(modalText(i, 'fidelity')) : undefined;
  const faceIdx = engine === 'multi' ? parseFaceIndex(modalText(i, 'faceIdx')) : undefined;
  const upload = uploadedFile(i, 'face');
  if (!upload) throw new UserError('tools.errors.faceMissing');
  const limits = limitsFor(engine === 'proxy' ? PROXY_LIMITS : IMGOPEN_LIMITS, i.attachmentSizeLimit);
  const [source] = await readToolImages([upload], ctx, limits);
  const target = await resultImage(p.parent, ctx, limits);
  if (!source) throw new UserError('tools.errors.faceMissing');
  return startFaceSwap(await origin(i, p, ctx), { engine, source, target, fidelity, faceIdx });
}

/** Inpaint again: a new mask or new rectangles on this result. */
async function inpaintAgain(i: ModalSubmitInteraction, p: Pressed, ctx: Ctx): Promise<Job> {
  const mask = uploadedFile(i, 'mask');
  const rects = modalText(i, 'rects');
  if (mask && rects) throw new UserError('tools.errors.maskAndRectangles');
  if (!mask && !rects) throw new UserError('errors.maskMissing');
  const limits = limitsFor(PICWISH_LIMITS, i.attachmentSizeLimit);
  const image = await resultImage(p.parent, ctx, limits);
  const region = await readRegion(image, mask, rects, ctx, limits);
  return startInpaint(await origin(i, p, ctx), { image, ...region });
}

/** "0.7" → 0.7; empty → undefined; anything else outside 0..1 → a clear refusal. */
export function parseFidelity(text: string): number | undefined {
  if (!text) return undefined;
  const n = Number(text.replace(',', '.'));
  if (!/^\d*[.,]?\d+$/.test(text) || !Number.isFinite(n) || n < 0 || n > 1) throw new UserError('tools.errors.fidelityInvalid', { value: text.slice(0, 20) });
  return n;
}

/** "2" → 2 (1-based, left to right); empty → undefined. */
export function parseFaceIndex(text: string): number | undefined {
  if (!text) return undefined;
  if (!/^\d{1,2}$/.test(text) || Number(text) < 1) throw new UserError('tools.errors.faceIndexInvalid', { value: text.slice(0, 20) });
  return Number(text);
}

/** The presser owns the new job; it goes where the parent went when the owner pressed, else per their settings. */
async function origin(i: ButtonInteraction | ModalSubmitInteraction, p: Pressed, ctx: Ctx): Promise<JobOrigin> {
  const settings = await ctx.services.repos.users.settings(i.user.id);
  const delivery = i.user.id === p.parent.owner.userId ? p.parent.delivery : pickDelivery(null, settings, ctx.rules);
  return { interaction: i, ctx, delivery, parentJobId: p.parent.id };
}

/** Draw the pressed button as used on the parent's result messages. */
async function markUsed(parent: Job, relayId: string, ctx: Ctx): Promise<void> {
  if (parent.usedButtons?.includes(relayId)) return;
  const saved = await ctx.services.repos.jobs.update(
    parent.id,
    (j) => {
      j.usedButtons = [...new Set([...(j.usedButtons ?? []), relayId])];
    },
    ctx.services.now(),
  );
  if (saved) await ctx.services.delivery.redrawButtons(saved.id);
}
