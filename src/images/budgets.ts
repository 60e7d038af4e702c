/**
 * What the bot will spend on one image, in one place: bytes read, pixels held, and how long the work may take.
 * Uploads and result images are only read by their headers (never decoded), so their pixel budget is checked on
 * the sniffed size; masks are decoded and re-encoded, off the event loop (see maskWork.ts), within theirs.
 */

export interface ImageBudget {
  /** bytes of the file */
  maxBytes: number;
  /** width × height */
  maxPixels: number;
  /** longest side, for messages (maxPixels is what is enforced) */
  maxSide: number;
  /** the download, or the decode, must be done by then (ms) */
  deadlineMs: number;
}

const MiB = 1024 * 1024;
const SIDE = 4096;

export const IMAGE_BUDGETS = {
  /** a member's upload (/imagine, /blend, /describe, /faceswap, /inpaint, /tools): sniffed, passed on as is */
  upload: { maxBytes: 10 * MiB, maxPixels: SIDE * SIDE, maxSide: SIDE, deadlineMs: 30_000 },
  /** a mask PNG decoded and re-encoded black/white (Vary (Region), /inpaint, Inpaint again) */
  mask: { maxBytes: 10 * MiB, maxPixels: SIDE * SIDE, maxSide: SIDE, deadlineMs: 15_000 },
  /** a mask drawn from typed rectangles, at the size the upstream reported for its image */
  rectangleMask: { maxBytes: 10 * MiB, maxPixels: SIDE * SIDE, maxSide: SIDE, deadlineMs: 15_000 },
  /** a result image fetched from an upstream and re-uploaded to Discord (never above the interaction's own limit) */
  result: { maxBytes: 25 * MiB, maxPixels: 2 * 8192 * 8192, maxSide: 16_384, deadlineMs: 60_000 },
  /**
   * a video clip (MP4) fetched from the upstream and re-uploaded as is (never above the interaction's own limit): it is
   * never decoded, so only its bytes and deadline apply; its pixels are not read (the row's pixel figures are not checked)
   */
  video: { maxBytes: 25 * MiB, maxPixels: 7680 * 4320, maxSide: 7680, deadlineMs: 120_000 },
} as const satisfies Record<string, ImageBudget>;

/**
 * Video bytes the whole process holds at once (downloaded clips waiting to be posted). @discordjs/rest takes a file
 * only as a Buffer (and copies it into a Blob for the form), so a clip cannot be streamed through: instead a result
 * reserves room for its clips before downloading and keeps it until posted; others wait their turn.
 */
export const VIDEO_BYTES_IN_FLIGHT = 32 * MiB;

/** Files of one message: Discord refuses a request above 25 MiB (files and JSON together). */
export const MESSAGE_FILES_MAX = 24 * MiB;

/** Decodes (masks) run one at a time; this many more may wait before new ones are turned away. */
export const MAX_QUEUED_DECODES = 16;

/** A decode worker's own JavaScript heap (pixel buffers live outside it and are bounded by maxPixels). */
export const DECODE_WORKER_HEAP_MB = 96;

/** Over budget? (the pixel count is what costs memory and time; the side is what the message names) */
export function overPixelBudget(width: number, height: number, budget: ImageBudget): boolean {
  return width * height > budget.maxPixels;
}
