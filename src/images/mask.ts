import { inflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { IMAGE_BUDGETS, overPixelBudget, type ImageBudget } from './budgets.js';
import { pngHeader, pngInflatedSize, type PngHeader } from './sniff.js';

/**
 * Inpaint masks (Midjourney's Vary Region, PicWish object removal): white = repaint/remove, black = keep,
 * same pixel size as the image. Users give rectangles as text or upload a mask PNG. Pure.
 */

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

type Params = Record<string, string | number>;

export type RectanglesResult =
  | { ok: true; rects: Rect[] }
  | { ok: false; key: 'errors.rectanglesEmpty' | 'errors.rectanglesTooMany' | 'errors.rectangleMalformed' | 'errors.rectangleOutOfBounds'; params?: Params };

/** `x,y,w,h` — commas (with optional spaces) or plain spaces between the four numbers */
const RECT = /^(\d{1,9})(?:\s*,\s*|\s+)(\d{1,9})(?:\s*,\s*|\s+)(\d{1,9})(?:\s*,\s*|\s+)(\d{1,9})$/;

function clip(text: string, max = 40): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * Parse `x,y,w,h; x,y,w,h …` (`;` or newlines between rectangles, a trailing `;` is fine).
 * Integers; x, y ≥ 0; w, h ≥ 1; at most `max`; inside `width`×`height` when given.
 * Error params: `index` (1-based), `text`, `count`, `max`, `width`, `height`.
 */
export function parseRectangles(text: string, opts: { max?: number; width?: number | undefined; height?: number | undefined } = {}): RectanglesResult {
  const max = opts.max ?? 50;
  const parts = (text ?? '')
    .split(/[;\n\r]+/)
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  if (parts.length === 0) return { ok: false, key: 'errors.rectanglesEmpty' };
  if (parts.length > max) return { ok: false, key: 'errors.rectanglesTooMany', params: { count: parts.length, max } };

  const rects: Rect[] = [];
  for (const [i, part] of parts.entries()) {
    const m = RECT.exec(part);
    const nums = m ? [m[1], m[2], m[3], m[4]].map(Number) : [];
    const [x, y, width, height] = nums;
    if (x === undefined || y === undefined || width === undefined || height === undefined || width < 1 || height < 1) {
      return { ok: false, key: 'errors.rectangleMalformed', params: { index: i + 1, text: clip(part) } };
    }
    const r = { x, y, width, height };
    const W = opts.width;
    const H = opts.height;
    if ((W !== undefined && x + width > W) || (H !== undefined && y + height > H)) {
      return {
        ok: false,
        key: 'errors.rectangleOutOfBounds',
        params: { index: i + 1, text: `${x},${y},${width},${height}`, width: W ?? '?', height: H ?? '?' },
      };
    }
    rects.push(r);
  }
  return { ok: true, rects };
}

function assertSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`invalid mask size ${width}x${height}`);
  }
}

/**
 * Opaque RGBA PNG of exactly width×height: black background, white rectangles (clipped to the image).
 * The size comes from the upstream's report: over the pixel budget it throws (see drawRectanglesMask).
 */
export function rectanglesToMaskPng(rects: readonly Rect[], width: number, height: number, budget: ImageBudget = IMAGE_BUDGETS.rectangleMask): Buffer {
  assertSize(width, height);
  if (overPixelBudget(width, height, budget)) throw new RangeError(`mask size ${width}x${height} is over the ${budget.maxPixels}-pixel budget`);
  const png = new PNG({ width, height });
  const d = png.data;
  for (let i = 0; i < d.length; i += 4) {
    d[i] = 0;
    d[i + 1] = 0;
    d[i + 2] = 0;
    d[i + 3] = 255;
  }
  for (const r of rects) {
    const x0 = Math.max(0, Math.floor(r.x));
    const y0 = Math.max(0, Math.floor(r.y));
    const x1 = Math.min(width, Math.floor(r.x + r.width));
    const y1 = Math.min(height, Math.floor(r.y + r.height));
    for (let y = y0; y < y1; y++) {
      const row = y * width;
      d.fill(255, (row + x0) * 4, (row + Math.max(x0, x1)) * 4);
    }
  }
  return PNG.sync.write(png, { colorType: 6 });
}

/** Why a mask was refused (or could not be made): a message key for the member. */
export type MaskRefusalKey =
  | 'errors.maskNotPng'
  | 'errors.maskSizeMismatch'
  | 'errors.maskEmpty'
  | 'errors.hostileImage.tooManyBytes'
  | 'errors.hostileImage.tooManyPixels'
  | 'errors.hostileImage.inflatesTooMuch'
  | 'errors.hostileImage.tooSlow'
  | 'errors.hostileImage.busy'
  | 'errors.hostileImage.unavailable';

export type MaskRefusal = { ok: false; key: MaskRefusalKey; params?: Params };
export type MaskResult = { ok: true; png: Buffer } | MaskRefusal;

/** The same rectangles mask, or a refusal when the image is over the pixel budget. */
export function drawRectanglesMask(rects: readonly Rect[], width: number, height: number, budget: ImageBudget = IMAGE_BUDGETS.rectangleMask): MaskResult {
  assertSize(width, height);
  if (overPixelBudget(width, height, budget))
    return { ok: false, key: 'errors.hostileImage.tooManyPixels', params: { width, height, maxSide: budget.maxSide } };
  return { ok: true, png: rectanglesToMaskPng(rects, width, height, budget) };
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/**
 * What can be known without decoding: a PNG, within the byte budget, of exactly the expected size, and that size
 * within the pixel budget. Cheap (the header only), so it runs before any decoding, wherever that happens.
 */
export function checkMaskHeader(
  bytes: Uint8Array,
  width: number,
  height: number,
  budget: ImageBudget = IMAGE_BUDGETS.mask,
): { ok: true; header: PngHeader } | MaskRefusal {
  assertSize(width, height);
  if (bytes.byteLength > budget.maxBytes)
    return { ok: false, key: 'errors.hostileImage.tooManyBytes', params: { size: mib(bytes.byteLength), max: mib(budget.maxBytes) } };
  const header = pngHeader(bytes);
  if (!header) return { ok: false, key: 'errors.maskNotPng' };
  if (header.width !== width || header.height !== height) {
    return { ok: false, key: 'errors.maskSizeMismatch', params: { maskWidth: header.width, maskHeight: header.height, width, height } };
  }
  if (overPixelBudget(width, height, budget))
    return { ok: false, key: 'errors.hostileImage.tooManyPixels', params: { width, height, maxSide: budget.maxSide } };
  return { ok: true, header };
}

/** The concatenated IDAT data, or null when the chunk structure is broken. */
function idatData(b: Buffer): Buffer | null {
  const parts: Buffer[] = [];
  let o = 8;
  while (o + 12 <= b.length) {
    const len = b.readUInt32BE(o);
    const type = b.toString('latin1', o + 4, o + 8);
    if (o + 12 + len > b.length) return null;
    if (type === 'IDAT') parts.push(b.subarray(o + 8, o + 8 + len));
    if (type === 'IEND') break;
    o += 12 + len;
  }
  return parts.length > 0 ? Buffer.concat(parts) : null;
}

/**
 * Does the image data inflate to no more than an honest image of this header needs? Inflated with that as the
 * output cap, so a decompression bomb stops at the cap (interlaced or not) instead of filling memory.
 */
function inflatesWithin(b: Buffer, header: PngHeader): 'ok' | 'too-much' | 'broken' {
  const idat = idatData(b);
  if (!idat) return 'broken';
  try {
    inflateSync(idat, { maxOutputLength: pngInflatedSize(header) });
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' ? 'too-much' : 'broken';
  }
}

/**
 * An uploaded mask → a clean black/white opaque PNG. Must be a PNG of exactly width×height, within the budget;
 * the header and the inflated size are checked before pngjs decodes anything. CPU-heavy for large masks: the bot
 * runs it in a worker (maskWork.ts). White where luminance > 127 and alpha > 0, black elsewhere; an all-black
 * mask is refused. Error params: `maskWidth`, `maskHeight` and the expected `width`, `height`.
 */
export function normalizeMask(bytes: Uint8Array, width: number, height: number, budget: ImageBudget = IMAGE_BUDGETS.mask): MaskResult {
  const checked = checkMaskHeader(bytes, width, height, budget);
  if (!checked.ok) return checked;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const inflated = inflatesWithin(buf, checked.header);
  if (inflated === 'too-much') return { ok: false, key: 'errors.hostileImage.inflatesTooMuch', params: { width, height } };
  if (inflated === 'broken') return { ok: false, key: 'errors.maskNotPng' };
  let img: PNG;
  try {
    img = PNG.sync.read(buf);
  } catch {
    return { ok: false, key: 'errors.maskNotPng' };
  }
  if (img.width !== width || img.height !== height) {
    return { ok: false, key: 'errors.maskSizeMismatch', params: { maskWidth: img.width, maskHeight: img.height, width, height } };
  }
  const out = new PNG({ width, height });
  const s = img.data;
  const d = out.data;
  let white = 0;
  for (let i = 0; i < d.length; i += 4) {
    const lum = 0.299 * (s[i] ?? 0) + 0.587 * (s[i + 1] ?? 0) + 0.114 * (s[i + 2] ?? 0);
    const v = lum > 127 && (s[i + 3] ?? 0) > 0 ? 255 : 0;
    if (v) white++;
    d[i] = v;
    d[i + 1] = v;
    d[i + 2] = v;
    d[i + 3] = 255;
  }
  if (white === 0) return { ok: false, key: 'errors.maskEmpty' };
  return { ok: true, png: PNG.sync.write(out, { colorType: 6 }) };
}
