import type { Attachment, ModalSubmitInteraction } from 'discord.js';
import { parseRectangles, type Rect } from '../../images/mask.js';
import { checkImage, sniffImage, toDataUrl } from '../../images/sniff.js';
import type { Job } from '../../jobs/model.js';
import type { Services } from '../../services.js';
import { PICWISH_MAX_INPUT_BYTES, PICWISH_MAX_RECTANGLES } from '../../upstream/picwish.js';
import { readImages, type CheckedImage } from './attachments.js';
import { UserError, type Ctx } from '../interactions/interactionKit.js';

/**
 * Input images for the image tools: checked by their bytes (type, size, pixel sides) before anything is sent
 * upstream, and turned into what each upstream takes (bytes, data URLs, or a URL it can fetch).
 */

export interface ImageLimits {
  maxBytes: number;
  maxSide: number;
}

/** PicWish refuses inputs over 15 MB (its state -5); inpainting takes at most 4096×4096. */
export const PICWISH_LIMITS: ImageLimits = { maxBytes: PICWISH_MAX_INPUT_BYTES, maxSide: 4096 };
/** Img Open publishes no limits: 10 MB and 4096 px on the longest side are our defaults until the vendor names its own. */
export const IMGOPEN_LIMITS: ImageLimits = { maxBytes: 10 * 1024 * 1024, maxSide: 4096 };
/** The proxy takes base64 in a JSON body: keep it to Discord's default upload size. */
export const PROXY_LIMITS: ImageLimits = { maxBytes: 10 * 1024 * 1024, maxSide: 4096 };

/** The vendor's limit, never above what the interaction allows for a file (`attachment_size_limit`). */
export function limitsFor(vendor: ImageLimits, interactionLimit: number | undefined): ImageLimits {
  const cap = interactionLimit && interactionLimit > 0 ? interactionLimit : vendor.maxBytes;
  return { maxBytes: Math.min(vendor.maxBytes, cap), maxSide: vendor.maxSide };
}

/** Download and check attachments (declared size first, then the real bytes). Absent ones stay undefined. */
export async function readToolImages(list: (Attachment | null | undefined)[], ctx: Ctx, limits: ImageLimits): Promise<(CheckedImage | undefined)[]> {
  const present = list.filter((a): a is Attachment => Boolean(a));
  const read = await readImages(present, ctx, limits);
  return list.map((a) => (a ? read[present.indexOf(a)] : undefined));
}

/** The first file of a modal's File Upload, if the user gave one. */
export function uploadedFile(i: ModalSubmitInteraction, id: string): Attachment | undefined {
  try {
    return i.fields.getUploadedFiles(id)?.first() ?? undefined;
  } catch {
    return undefined;
  }
}

/** A text field of a modal ('' when absent). */
export function modalText(i: ModalSubmitInteraction, id: string): string {
  try {
    return i.fields.getTextInputValue(id).trim();
  } catch {
    return '';
  }
}

/**
 * The image of a job's result, re-downloaded from the bot's own result message (fetched again for a fresh
 * attachment URL: stored CDN URLs expire). Throws UserError when the result is gone or was only a link.
 */
export async function resultImage(job: Job, ctx: Ctx, limits: ImageLimits): Promise<CheckedImage> {
  for (const ref of job.messages.results) {
    const msg = await ctx.services.messenger.fetch(ref.channelId, ref.messageId).catch(() => undefined);
    const att = msg?.attachments.find((a) => (a.content_type ?? '').startsWith('image/') || /\.(png|jpe?g|webp|gif)$/i.test(a.filename));
    if (!att) continue;
    if (att.size > limits.maxBytes) throw new UserError('errors.imageTooLarge', { name: att.filename, size: mib(att.size), max: mib(limits.maxBytes) });
    let bytes: Buffer;
    try {
      bytes = await ctx.services.download(att.url, limits.maxBytes);
    } catch {
      continue;
    }
    const checked = checkImage(bytes, limits);
    if (!checked.ok) throw new UserError(checked.key, { name: att.filename, ...checked.params });
    const { mime, width, height } = checked.info;
    return { name: att.filename, bytes, mime, width, height, dataUrl: toDataUrl(bytes, mime), url: att.url };
  }
  throw new UserError('tools.errors.resultGone');
}

/**
 * A URL Img Open can download the image from (IMAGE_INGRESS_MODE): the fresh Discord attachment URL, or the
 * bot's own short-lived, unguessable URL under PUBLIC_URL.
 */
export function ingressUrl(img: CheckedImage, services: Services): string {
  if (services.config.imageIngress === 'rehost' && services.media) return services.media.put(img.bytes, img.mime);
  return img.url;
}

/**
 * The rectangles' syntax and count, checked before anything is downloaded (`x,y,w,h; …`, at most 50).
 * Bounds are checked later, once the image's size is known.
 */
export function checkRectanglesText(text: string): void {
  if (!text) return;
  const parsed = parseRectangles(text, { max: PICWISH_MAX_RECTANGLES });
  if (!parsed.ok) throw new UserError(parsed.key, parsed.params);
}

/** What to remove from an image: an uploaded mask (white = remove) or typed rectangles — exactly one. */
export async function readRegion(
  image: CheckedImage,
  mask: Attachment | null | undefined,
  rectsText: string,
  ctx: Ctx,
  limits: ImageLimits,
): Promise<{ mask?: Buffer; rects?: Rect[] }> {
  const size = { width: image.width, height: image.height };
  if (mask && rectsText) throw new UserError('tools.errors.maskAndRectangles');
  if (rectsText) {
    const parsed = parseRectangles(rectsText, { max: PICWISH_MAX_RECTANGLES, ...size });
    if (!parsed.ok) throw new UserError(parsed.key, { ...size, ...(parsed.params ?? {}) });
    return { rects: parsed.rects };
  }
  if (!mask) throw new UserError('errors.maskMissing');
  const [m] = await readToolImages([mask], ctx, limits);
  if (!m) throw new UserError('errors.maskMissing');
  return checkedMask(image, m, ctx);
}

/** A mask's bytes from elsewhere than an attachment (the mask editor's submit), checked exactly as an uploaded one. */
export async function toolMask(image: CheckedImage, bytes: Buffer, name: string, ctx: Ctx, limits: ImageLimits): Promise<{ mask: Buffer }> {
  const checked = checkImage(bytes, limits);
  if (!checked.ok) throw new UserError(checked.key, { name, ...(checked.params ?? {}) });
  return checkedMask(image, { bytes, mime: checked.info.mime, width: checked.info.width, height: checked.info.height }, ctx);
}

/** The image's size, then (PNG) decoded off the event loop within the mask budget into a clean black/white mask. */
async function checkedMask(image: CheckedImage, m: Pick<CheckedImage, 'bytes' | 'mime' | 'width' | 'height'>, ctx: Ctx): Promise<{ mask: Buffer }> {
  const size = { width: image.width, height: image.height };
  if (m.width !== image.width || m.height !== image.height) {
    throw new UserError('errors.maskSizeMismatch', { maskWidth: m.width, maskHeight: m.height, ...size });
  }
  if (m.mime !== 'image/png') return { mask: m.bytes }; // JPEG/WebP masks go as they are
  const clean = await ctx.services.masks.normalize(m.bytes, image.width, image.height); // off the event loop, within the mask budget
  if (!clean.ok) throw new UserError(clean.key, { ...size, ...(clean.params ?? {}) });
  return { mask: clean.png };
}

/**
 * A Vary (Region) mask from a file's bytes (an upload, or the mask editor's submit): an image, then decoded off the
 * event loop within the mask budget, at exactly the size given; a PNG data URL as the proxy takes it.
 */
export async function varyRegionMask(bytes: Buffer, name: string, size: { width: number; height: number }, ctx: Ctx): Promise<string> {
  if (!sniffImage(bytes)) throw new UserError('errors.notAnImage', { name });
  // the size (expected and budgeted) is checked from the header first; decoding happens off the event loop
  const mask = await ctx.services.masks.normalize(bytes, size.width, size.height);
  if (!mask.ok) throw new UserError(mask.key, { ...size, ...(mask.params ?? {}) });
  return toDataUrl(mask.png, 'image/png');
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
