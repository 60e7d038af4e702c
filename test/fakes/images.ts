// Real image bytes for tests. Every builder returns a Buffer holding a valid file of the given
// format and pixel size; `imageInfo()` reads the format and size back (used by the fakes).
import { randomFillSync } from 'node:crypto';
import zlib from 'node:zlib';
import { PNG } from 'pngjs';

export type Rgba = readonly [number, number, number, number?];

export interface PngOptions {
  /** solid fill; `#rrggbb`, `#rrggbbaa` or an RGBA tuple. Wins over `seed`. */
  color?: string | Rgba;
  /** deterministic pattern seed (same seed → same bytes); default 1 */
  seed?: number;
}

/** A tiny deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function parseColor(color: string | Rgba): [number, number, number, number] {
  if (typeof color !== 'string') return [color[0], color[1], color[2], color[3] ?? 255];
  const m = /^#?([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(color.trim());
  if (!m || !m[1]) throw new Error(`bad color ${color}`);
  const n = parseInt(m[1], 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255, m[2] ? parseInt(m[2], 16) : 255];
}

function checkSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > 16384 || height > 16384) {
    throw new Error(`bad image size ${width}x${height}`);
  }
}

/** A valid RGBA PNG: a solid colour, or a seeded gradient with a 2×2 tile tint (looks like a grid). */
export function makePng(width: number, height: number, opts: PngOptions = {}): Buffer {
  checkSize(width, height);
  const png = new PNG({ width, height });
  const data = png.data;
  if (opts.color !== undefined) {
    const [r, g, b, a] = parseColor(opts.color);
    for (let i = 0; i < data.length; i += 4) {
      data[i] = r;
      data[i + 1] = g;
      data[i + 2] = b;
      data[i + 3] = a;
    }
  } else {
    const rnd = prng(opts.seed ?? 1);
    const tints: [number, number, number][] = [0, 1, 2, 3].map(() => [rnd() * 255, rnd() * 255, rnd() * 255]);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const tile = (y * 2 >= height ? 2 : 0) + (x * 2 >= width ? 1 : 0);
        const t = tints[tile] ?? [0, 0, 0];
        const i = (y * width + x) * 4;
        data[i] = (t[0] + (x * 255) / width) / 2;
        data[i + 1] = (t[1] + (y * 255) / height) / 2;
        data[i + 2] = t[2];
        data[i + 3] = 255;
      }
    }
  }
  return PNG.sync.write(png);
}

/**
 * A PNG larger than `minBytes` (e.g. over a 10 MiB upload limit): random RGB pixels stored with
 * deflate level 0, so the file cannot shrink below the raw pixel size.
 */
export function bigPng(minBytes = 10 * 1024 * 1024 + 1): Buffer {
  let side = Math.ceil(Math.sqrt(minBytes / 3)) + 8;
  for (let attempt = 0; attempt < 5; attempt++) {
    const png = new PNG({ width: side, height: side });
    randomFillSync(png.data);
    const out = PNG.sync.write(png, { colorType: 2, deflateLevel: 0, filterType: 0 });
    if (out.length > minBytes) return out;
    side = Math.ceil(side * 1.1);
  }
  throw new Error(`could not build a PNG over ${minBytes} bytes`);
}

/** Bit writer, most-significant bit first (JPEG entropy data). */
function msbBits(): { put(bits: number, n: number): void; bytes(): Buffer } {
  const out: number[] = [];
  let cur = 0;
  let used = 0;
  return {
    put(bits, n) {
      for (let i = n - 1; i >= 0; i--) {
        cur = (cur << 1) | ((bits >> i) & 1);
        used++;
        if (used === 8) {
          out.push(cur);
          if (cur === 0xff) out.push(0x00); // byte stuffing
          cur = 0;
          used = 0;
        }
      }
    },
    bytes() {
      if (used > 0) {
        const last = (cur << (8 - used)) | ((1 << (8 - used)) - 1); // pad with 1-bits
        out.push(last);
        if (last === 0xff) out.push(0x00);
      }
      return Buffer.from(out);
    },
  };
}

function segment(marker: number, payload: number[] | Buffer): Buffer {
  const body = Buffer.from(payload);
  const head = Buffer.alloc(4);
  head[0] = 0xff;
  head[1] = marker;
  head.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([head, body]);
}

/**
 * A valid baseline (SOF0) greyscale JPEG of a uniform mid-grey, any size. Decodable by real
 * decoders: one Huffman code per table (DC "difference 0", AC "end of block"), so every 8×8 block
 * is two bits.
 */
export function makeJpeg(width = 8, height = 8): Buffer {
  checkSize(width, height);
  const soi = Buffer.from([0xff, 0xd8]);
  const app0 = segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0x00, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  const dqt = segment(0xdb, [0x00, ...new Array<number>(64).fill(1)]);
  const sof0 = segment(0xc0, [8, (height >> 8) & 255, height & 255, (width >> 8) & 255, width & 255, 1, 1, 0x11, 0]);
  // DC table 0: one code of length 1 → symbol 0 (category 0). AC table 0: one code of length 1 → 0x00 (EOB).
  const counts = [1, ...new Array<number>(15).fill(0)];
  const dhtDc = segment(0xc4, [0x00, ...counts, 0x00]);
  const dhtAc = segment(0xc4, [0x10, ...counts, 0x00]);
  const sos = segment(0xda, [1, 1, 0x00, 0, 63, 0]);
  const bits = msbBits();
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  for (let i = 0; i < blocks; i++) bits.put(0b00, 2);
  const eoi = Buffer.from([0xff, 0xd9]);
  return Buffer.concat([soi, app0, dqt, sof0, dhtDc, dhtAc, sos, bits.bytes(), eoi]);
}

/** Bit writer, least-significant bit first (VP8L, GIF LZW). */
function lsbBits(): { put(value: number, n: number): void; bytes(): Buffer } {
  const out: number[] = [];
  let cur = 0;
  let used = 0;
  return {
    put(value, n) {
      for (let i = 0; i < n; i++) {
        cur |= ((value >> i) & 1) << used;
        used++;
        if (used === 8) {
          out.push(cur);
          cur = 0;
          used = 0;
        }
      }
    },
    bytes() {
      if (used > 0) out.push(cur);
      return Buffer.from(out);
    },
  };
}

/**
 * A valid lossless WebP (RIFF/WEBP/VP8L) of one solid colour, any size up to 16384². Every prefix
 * code is a one-symbol "simple code", so pixels take zero bits.
 */
export function makeWebp(width: number, height: number, color: string | Rgba = '#3366cc'): Buffer {
  checkSize(width, height);
  const [r, g, b, a] = parseColor(color);
  const w = lsbBits();
  w.put(width - 1, 14);
  w.put(height - 1, 14);
  w.put(a < 255 ? 1 : 0, 1); // alpha_is_used
  w.put(0, 3); // version
  w.put(0, 1); // no transform
  w.put(0, 1); // no colour cache
  w.put(0, 1); // no meta prefix codes
  const simple = (symbol: number): void => {
    w.put(1, 1); // simple code
    w.put(0, 1); // one symbol
    w.put(1, 1); // 8-bit symbol
    w.put(symbol, 8);
  };
  simple(g);
  simple(r);
  simple(b);
  simple(a);
  simple(0); // distance code
  const vp8l = Buffer.concat([Buffer.from([0x2f]), w.bytes()]);
  const pad = vp8l.length % 2 === 1 ? Buffer.from([0]) : Buffer.alloc(0);
  const chunkHead = Buffer.alloc(8);
  chunkHead.write('VP8L', 0, 'ascii');
  chunkHead.writeUInt32LE(vp8l.length, 4);
  const riffBody = Buffer.concat([Buffer.from('WEBP', 'ascii'), chunkHead, vp8l, pad]);
  const riffHead = Buffer.alloc(8);
  riffHead.write('RIFF', 0, 'ascii');
  riffHead.writeUInt32LE(riffBody.length, 4);
  return Buffer.concat([riffHead, riffBody]);
}

/**
 * A valid GIF89a of one solid colour. The LZW stream sends a clear code before every two pixels,
 * so the code size stays at 3 bits and any decoder reads it.
 */
export function makeGif(width = 1, height = 1, color: string | Rgba = '#cc3333'): Buffer {
  checkSize(width, height);
  const [r, g, b] = parseColor(color);
  const head = Buffer.alloc(13);
  head.write('GIF89a', 0, 'ascii');
  head.writeUInt16LE(width, 6);
  head.writeUInt16LE(height, 8);
  head[10] = 0x80; // global colour table, 2 entries
  const palette = Buffer.from([r, g, b, 0, 0, 0]);
  const desc = Buffer.alloc(10);
  desc[0] = 0x2c;
  desc.writeUInt16LE(width, 5);
  desc.writeUInt16LE(height, 7);
  const CLEAR = 4;
  const EOI = 5;
  const lzw = lsbBits();
  const pixels = width * height;
  for (let i = 0; i < pixels; i += 2) {
    lzw.put(CLEAR, 3);
    lzw.put(0, 3);
    if (i + 1 < pixels) lzw.put(0, 3);
  }
  lzw.put(EOI, 3);
  const data = lzw.bytes();
  const blocks: Buffer[] = [Buffer.from([2])]; // LZW minimum code size
  for (let off = 0; off < data.length; off += 255) {
    const part = data.subarray(off, off + 255);
    blocks.push(Buffer.from([part.length]), part);
  }
  blocks.push(Buffer.from([0]));
  return Buffer.concat([head, palette, desc, ...blocks, Buffer.from([0x3b])]);
}

export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'gif';

export interface ImageInfo {
  format: ImageFormat;
  mime: string;
  width: number;
  height: number;
}

const PNG_SIG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Format and pixel size from the header bytes; undefined when the bytes are not a recognised image. */
export function imageInfo(buf: Uint8Array): ImageInfo | undefined {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length >= 24 && b.subarray(0, 8).equals(PNG_SIG) && b.toString('ascii', 12, 16) === 'IHDR') {
    return { format: 'png', mime: 'image/png', width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
  }
  if (b.length >= 10 && b.toString('ascii', 0, 4) === 'GIF8') {
    return { format: 'gif', mime: 'image/gif', width: b.readUInt16LE(6), height: b.readUInt16LE(8) };
  }
  if (b.length >= 30 && b.toString('ascii', 0, 4) === 'RIFF' && b.toString('ascii', 8, 12) === 'WEBP') {
    const kind = b.toString('ascii', 12, 16);
    if (kind === 'VP8L' && b[20] === 0x2f) {
      const bits = b.readUInt32LE(21);
      return { format: 'webp', mime: 'image/webp', width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
    }
    if (kind === 'VP8 ') {
      return { format: 'webp', mime: 'image/webp', width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff };
    }
    if (kind === 'VP8X') {
      return { format: 'webp', mime: 'image/webp', width: b.readUIntLE(24, 3) + 1, height: b.readUIntLE(27, 3) + 1 };
    }
    return undefined;
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) {
    let off = 2;
    for (let guard = 0; guard < 1000 && off + 4 <= b.length; guard++) {
      if (b[off] !== 0xff) return undefined;
      const marker = b[off + 1] ?? 0;
      if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
        off += 2;
        continue;
      }
      const len = b.readUInt16BE(off + 2);
      const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
      if (isSof && off + 9 <= b.length) {
        return { format: 'jpeg', mime: 'image/jpeg', width: b.readUInt16BE(off + 7), height: b.readUInt16BE(off + 5) };
      }
      if (marker === 0xda || marker === 0xd9) return undefined;
      off += 2 + len;
    }
  }
  return undefined;
}

/** `data:<mime>;base64,<bytes>` */
export function toDataUrl(bytes: Uint8Array, mime?: string): string {
  const m = mime ?? imageInfo(bytes)?.mime ?? 'application/octet-stream';
  return `data:${m};base64,${Buffer.from(bytes).toString('base64')}`;
}

// ---- hostile PNGs (decoding budgets) ----------------------------------------------------------

const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** Scanline bytes (filter byte included) of a 1-bit greyscale image, per pass when interlaced. */
function bilevelScanlines(width: number, height: number, interlaced: boolean, white: boolean): Buffer {
  const rows: Buffer[] = [];
  const passes = interlaced ? ADAM7 : ([[0, 0, 1, 1]] as const);
  for (const [x0, y0, dx, dy] of passes) {
    const pw = Math.ceil((width - x0) / dx);
    const ph = Math.ceil((height - y0) / dy);
    if (pw <= 0 || ph <= 0) continue;
    const row = Buffer.alloc(1 + Math.ceil(pw / 8), white ? 0xff : 0);
    row[0] = 0; // filter: none
    for (let y = 0; y < ph; y++) rows.push(row);
  }
  return Buffer.concat(rows);
}

/** A zlib stream of `data` followed by `zeros` zero bytes, made in segments so a huge tail costs little to build. */
function zlibWithZeroTail(data: Buffer, zeros: number): Buffer {
  const flush = { level: 9, finishFlush: zlib.constants.Z_FULL_FLUSH };
  const parts: Buffer[] = [Buffer.from([0x78, 0xda]), zlib.deflateRawSync(data, flush)];
  const SEG = 16 * 1024 * 1024;
  const whole = zlib.deflateRawSync(Buffer.alloc(Math.min(SEG, zeros)), flush);
  for (let left = zeros; left > 0; left -= SEG) parts.push(left >= SEG ? whole : zlib.deflateRawSync(Buffer.alloc(left), flush));
  parts.push(zlib.deflateRawSync(Buffer.alloc(0))); // the final (empty) block
  // Adler-32 of data then the zeros: zeros leave `a` as it is and add `a` to `b` once per byte
  let a = 1;
  let b = 0;
  for (const byte of data) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  b = (b + ((a * (zeros % 65521)) % 65521)) % 65521;
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE(((b << 16) | a) >>> 0, 0);
  return Buffer.concat([...parts, adler]);
}

export interface BilevelPngOptions {
  /** Adam7 interlacing */
  interlaced?: boolean;
  /** white pixels (a mask that covers everything); default black */
  white?: boolean;
  /** zero bytes appended to the image data inside IDAT: the file inflates to that much more than the image needs */
  extraInflatedBytes?: number;
}

/**
 * A 1-bit greyscale PNG of any size, written by hand (pngjs cannot write 1-bit files). Tiny on disk and huge
 * once decoded: 12000×12000 is about 17.5 KB. With `extraInflatedBytes` it is a decompression bomb whose
 * header and pixels are honest (a 512×512 interlaced one inflating to 512 MB is about 510 KB).
 */
export function bilevelPng(width: number, height: number, opts: BilevelPngOptions = {}): Buffer {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new Error(`bad image size ${width}x${height}`);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  ihdr[12] = opts.interlaced ? 1 : 0;
  const scanlines = bilevelScanlines(width, height, opts.interlaced ?? false, opts.white ?? false);
  const idat = zlibWithZeroTail(scanlines, opts.extraInflatedBytes ?? 0);
  return Buffer.concat([PNG_SIG, pngChunk('IHDR', ihdr), pngChunk('IDAT', idat), pngChunk('IEND', Buffer.alloc(0))]);
}
