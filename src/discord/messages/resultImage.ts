import type { I18n } from '../../i18n/index.js';
import { IMAGE_BUDGETS, overPixelBudget } from '../../images/budgets.js';
import { sniffImage } from '../../images/sniff.js';
import type { Job } from '../../jobs/model.js';
import type { Logger } from '../../log.js';
import type { Messenger } from './messenger.js';
import type { ResultImage } from './renderer.js';

/** Downloads a result image (size-capped); throws an error with `kind: 'too-large'` and `size` past the cap. */
export type ImageFetcher = (url: string, maxBytes: number) => Promise<{ data: Buffer; contentType?: string | undefined; ext: string }>;

/**
 * The bot's result fetcher: a guarded download within the result budget (bytes, deadline), then the type and size
 * read from the bytes; an image over the pixel budget is not re-hosted (the result carries a link instead).
 */
export function resultImageFetcher(download: (url: string, opts: { maxBytes: number; timeoutMs: number }) => Promise<Buffer>): ImageFetcher {
  const budget = IMAGE_BUDGETS.result;
  return async (url, maxBytes) => {
    const data = await download(url, { maxBytes: Math.min(maxBytes, budget.maxBytes), timeoutMs: budget.deadlineMs });
    const info = sniffImage(data);
    if (!info) throw Object.assign(new Error('the upstream result is not an image'), { kind: 'not-image' });
    if (overPixelBudget(info.width, info.height, budget))
      throw Object.assign(new Error(`the upstream result is ${info.width}x${info.height}, over the pixel budget`), { kind: 'too-many-pixels' });
    return { data, contentType: info.mime, ext: info.ext };
  };
}

/** What goes with a result: the image, or a link to it, or a note saying why there is neither. */
export type LoadedImage = { image?: ResultImage; imageLink?: { url: string; bytes: number }; note?: string };

export interface ResultImageDeps {
  fetchImage: ImageFetcher;
  messenger: Messenger;
  i18n: I18n;
  logger: Logger;
}

/** The job's result image, downloaded to be re-uploaded; too large → a link; on a private address → a note only. */
export async function loadResultImage(job: Job, d: ResultImageDeps): Promise<LoadedImage> {
  const url = job.result?.imageUrl;
  if (!url) return {};
  try {
    const img = await d.fetchImage(url, job.attachmentLimit);
    return { image: { name: `${fileSlug(job.prompt)}_${job.id}.${img.ext}`, data: img.data, ...(img.contentType ? { contentType: img.contentType } : {}) } };
  } catch (err) {
    const e = err as { kind?: string; size?: number };
    if (e.kind === 'too-large') return { imageLink: { url, bytes: e.size ?? 0 } };
    if (e.kind === 'blocked-address') {
      // the upstream pointed (or redirected) at a private address: neither fetched nor linked, and the member is told
      d.logger.warn({ err, jobId: job.id }, 'result image is on a private or reserved address: not fetched');
      return { note: d.i18n.t(job.owner.locale, 'result.imageAtPrivateAddress') };
    }
    d.logger.warn({ err, jobId: job.id }, 'result image could not be downloaded; posting the link');
    return { imageLink: { url, bytes: 0 } };
  }
}

/** The image of the bot's own earlier result post, while one still exists (the upstream's URL may have expired). */
export async function imageFromOwnPost(job: Job, d: ResultImageDeps): Promise<{ image: ResultImage } | undefined> {
  for (const ref of job.messages.results) {
    const att = (await d.messenger.fetch(ref.channelId, ref.messageId).catch(() => undefined))?.attachments[0];
    const img = att ? await d.fetchImage(att.url, job.attachmentLimit).catch(() => undefined) : undefined;
    if (att && img) return { image: { name: att.filename, data: img.data, ...(img.contentType ? { contentType: img.contentType } : {}) } };
  }
  return undefined;
}

/** A file name from a prompt: its words without links and parameters (`fallback` when nothing is left). */
export function fileSlug(prompt: string, fallback = 'image'): string {
  const slug = prompt
    .replace(/<?https?:\/\/\S+>?/g, '')
    .toLowerCase()
    .replace(/--\S+(\s+\S+)?/g, '')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 40);
  return slug || fallback;
}
