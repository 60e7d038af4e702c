/**
 * Image type and pixel size from the bytes alone (magic numbers and headers; never the file name). Pure.
 */

export type ImageMime = 'image/png' | 'image/jpeg' | 'image/webp' | 'image/gif';
export type ImageExt = 'png' | 'jpg' | 'webp' | 'gif';

export interface ImageInfo {
  mime: ImageMime;
  ext: ImageExt;
  width: number;
  height: number;
}

const u16be = (b: Uint8Array, o: number) => ((b[o] ?? 0) << 8) | (b[o + 1] ?? 0);
const u16le = (b: Uint8Array, o: number) => (b[o] ?? 0) | ((b[o + 1] ?? 0) << 8);
const u24le = (b: Uint8Array, o: number) => (b[o] ?? 0) | ((b[o + 1] ?? 0) << 8) | ((b[o + 2] ?? 0) << 16);
const u32be = (b: Uint8Array, o: number) => (((b[o] ?? 0) << 24) | ((b[o + 1] ?? 0) << 16) | ((b[o + 2] ?? 0) << 8) | (b[o + 3] ?? 0)) >>> 0;

function startsWith(b: Uint8Array, sig: readonly number[], at = 0): boolean {
  if (b.length < at + sig.length) return false;
  return sig.every((v, i) => b[at + i] === v);
}

function ascii(b: Uint8Array, at: number, len: number): string {
  let s = '';
  for (let i = at; i < at + len && i < b.length; i++) s += String.fromCharCode(b[i] ?? 0);
  return s;
}

const PNG_SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;

function png(b: Uint8Array): ImageInfo | null {
  // signature, then the IHDR chunk: length(4) "IHDR" width(4) height(4)
  if (b.length < 24 || ascii(b, 12, 4) !== 'IHDR') return null;
  return { mime: 'image/png', ext: 'png', width: u32be(b, 16), height: u32be(b, 20) };
}

/** A PNG's IHDR: what decoding it would cost, read before any decoding. */
export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlaced: boolean;
}

const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const PNG_DEPTHS: Record<number, readonly number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

/** The IHDR of a PNG (signature, then IHDR first, 13 bytes, a valid type/depth), or null. */
export function pngHeader(b: Uint8Array): PngHeader | null {
  if (!startsWith(b, PNG_SIG) || b.length < 33 || u32be(b, 8) !== 13 || ascii(b, 12, 4) !== 'IHDR') return null;
  const [bitDepth = 0, colorType = 0, compression, filter, interlace] = [b[24], b[25], b[26], b[27], b[28]];
  if (!PNG_DEPTHS[colorType]?.includes(bitDepth) || compression !== 0 || filter !== 0 || (interlace !== 0 && interlace !== 1)) return null;
  const width = u32be(b, 16);
  const height = u32be(b, 20);
  if (width < 1 || height < 1) return null;
  return { width, height, bitDepth, colorType, interlaced: interlace === 1 };
}

const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/** Bytes the image data of this PNG inflates to when honest: every scanline with its filter byte (per Adam7 pass if interlaced). */
export function pngInflatedSize(h: PngHeader): number {
  const bits = h.bitDepth * (PNG_CHANNELS[h.colorType] ?? 4);
  const passes = h.interlaced ? ADAM7 : ([[0, 0, 1, 1]] as const);
  let total = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const w = Math.ceil((h.width - x0) / dx);
    const rows = Math.ceil((h.height - y0) / dy);
    if (w > 0 && rows > 0) total += rows * (1 + Math.ceil((w * bits) / 8));
  }
  return total;
}

function gif(b: Uint8Array): ImageInfo | null {
  if (b.length < 10) return null;
  return { mime: 'image/gif', ext: 'gif', width: u16le(b, 6), height: u16le(b, 8) };
}

/** Walk the JPEG marker segments up to the first SOFn frame header. */
function jpeg(b: Uint8Array): ImageInfo | null {
  let o = 2;
  while (o + 4 <= b.length) {
    if (b[o] !== 0xff) return null; // lost sync: not a well-formed JPEG header
    let marker = b[o + 1] ?? 0;
    while (marker === 0xff && o + 2 < b.length) marker = b[++o + 1] ?? 0; // fill bytes
    o += 2;
    // markers without a length: TEM, RST0–7, SOI
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) continue;
    if (marker === 0xd9 || marker === 0xda) return null; // EOI / start of scan before any frame header
    const len = u16be(b, o);
    if (len < 2) return null;
    // SOF0–SOF15 except DHT (C4), JPG (C8), DAC (CC): length(2) precision(1) height(2) width(2)
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (o + 7 > b.length) return null;
      return { mime: 'image/jpeg', ext: 'jpg', width: u16be(b, o + 5), height: u16be(b, o + 3) };
    }
    o += len;
  }
  return null;
}

function webp(b: Uint8Array): ImageInfo | null {
  const chunk = ascii(b, 12, 4);
  const base = { mime: 'image/webp', ext: 'webp' } as const;
  if (chunk === 'VP8X') {
    if (b.length < 30) return null;
    return { ...base, width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 };
  }
  if (chunk === 'VP8L') {
    if (b.length < 25 || b[20] !== 0x2f) return null;
    const b1 = b[21] ?? 0;
    const b2 = b[22] ?? 0;
    const b3 = b[23] ?? 0;
    const b4 = b[24] ?? 0;
    const width = 1 + (((b2 & 0x3f) << 8) | b1);
    const height = 1 + (((b4 & 0x0f) << 10) | (b3 << 2) | ((b2 & 0xc0) >> 6));
    return { ...base, width, height };
  }
  if (chunk === 'VP8 ') {
    // frame tag (3) then the key-frame start code 9d 01 2a, then 14-bit width and height
    if (b.length < 30 || !startsWith(b, [0x9d, 0x01, 0x2a], 23)) return null;
    return { ...base, width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
  }
  return null;
}

/** Type and dimensions, or null when the bytes are not a PNG/JPEG/WebP/GIF whose size can be read. */
export function sniffImage(bytes: Uint8Array): ImageInfo | null {
  const b = bytes;
  let info: ImageInfo | null = null;
  if (startsWith(b, PNG_SIG)) info = png(b);
  else if (startsWith(b, [0xff, 0xd8, 0xff])) info = jpeg(b);
  else if (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a') info = gif(b);
  else if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') info = webp(b);
  if (!info || info.width < 1 || info.height < 1) return null;
  return info;
}

const EXT_OF: Record<ImageMime, ImageExt> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'image/gif': 'gif' };

export interface CheckImageOptions {
  maxBytes: number;
  /** longest allowed side in pixels (default 4096) */
  maxSide?: number | undefined;
  /** shortest allowed side in pixels (default 1) */
  minSide?: number | undefined;
  /** allowed types, as extensions or MIME types; default all four */
  allowed?: readonly (ImageExt | ImageMime)[] | undefined;
}

export type ImageCheck =
  | { ok: true; info: ImageInfo }
  | {
      ok: false;
      key: 'errors.notAnImage' | 'errors.imageTooLarge' | 'errors.imageTooBig' | 'errors.imageTooSmall' | 'errors.imageTypeNotAllowed';
      params: Record<string, string | number>;
    };

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/**
 * Is this an image the bot accepts? Checked in order: type (magic bytes), allowed types, byte size
 * (imageTooLarge), longest side (imageTooBig), shortest side (imageTooSmall).
 */
export function checkImage(bytes: Uint8Array, opts: CheckImageOptions): ImageCheck {
  const maxSide = opts.maxSide ?? 4096;
  const minSide = opts.minSide ?? 1;
  const info = sniffImage(bytes);
  if (!info) return { ok: false, key: 'errors.notAnImage', params: {} };
  if (opts.allowed && !opts.allowed.some((a) => a === info.ext || a === info.mime)) {
    const allowed = [...new Set(opts.allowed.map((a) => (a.includes('/') ? EXT_OF[a as ImageMime] : a)))].join(', ');
    return { ok: false, key: 'errors.imageTypeNotAllowed', params: { type: info.ext, allowed } };
  }
  if (bytes.byteLength > opts.maxBytes) {
    return {
      ok: false,
      key: 'errors.imageTooLarge',
      params: { size: mib(bytes.byteLength), max: mib(opts.maxBytes), bytes: bytes.byteLength, maxBytes: opts.maxBytes },
    };
  }
  const dims = { width: info.width, height: info.height };
  if (Math.max(info.width, info.height) > maxSide) return { ok: false, key: 'errors.imageTooBig', params: { ...dims, max: maxSide } };
  if (Math.min(info.width, info.height) < minSide) return { ok: false, key: 'errors.imageTooSmall', params: { ...dims, min: minSide } };
  return { ok: true, info };
}

/** `data:<mime>;base64,<bytes>` */
export function toDataUrl(bytes: Uint8Array, mime: ImageMime | string): string {
  return `data:${mime};base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`;
}
