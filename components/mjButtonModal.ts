import type { ModalSubmitInteraction } from 'discord.js';
import type { Job } from '../src/jobs/model.js';
import { IMAGE_BUDGETS } from '../src/images/budgets.js';
import { parseRectangles } from '../src/images/mask.js';
import { toDataUrl } from '../src/images/sniff.js';
import { applyZoom, validatePrompt } from '../src/mj/prompts.js';
import { motionOf, withMotion } from '../src/mj/videoPrompt.js';
import { admitBeforeDownload } from '../src/discord/interactions/admission.js';
import { encode } from '../src/discord/interactions/customId.js';
import { component, UserError, type Ctx } from '../src/discord/interactions/interactionKit.js';
import { readMjButton, regionImageSize, startActionWithInput, type ActionInput, type MjPressed } from '../src/discord/flows/mjAction.js';
import { withEditorNote } from '../src/discord/flows/maskEditor.js';
import { varyRegionMask } from '../src/discord/flows/toolInputs.js';
import { modal, MODAL_TEXT_MAX } from '../src/discord/interactions/modals.js';
import { pressedButton } from '../src/discord/interactions/pressedButton.js';
import { refuseUnfitParams } from '../src/discord/flows/versionCheck.js';

/** The modal a Midjourney button opens first (Custom Zoom, Vary Region, a describe pick, remix editing): `mj:f:<key>`. */
export const mjButtonModal = component({
  route: 'mjButtonModal',
  accepts: 'modal',
  parse: (key, i, ctx): Promise<MjPressed> => pressedButton(i, key, ctx, readMjButton),
  ack: 'ephemeral',
  async run(i, p, ctx) {
    await admitBeforeDownload(i, ctx); // a member a limit refuses costs no download and no decode
    const input = await modalInput(i, p, ctx);
    if (input.prompt) refuseUnfitParams(input.prompt, ctx, { botType: p.parent.botType, fallbackVersion: p.parent.result?.version });
    // the same step the mask editor's submit continues with (src/discord/flows/maskEditor.ts)
    await i.editReply({ content: await startActionWithInput(i, ctx, p, input), allowedMentions: { parse: [] } });
  },
});

/** The modal a pressed button opens, prefilled from the store. */
export function mjButtonModalFor(p: MjPressed, ctx: Ctx) {
  const prompt = (p.parent.result?.finalPrompt ?? p.parent.prompt).slice(0, MODAL_TEXT_MAX);
  const id = encode('mjButtonModal', p.key);
  switch (p.spec.kind) {
    case 'custom-zoom':
      return modal(id, ctx.t('modals.customZoom.title'), [
        { id: 'prompt', label: ctx.t('modals.customZoom.label'), description: ctx.t('modals.customZoom.description'), value: withZoomHint(prompt) },
      ]);
    case 'vary-region': {
      const form = modal(id, ctx.t('modals.varyRegion.title'), [
        {
          id: 'mask',
          label: ctx.t('modals.varyRegion.maskLabel'),
          description: ctx.t('modals.varyRegion.maskDescription', sizeParams(p.parent)),
          file: true,
          required: false,
        },
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
      return withEditorNote(ctx, form); // without PUBLIC_URL: says the drawing editor needs it
    }
    case 'describe-pick':
    case 'shorten-pick': {
      const picked = p.record.data?.prompt ?? prompt;
      return modal(id, ctx.t('modals.describePick.title', { n: p.spec.index ?? '' }), [{ id: 'prompt', label: ctx.t('modals.prompt.label'), value: picked }]);
    }
    default: {
      // Animate / Extend with remix on: the motion prompt, as Midjourney's "Animate manually" prefills it
      const motion = motionOf(p.spec.kind);
      const value = motion ? withMotion(prompt, motion).slice(0, MODAL_TEXT_MAX) : prompt;
      return modal(id, ctx.t('modals.remix.title'), [
        { id: 'prompt', label: ctx.t('modals.prompt.label'), description: ctx.t('modals.remix.description'), value },
      ]);
    }
  }
}

function withZoomHint(prompt: string): string {
  return /--zoom\b/.test(prompt) ? prompt : `${prompt} --zoom 2`;
}

function sizeParams(job: Job): { width: number | string; height: number | string } {
  return { width: job.result?.width ?? '?', height: job.result?.height ?? '?' };
}

/** Read and validate what the user typed or uploaded in a button's modal. Throws UserError with the reason. */
async function modalInput(i: ModalSubmitInteraction, p: MjPressed, ctx: Ctx): Promise<ActionInput> {
  const text = (id: string) => {
    try {
      return i.fields.getTextInputValue(id);
    } catch {
      return '';
    }
  };
  switch (p.spec.kind) {
    case 'custom-zoom': {
      const base = validatePrompt(text('prompt'), { maxLength: MODAL_TEXT_MAX });
      if (!base.ok) throw new UserError(base.key, base.params);
      const zoomed = applyZoom(base.prompt);
      if (!zoomed.ok) throw new UserError(zoomed.key, zoomed.params);
      return { prompt: zoomed.prompt };
    }
    case 'vary-region': {
      const size = await regionImageSize(p.parent, ctx);
      const maskBase64 = await readMask(i, text('rects'), size, ctx);
      const prompt = text('prompt').trim();
      return { maskBase64, prompt: prompt || undefined };
    }
    default: {
      const checked = validatePrompt(text('prompt'), { maxLength: MODAL_TEXT_MAX });
      if (!checked.ok) throw new UserError(checked.key, checked.params);
      return { prompt: checked.prompt, enableRemix: p.spec.modal === 'remix' ? true : undefined };
    }
  }
}

/** A Vary (Region) mask from the uploaded file, else from typed rectangles; PNG data URL of the image's size. */
async function readMask(i: ModalSubmitInteraction, rectsText: string, size: { width: number; height: number }, ctx: Ctx): Promise<string> {
  let files: ReturnType<ModalSubmitInteraction['fields']['getUploadedFiles']>;
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
    return varyRegionMask(bytes, upload.name, size, ctx);
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
