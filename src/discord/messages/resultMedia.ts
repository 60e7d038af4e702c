import type { I18n } from '../../i18n/index.js';
import { IMAGE_BUDGETS, MESSAGE_FILES_MAX, VIDEO_BYTES_IN_FLIGHT } from '../../images/budgets.js';
import type { Job } from '../../jobs/model.js';
import type { Logger } from '../../log.js';
import { formatBytes, type ResultImage } from './renderer.js';
import { fileSlug } from './resultImage.js';

/**
 * A video result's clips as playable MP4 attachments (the four clips of a grid as four files, one clip as one), each
 * clip that cannot be attached as a clearly worded link to the upstream's own (durable) URL, with its thumbnail.
 */

/** Downloads a clip (size-capped: past the cap it throws `kind: 'too-large'` with the declared `size`, before reading the body). */
export type VideoFetcher = (url: string, maxBytes: number) => Promise<Buffer>;

/** The bot's clip fetcher: the guarded download within the video budget (bytes, deadline); the bytes must be an MP4/MOV. */
export function resultVideoFetcher(download: (url: string, opts: { maxBytes: number; timeoutMs: number }) => Promise<Buffer>): VideoFetcher {
  const budget = IMAGE_BUDGETS.video;
  return async (url, maxBytes) => {
    const data = await download(url, { maxBytes: Math.min(maxBytes, budget.maxBytes), timeoutMs: budget.deadlineMs });
    if (!isIsoMedia(data)) throw Object.assign(new Error('the upstream clip is not an MP4'), { kind: 'not-video' });
    return data;
  };
}

/** ISO base media (MP4, MOV): a box header whose type is `ftyp` (or, in old files, `moov`/`mdat`/`free`/`wide`). */
export function isIsoMedia(b: Uint8Array): boolean {
  if (b.length < 12) return false;
  const type = String.fromCharCode(b[4] ?? 0, b[5] ?? 0, b[6] ?? 0, b[7] ?? 0);
  return ['ftyp', 'moov', 'mdat', 'free', 'wide'].includes(type);
}

/**
 * Bytes held at once across the process, FIFO: a taker waits until its bytes fit (a request above the capacity is
 * clamped to it, so it still runs, alone). A permit can shrink once the real size is known, and is released once.
 */
export class ByteGate {
  private used = 0;
  private waiting: { bytes: number; grant: () => void }[] = [];

  constructor(readonly capacity: number) {}

  get inUse(): number {
    return this.used;
  }

  async take(bytes: number): Promise<BytePermit> {
    const want = Math.max(0, Math.min(bytes, this.capacity));
    if (this.waiting.length === 0 && this.used + want <= this.capacity) this.used += want;
    else await new Promise<void>((grant) => this.waiting.push({ bytes: want, grant }));
    let held = want;
    return {
      shrink: (to) => {
        const next = Math.max(0, Math.min(held, to));
        this.free(held - next);
        held = next;
      },
      release: () => {
        this.free(held);
        held = 0;
      },
    };
  }

  private free(bytes: number): void {
    this.used -= bytes;
    for (let next = this.waiting[0]; next && this.used + next.bytes <= this.capacity; next = this.waiting[0]) {
      this.waiting.shift();
      this.used += next.bytes;
      next.grant();
    }
  }
}

export interface BytePermit {
  /** the real need is known: keep only `to` bytes, hand the rest to whoever waits */
  shrink(to: number): void;
  release(): void;
}

/** One clip that is not attached: its link (the upstream's URL) and why. */
export interface ClipLink {
  n: number;
  url: string;
  reason: 'too-large' | 'not-in-one-message' | 'not-attached';
  bytes: number;
}

/** A video result's parts for the renderer, and the permit to give back once posted (which lets go of the files too). */
export interface LoadedVideo {
  files: ResultImage[];
  links: ClipLink[];
  /** the first thumbnail of a clip shown as a link (drawn as the message's image) */
  thumbnailUrl?: string | undefined;
  notes: string[];
  release(): void;
}

export interface ResultVideoDeps {
  fetchVideo: VideoFetcher;
  /** the process's video bytes in flight; one per process */
  videoGate: ByteGate;
  i18n: I18n;
  logger: Logger;
}

/** The process's gate for video bytes (VIDEO_BYTES_IN_FLIGHT). */
export function newVideoGate(): ByteGate {
  return new ByteGate(VIDEO_BYTES_IN_FLIGHT);
}

/**
 * Download a video result's clips to attach them: room for all of them is reserved at once (so two results never
 * hold part of what each needs), each clip capped at what the interaction allows for a file and what is left of one
 * message's 25 MiB, the reservation shrunk to the real sizes once known. A clip above the cap is not downloaded
 * (its declared size is read first) and becomes a link; so does one that could not be fetched.
 */
export async function loadResultVideo(job: Job, d: ResultVideoDeps): Promise<LoadedVideo> {
  const clips = job.result?.video?.clips ?? [];
  const perClip = Math.min(job.attachmentLimit, IMAGE_BUDGETS.video.maxBytes);
  const permit = await d.videoGate.take(Math.min(perClip * clips.length, MESSAGE_FILES_MAX));
  const out: LoadedVideo = {
    files: [],
    links: [],
    notes: [],
    release: () => {
      permit.release();
      out.files = []; // the clips' bytes go with the permit, even while the caller still holds this object
    },
  };
  let room = MESSAGE_FILES_MAX;
  let kept = 0;
  try {
    // one at a time: a clip's cap depends on what the earlier ones left of the message
    for (const [i, clip] of clips.entries()) {
      const n = i + 1;
      const cap = Math.min(perClip, room);
      try {
        const data = await d.fetchVideo(clip.url, cap);
        room -= data.length;
        kept += data.length;
        out.files.push({ name: `${fileSlug(job.prompt, 'video')}_${job.id}_${n}.mp4`, data, contentType: 'video/mp4' });
      } catch (err) {
        const e = err as { kind?: string; size?: number };
        if (e.kind === 'blocked-address') {
          d.logger.warn({ err, jobId: job.id, clip: n }, 'video clip is on a private or reserved address: not fetched');
          out.notes.push(d.i18n.t(job.owner.locale, 'videoResult.atPrivateAddress', { n }));
          continue;
        }
        const size = e.kind === 'too-large' ? (e.size ?? 0) : 0;
        const reason = e.kind !== 'too-large' ? 'not-attached' : size > 0 && size <= perClip ? 'not-in-one-message' : 'too-large';
        if (reason === 'not-attached') d.logger.warn({ err, jobId: job.id, clip: n }, 'video clip could not be downloaded; posting its link');
        out.links.push({ n, url: clip.url, reason, bytes: size });
        out.thumbnailUrl ??= clip.thumbnailUrl;
      }
    }
  } catch (err) {
    permit.release();
    throw err;
  }
  permit.shrink(kept);
  return out;
}

/** The line above a clip's link, in the member's language. */
export function clipLinkText(link: ClipLink, job: Job, i18n: I18n): string {
  const l = job.owner.locale;
  const size = formatBytes(link.bytes);
  const limit = formatBytes(Math.min(job.attachmentLimit, IMAGE_BUDGETS.video.maxBytes));
  // too large with no declared size: the download stopped at the limit, so all we know is "more than that"
  if (link.reason === 'too-large') return i18n.t(l, 'videoResult.tooLarge', { n: link.n, size: link.bytes > 0 ? size : `> ${limit}`, limit });
  if (link.reason === 'not-in-one-message') return i18n.t(l, 'videoResult.notInOneMessage', { n: link.n, size, total: formatBytes(MESSAGE_FILES_MAX) });
  return i18n.t(l, 'videoResult.notAttached', { n: link.n });
}
