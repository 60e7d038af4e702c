import type { Attachment } from 'discord.js';
import { IMAGE_BUDGETS } from '../../images/budgets.js';
import { checkImage, toDataUrl } from '../../images/sniff.js';
import type { Ctx } from '../interactions/interactionKit.js';
import { UserError } from '../interactions/interactionKit.js';

export interface CheckedImage {
  name: string;
  bytes: Buffer;
  mime: string;
  width: number;
  height: number;
  dataUrl: string;
  /** the (short-lived) Discord URL, for upstreams that take URLs */
  url: string;
}

/** uploads are sniffed (type and size from the header), never decoded: see IMAGE_BUDGETS.upload */
export const DEFAULT_MAX_IMAGE_BYTES = IMAGE_BUDGETS.upload.maxBytes;

/**
 * Download and check user-supplied images: declared size first (no download of an oversized file),
 * then the real bytes (type by magic bytes, never by name; pixel size). Throws UserError naming the file.
 */
export async function readImages(
  attachments: (Attachment | null | undefined)[],
  ctx: Ctx,
  opts: { maxBytes?: number; maxSide?: number } = {},
): Promise<CheckedImage[]> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_IMAGE_BYTES;
  const list = attachments.filter((a): a is Attachment => Boolean(a));
  for (const a of list) {
    if (a.size > maxBytes) throw new UserError('errors.imageTooLarge', { name: a.name, size: mib(a.size), max: mib(maxBytes) });
  }
  const out: CheckedImage[] = [];
  for (const a of list) {
    let bytes: Buffer;
    try {
      bytes = await ctx.services.download(a.url, maxBytes);
    } catch (err) {
      if ((err as { kind?: string }).kind === 'too-large') throw new UserError('errors.imageTooLarge', { name: a.name, size: mib(a.size), max: mib(maxBytes) });
      throw new UserError('errors.attachmentDownload', { name: a.name });
    }
    const checked = checkImage(bytes, { maxBytes, maxSide: opts.maxSide ?? IMAGE_BUDGETS.upload.maxSide });
    if (!checked.ok) throw new UserError(checked.key, { name: a.name, ...(checked.params ?? {}) });
    out.push({
      name: a.name,
      bytes,
      mime: checked.info.mime,
      width: checked.info.width,
      height: checked.info.height,
      dataUrl: toDataUrl(bytes, checked.info.mime),
      url: a.url,
    });
  }
  return out;
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
