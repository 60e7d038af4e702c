import type { ButtonInteraction, Interaction, ModalSubmitInteraction } from 'discord.js';
import type { Config } from '../config.js';
import type { Job } from '../jobs/model.js';
import { SubmitFailed, type SubmitResult } from '../jobs/service.js';
import { mapButton, type MappedButton } from '../mj/buttons.js';
import { applyZoom, validatePrompt } from '../mj/prompts.js';
import { IMAGE_BUDGETS } from '../images/budgets.js';
import { parseRectangles } from '../images/mask.js';
import { sniffImage, toDataUrl } from '../images/sniff.js';
import type { ButtonRecord } from '../store/repositories.js';
import type { MjSubmitOutcome } from '../upstream/mjTypes.js';
import type { GuildRules } from '../community/rules.js';
import { customId, deferEphemeral, memberRoleIds, replyEphemeral, UserError, type ComponentInteraction, type ComponentRoute, type Ctx } from './interactionKit.js';
import { findButton } from './jobAccess.js';
import { admitBeforeDownload } from './admission.js';
import { acceptedReply, jobOwner, pickDelivery } from './jobOptions.js';
import { modal, MODAL_TEXT_MAX } from './modals.js';
import { startPromptPick } from './promptPicks.js';

/** A second press of the same button inside this window is a double click. */
export const PRESS_WINDOW_MS = 5000;

/**
 * Midjourney buttons on results: `mj:b:<key>` presses, `mj:f:<key>` their modals,
 * `mj:r:<jobId>:edit|go` and `mj:x:<jobId>` for a remix prompt the upstream asked for unannounced.
 */
export function mjButtonRoutes(): ComponentRoute[] {
  return [
    { prefix: 'b', handle: (i, rest, ctx) => onPress(asButton(i), rest, ctx) },
    { prefix: 'f', handle: (i, rest, ctx) => onButtonModal(asModal(i), rest, ctx) },
    { prefix: 'r', handle: (i, rest, ctx) => onRemixChoice(asButton(i), rest, ctx) },
    { prefix: 'x', handle: (i, rest, ctx) => onRemixModal(asModal(i), rest, ctx) },
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

/** Owner only by default; the server's rule (/admin rules buttons) or BUTTON_ACCESS=anyone|roles widens it. */
export function mayPress(interaction: Interaction, ownerId: string, config: Config, rules?: GuildRules): boolean {
  if (interaction.user.id === ownerId) return true;
  const access = rules?.buttons ?? config.buttons;
  if (access.access === 'anyone') return true;
  if (access.access === 'roles') {
    const roles = memberRoleIds(interaction);
    return access.roles.some((r) => roles.includes(r));
  }
  return false;
}


interface Pressed {
  record: ButtonRecord;
  parent: Job;
  button: MappedButton;
}

async function resolvePress(i: ButtonInteraction | ModalSubmitInteraction, key: string, ctx: Ctx): Promise<Pressed> {
  const record = await findButton(i, key, ctx); // older than JOB_RETENTION_DAYS, or unknown: says so
  if (!mayPress(i, record.ownerId, ctx.services.config, ctx.rules)) throw new UserError('errors.notYourJob', { user: `<@${record.ownerId}>` });
  const parent = await ctx.services.jobs.get(record.jobId);
  const button = mapButton({ customId: record.customId });
  if (!parent || !button) throw new UserError('errors.buttonExpired');
  return { record, parent, button };
}

async function onPress(i: ButtonInteraction, key: string, ctx: Ctx): Promise<void> {
  const p = await resolvePress(i, key, ctx);
  const settings = await ctx.services.repos.users.settings(i.user.id);
  const modalFirst = p.button.modal === 'always' || (p.button.modal === 'remix' && settings.remix === true);
  if (modalFirst) {
    // a modal must be the first response: everything it shows comes from the store, nothing from the upstream
    await i.showModal(buttonModal(p, key, ctx));
    return;
  }
  await i.deferUpdate();
  if (!(await ctx.services.repos.buttons.claim(key, PRESS_WINDOW_MS))) {
    await replyEphemeral(i, ctx.t('errors.alreadyPressed'));
    return;
  }
  const job = await startAction(i, ctx, p, {}).catch(async (err) => {
    await ctx.services.repos.buttons.release(key);
    throw err;
  });
  if (job.status === 'modal') {
    // Remix is on for the upstream account: it wants the prompt confirmed, but a deferred click cannot open a modal
    await replyEphemeral(i, ctx.t('remix.prompted'), { components: remixChoiceRows(job, ctx) });
  }
}

/** The modal a button opens first (Custom Zoom, Vary Region, describe pick, remix editing). */
function buttonModal(p: Pressed, key: string, ctx: Ctx) {
  const prompt = (p.parent.result?.finalPrompt ?? p.parent.prompt).slice(0, MODAL_TEXT_MAX);
  const id = customId('f', key);
  switch (p.button.kind) {
    case 'custom-zoom':
      return modal(id, ctx.t('modals.customZoom.title'), [
        { id: 'prompt', label: ctx.t('modals.customZoom.label'), description: ctx.t('modals.customZoom.description'), value: withZoomHint(prompt) },
      ]);
    case 'vary-region':
      return modal(id, ctx.t('modals.varyRegion.title'), [
        { id: 'mask', label: ctx.t('modals.varyRegion.maskLabel'), description: ctx.t('modals.varyRegion.maskDescription', sizeParams(p.parent)), file: true, required: false },
        {
          id: 'rects',
          label: ctx.t('modals.varyRegion.rectsLabel'),
          description: ctx.t('modals.varyRegion.rectsDescription', sizeParams(p.parent)),
          placeholder: '100,120,200,150; 400,80,120,120',
          required: false,
          paragraph: false,
          maxLength: 1000,
        },
        { id: 'prompt', label: ctx.t('modals.varyRegion.promptLabel'), value: prompt, required: false },
      ]);
    case 'describe-pick':
    case 'shorten-pick': {
      const picked = p.record.data?.prompt ?? prompt;
      return modal(id, ctx.t('modals.describePick.title', { n: p.button.index ?? '' }), [{ id: 'prompt', label: ctx.t('modals.prompt.label'), value: picked }]);
    }
    default:
      return modal(id, ctx.t('modals.remix.title'), [{ id: 'prompt', label: ctx.t('modals.prompt.label'), description: ctx.t('modals.remix.description'), value: prompt }]);
  }
}

function withZoomHint(prompt: string): string {
  return /--zoom\b/.test(prompt) ? prompt : `${prompt} --zoom 2`;
}

function sizeParams(job: Job): { width: number | string; height: number | string } {
  return { width: job.result?.width ?? '?', height: job.result?.height ?? '?' };
}

async function onButtonModal(i: ModalSubmitInteraction, key: string, ctx: Ctx): Promise<void> {
  const p = await resolvePress(i, key, ctx);
  await deferEphemeral(i);
  await admitBeforeDownload(i, ctx); // a member a limit refuses costs no download and no decode
  const input = await modalInput(i, p, ctx);
  // no double-click guard here: each modal submit is one deliberate edit (Discord never sends one twice)
  const job = await startAction(i, ctx, p, input);
  const note = job.upstream.editNotApplied ? `\n${ctx.t('remix.editNotApplied')}` : '';
  await i.editReply({ content: acceptedReply(job, ctx) + note, allowedMentions: { parse: [] } });
}

interface ActionInput {
  prompt?: string | undefined;
  maskBase64?: string | undefined;
  enableRemix?: boolean | undefined;
}

/** Read and validate what the user typed or uploaded in a button's modal. Throws UserError with the reason. */
async function modalInput(i: ModalSubmitInteraction, p: Pressed, ctx: Ctx): Promise<ActionInput> {
  const text = (id: string) => {
    try {
      return i.fields.getTextInputValue(id);
    } catch {
      return '';
    }
  };
  switch (p.button.kind) {
    case 'custom-zoom': {
      const base = validatePrompt(text('prompt'), { maxLength: MODAL_TEXT_MAX });
      if (!base.ok) throw new UserError(base.key, base.params);
      const zoomed = applyZoom(base.prompt);
      if (!zoomed.ok) throw new UserError(zoomed.key, zoomed.params);
      return { prompt: zoomed.prompt };
    }
    case 'vary-region': {
      const size = await imageSize(p.parent, ctx);
      const maskBase64 = await readMask(i, text('rects'), size, ctx);
      const prompt = text('prompt').trim();
      return { maskBase64, prompt: prompt || undefined };
    }
    default: {
      const checked = validatePrompt(text('prompt'), { maxLength: MODAL_TEXT_MAX });
      if (!checked.ok) throw new UserError(checked.key, checked.params);
      return { prompt: checked.prompt, enableRemix: p.button.modal === 'remix' ? true : undefined };
    }
  }
}

/** A Vary (Region) mask from the uploaded file, else from typed rectangles; PNG data URL of the image's size. */
async function readMask(i: ModalSubmitInteraction, rectsText: string, size: { width: number; height: number }, ctx: Ctx): Promise<string> {
  let files: ReturnType<ModalSubmitInteraction['fields']['getUploadedFiles']> = null;
  try {
    files = i.fields.getUploadedFiles('mask');
  } catch {
    files = null;
  }
  const upload = files?.first();
  if (upload) {
    const maxBytes = IMAGE_BUDGETS.mask.maxBytes;
    const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
    if (upload.size > maxBytes) throw new UserError('errors.imageTooLarge', { name: upload.name, size: mib(upload.size), max: mib(maxBytes) });
    const bytes = await ctx.services.download(upload.url, maxBytes).catch(() => {
      throw new UserError('errors.attachmentDownload', { name: upload.name });
    });
    if (!sniffImage(bytes)) throw new UserError('errors.notAnImage', { name: upload.name });
    // the size (expected and budgeted) is checked from the header first; decoding happens off the event loop
    const mask = await ctx.services.masks.normalize(bytes, size.width, size.height);
    if (!mask.ok) throw new UserError(mask.key, { ...size, ...(mask.params ?? {}) });
    return toDataUrl(mask.png, 'image/png');
  }
  if (rectsText.trim()) {
    const parsed = parseRectangles(rectsText, { max: 50, width: size.width, height: size.height });
    if (!parsed.ok) throw new UserError(parsed.key, { ...size, ...(parsed.params ?? {}) });
    // drawn at the size the upstream reported: within the pixel budget, off the event loop
    const mask = await ctx.services.masks.rectangles(parsed.rects, size.width, size.height);
    if (!mask.ok) throw new UserError(mask.key, { ...size, ...(mask.params ?? {}) });
    return toDataUrl(mask.png, 'image/png');
  }
  throw new UserError('errors.maskMissing');
}

/** Pixel size of a job's result image: from the upstream, else from our re-hosted attachment. */
async function imageSize(job: Job, ctx: Ctx): Promise<{ width: number; height: number }> {
  if (job.result?.width && job.result.height) return { width: job.result.width, height: job.result.height };
  for (const ref of job.messages.results) {
    const msg = await ctx.services.messenger.fetch(ref.channelId, ref.messageId).catch(() => undefined);
    const att = msg?.attachments.find((a) => a.width && a.height);
    if (att?.width && att.height) return { width: att.width, height: att.height };
  }
  throw new UserError('errors.imageSizeUnknown');
}

/** Submit the upstream action of a pressed button as a new job (owned by whoever pressed it). */
async function startAction(i: ButtonInteraction | ModalSubmitInteraction, ctx: Ctx, p: Pressed, input: ActionInput): Promise<Job> {
  const { services } = ctx;
  const { parent, record, button } = p;
  // describe/shorten picks and "Imagine all" start fresh imagines (the bot's own; see promptPicks)
  const local = await startPromptPick(i, ctx, p, input);
  if (local) {
    await markUsed(parent, record.customId, ctx);
    return local;
  }
  const settings = await services.repos.users.settings(i.user.id);
  const hasInput = input.prompt !== undefined || input.maskBase64 !== undefined;
  let job: Job;
  try {
    job = await services.jobs.run(
      {
        provider: 'mj',
        kind: button.kind === 'describe-retry' ? 'describe' : button.kind === 'shorten-details' ? 'shorten' : 'action',
        parentJobId: parent.id,
        action: { customId: record.customId, kind: button.kind, index: button.index },
        prompt: input.prompt ?? parent.result?.finalPrompt ?? parent.prompt,
        owner: jobOwner(i, ctx.locale, ctx.guildId),
        delivery: i.user.id === parent.owner.userId ? parent.delivery : pickDelivery(null, settings, ctx.rules),
        mode: parent.mode,
        botType: parent.botType,
        interaction: { applicationId: i.applicationId, token: i.token, issuedAt: i.createdTimestamp },
        attachmentLimit: i.attachmentSizeLimit,
      },
      async (job): Promise<SubmitResult> => {
        const out = await services.mj.action({ taskId: record.upstreamTaskId, customId: record.customId, mode: parent.mode, botType: parent.botType, state: job.id, enableRemix: input.enableRemix });
        if (out.kind === 'modal') {
          if (!hasInput) return { kind: 'modal', upstreamId: out.modalTaskId, prefill: out.prefill };
          const done = await services.mj.modal({ taskId: out.modalTaskId, prompt: input.prompt, maskBase64: input.maskBase64, mode: parent.mode });
          return accepted(done, out.modalTaskId);
        }
        if (hasInput && input.prompt !== undefined && button.kind !== 'custom-zoom' && button.kind !== 'vary-region') job.upstream.editNotApplied = true;
        return accepted(out, out.taskId);
      },
    );
  } catch (err) {
    if (err instanceof SubmitFailed) throw UserError.from(err.userMessage);
    throw err;
  }
  await markUsed(parent, record.customId, ctx);
  return job;
}

function accepted(out: MjSubmitOutcome, fallbackId: string): SubmitResult {
  if (out.kind === 'accepted') return { kind: 'accepted', upstreamId: out.taskId, queuePosition: out.queuePosition };
  if (out.kind === 'existing') return { kind: 'accepted', upstreamId: out.taskId };
  return { kind: 'accepted', upstreamId: fallbackId };
}

/** Draw the pressed button as used on the parent's result messages. */
async function markUsed(parent: Job, upstreamCustomId: string, ctx: Ctx): Promise<void> {
  if (parent.usedButtons?.includes(upstreamCustomId)) return;
  const saved = await ctx.services.repos.jobs.update(
    parent.id,
    (j) => {
      j.usedButtons = [...new Set([...(j.usedButtons ?? []), upstreamCustomId])];
    },
    ctx.services.now(),
  );
  if (saved) await ctx.services.delivery.redrawButtons(saved.id);
}

function remixChoiceRows(job: Job, ctx: Ctx) {
  return [
    {
      type: 1,
      components: [
        { type: 2, style: 1, custom_id: customId('r', `${job.id}:edit`), label: ctx.t('remix.editButton'), emoji: { name: '✏️' } },
        { type: 2, style: 2, custom_id: customId('r', `${job.id}:go`), label: ctx.t('remix.submitButton') },
      ],
    },
  ] as never;
}

async function remixJob(i: Interaction, jobId: string, ctx: Ctx): Promise<Job> {
  const job = await ctx.services.jobs.get(jobId);
  if (!job || job.status !== 'modal') throw new UserError('errors.remixExpired');
  if (i.user.id !== job.owner.userId) throw new UserError('errors.notYourJob', { user: `<@${job.owner.userId}>` });
  return job;
}

async function onRemixChoice(i: ButtonInteraction, rest: string, ctx: Ctx): Promise<void> {
  const [jobId, what] = rest.split(':');
  const job = await remixJob(i, jobId ?? '', ctx);
  const prefill = String(job.upstream.prefill ?? job.prompt);
  if (what === 'edit') {
    await i.showModal(modal(customId('x', job.id), ctx.t('modals.remix.title'), [{ id: 'prompt', label: ctx.t('modals.prompt.label'), value: prefill.slice(0, MODAL_TEXT_MAX) }]));
    return;
  }
  await i.deferUpdate();
  await submitRemix(job, prefill, ctx);
  await i.editReply({ content: acceptedReply(job, ctx), components: [] });
}

async function onRemixModal(i: ModalSubmitInteraction, jobId: string, ctx: Ctx): Promise<void> {
  const job = await remixJob(i, jobId, ctx);
  const checked = validatePrompt(i.fields.getTextInputValue('prompt'), { maxLength: MODAL_TEXT_MAX });
  if (!checked.ok) throw new UserError(checked.key, checked.params);
  if (i.isFromMessage()) await i.deferUpdate();
  else await deferEphemeral(i);
  await submitRemix(job, checked.prompt, ctx);
  await i.editReply({ content: acceptedReply(job, ctx), components: [] });
}

async function submitRemix(job: Job, prompt: string, ctx: Ctx): Promise<void> {
  const modalTaskId = String(job.upstream.modalTaskId ?? job.upstreamId);
  job.prompt = prompt;
  try {
    await ctx.services.jobs.resume(job, async () => accepted(await ctx.services.mj.modal({ taskId: modalTaskId, prompt, mode: job.mode }), modalTaskId));
  } catch (err) {
    if (err instanceof SubmitFailed) throw UserError.from(err.userMessage);
    throw err;
  }
}
