import type { ModalSubmitInteraction } from 'discord.js';
import type { Job } from '../src/jobs/model.js';
import { admitBeforeDownload } from '../src/discord/interactions/admission.js';
import { encode } from '../src/discord/interactions/customId.js';
import { component, UserError, type Ctx } from '../src/discord/interactions/interactionKit.js';
import { acceptedReply } from '../src/discord/flows/jobOptions.js';
import { modal } from '../src/discord/interactions/modals.js';
import { withEditorNote } from '../src/discord/flows/maskEditor.js';
import { afterPress, pressedButton } from '../src/discord/interactions/pressedButton.js';
import { parseFaceIndex, parseFidelity, readToolAction, toolOrigin, type ToolPressed } from '../src/discord/flows/toolButtons.js';
import {
  IMGOPEN_LIMITS,
  limitsFor,
  modalText,
  PICWISH_LIMITS,
  PROXY_LIMITS,
  readRegion,
  readToolImages,
  resultImage,
  uploadedFile,
} from '../src/discord/flows/toolInputs.js';
import { isSwapEngine, startFaceSwap, startInpaint } from '../src/discord/flows/toolJobs.js';

/** The modal of "Swap again" (a new face) or "Inpaint again" (a new mask or rectangles): `mj:tm:<key>`. */
export const toolButtonModal = component({
  route: 'toolButtonModal',
  accepts: 'modal',
  parse: (key, i, ctx): Promise<ToolPressed> => pressedButton(i, key, ctx, readToolAction),
  ack: 'ephemeral',
  async run(i, p, ctx) {
    await admitBeforeDownload(i, ctx); // a member a limit refuses costs no download and no decode
    const again = p.spec === 'swap' ? swapAgain : p.spec === 'inpaint' ? inpaintAgain : undefined;
    if (!again) throw new UserError('errors.buttonUnknown');
    const job = await afterPress(i, p, ctx, { claim: false }, () => again(i, p, ctx));
    await i.editReply({ content: acceptedReply(job, ctx), allowedMentions: { parse: [] } });
  },
});

/** The modal a swap-again or inpaint-again press opens, prefilled from the store. */
export function toolButtonModalFor(p: ToolPressed, ctx: Ctx) {
  return p.spec === 'swap' ? swapModal(p, ctx) : inpaintModal(p, ctx);
}

function swapModal(p: ToolPressed, ctx: Ctx) {
  const engine = p.parent.upstream.engine;
  const fidelity = p.parent.upstream.fidelity;
  return modal(encode('toolButtonModal', p.key), ctx.t('tools.modals.swap.title'), [
    { id: 'face', label: ctx.t('tools.modals.swap.faceLabel'), description: ctx.t('tools.modals.swap.faceDescription'), file: true, required: true },
    ...(engine === 'v2'
      ? [
          {
            id: 'fidelity',
            label: ctx.t('tools.modals.swap.fidelityLabel'),
            description: ctx.t('tools.modals.swap.fidelityDescription'),
            value: typeof fidelity === 'number' ? String(fidelity) : '',
            placeholder: '0.5',
            required: false,
            paragraph: false,
            maxLength: 5,
          },
        ]
      : []),
    ...(engine === 'multi'
      ? [
          {
            id: 'faceIdx',
            label: ctx.t('tools.modals.swap.faceIndexLabel'),
            description: ctx.t('tools.modals.swap.faceIndexDescription'),
            placeholder: '1',
            required: false,
            paragraph: false,
            maxLength: 2,
          },
        ]
      : []),
  ]);
}

function inpaintModal(p: ToolPressed, ctx: Ctx) {
  const size = { width: p.parent.result?.width ?? '?', height: p.parent.result?.height ?? '?' };
  const form = modal(encode('toolButtonModal', p.key), ctx.t('tools.modals.inpaint.title'), [
    {
      id: 'mask',
      label: ctx.t('tools.modals.inpaint.maskLabel'),
      description: ctx.t('tools.modals.inpaint.maskDescription', size),
      file: true,
      required: false,
    },
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
  return withEditorNote(ctx, form);
}

/** Swap again: a new face (uploaded in the modal) onto this result, with the same engine. */
async function swapAgain(i: ModalSubmitInteraction, p: ToolPressed, ctx: Ctx): Promise<Job> {
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
  return startFaceSwap(await toolOrigin(i, p, ctx), { engine, source, target, fidelity, faceIdx });
}

/** Inpaint again: a new mask or new rectangles on this result. */
async function inpaintAgain(i: ModalSubmitInteraction, p: ToolPressed, ctx: Ctx): Promise<Job> {
  const mask = uploadedFile(i, 'mask');
  const rects = modalText(i, 'rects');
  if (mask && rects) throw new UserError('tools.errors.maskAndRectangles');
  if (!mask && !rects) throw new UserError('errors.maskMissing');
  const limits = limitsFor(PICWISH_LIMITS, i.attachmentSizeLimit);
  const image = await resultImage(p.parent, ctx, limits);
  const region = await readRegion(image, mask, rects, ctx, limits);
  return startInpaint(await toolOrigin(i, p, ctx), { image, ...region });
}
