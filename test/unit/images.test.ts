import { imageSize } from 'image-size';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { normalizeMask, parseRectangles, rectanglesToMaskPng, type Rect } from '../../src/images/mask.js';
import { checkImage, sniffImage, toDataUrl } from '../../src/images/sniff.js';

// ---- hand-made images with real headers -------------------------------------------------------

type Rgba = [number, number, number, number];

function png(width: number, height: number, paint: (x: number, y: number) => Rgba = () => [0, 0, 0, 255]): Buffer {
  const p = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const [r, g, b, a] = paint(x, y);
      p.data[i] = r;
      p.data[i + 1] = g;
      p.data[i + 2] = b;
      p.data[i + 3] = a;
    }
  }
  return PNG.sync.write(p);
}

const be16 = (n: number) => [(n >> 8) & 0xff, n & 0xff];
const le16 = (n: number) => [n & 0xff, (n >> 8) & 0xff];
const le24 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff];
const le32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
const bytesOf = (s: string) => [...s].map((c) => c.charCodeAt(0));

/** SOI, APP0 JFIF, [APP1 Exif], DQT, SOFn, DHT, SOS, EOI. */
function jpeg(width: number, height: number, opts: { sof?: number; exif?: boolean; fill?: boolean } = {}): Uint8Array {
  const seg = (marker: number, body: number[]) => [0xff, marker, ...be16(body.length + 2), ...body];
  const out = [0xff, 0xd8];
  out.push(...seg(0xe0, [...bytesOf('JFIF'), 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]));
  if (opts.exif) out.push(...seg(0xe1, [...bytesOf('Exif'), 0, 0, ...new Array(40).fill(0x11)]));
  out.push(...seg(0xdb, [0, ...new Array(64).fill(1)]));
  if (opts.fill) out.push(0xff, 0xff); // fill bytes before a marker are legal
  out.push(...seg(opts.sof ?? 0xc0, [8, ...be16(height), ...be16(width), 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]));
  out.push(...seg(0xc4, [0, ...new Array(16).fill(0), 0]));
  out.push(...seg(0xda, [3, 1, 0, 2, 0x11, 3, 0x11, 0, 0x3f, 0]));
  out.push(0x12, 0x34, 0xff, 0xd9);
  return Uint8Array.from(out);
}

function gif(width: number, height: number, version: '87a' | '89a' = '89a'): Uint8Array {
  return Uint8Array.from([
    ...bytesOf(`GIF${version}`),
    ...le16(width),
    ...le16(height),
    0x80,
    0,
    0, // screen descriptor + 2-colour table
    0,
    0,
    0,
    0xff,
    0xff,
    0xff,
    0x2c,
    0,
    0,
    0,
    0,
    ...le16(width),
    ...le16(height),
    0, // image descriptor
    2,
    2,
    0x44,
    0x01,
    0, // LZW data
    0x3b,
  ]);
}

function riff(chunk: string, payload: number[]): Uint8Array {
  const body = [...bytesOf('WEBP'), ...bytesOf(chunk), ...le32(payload.length), ...payload];
  return Uint8Array.from([...bytesOf('RIFF'), ...le32(body.length), ...body]);
}

function webpLossy(width: number, height: number): Uint8Array {
  // frame tag (key frame, show), start code, 14-bit sizes, some data
  return riff('VP8 ', [0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a, ...le16(width), ...le16(height), ...new Array(16).fill(0)]);
}

function webpLossless(width: number, height: number): Uint8Array {
  const w = width - 1;
  const h = height - 1;
  const bits = w | (h << 14); // 14 + 14 bits, alpha and version bits 0
  return riff('VP8L', [0x2f, bits & 0xff, (bits >> 8) & 0xff, (bits >> 16) & 0xff, (bits >>> 24) & 0xff, ...new Array(8).fill(0)]);
}

function webpExtended(width: number, height: number): Uint8Array {
  return riff('VP8X', [0x10, 0, 0, 0, ...le24(width - 1), ...le24(height - 1)]);
}

const text = (s: string) => new TextEncoder().encode(s);

// ---- sniffing -----------------------------------------------------------------------------------

describe('sniffImage', () => {
  const cases: [string, Uint8Array, string, string, number, number][] = [
    ['PNG', png(37, 21), 'image/png', 'png', 37, 21],
    ['JPEG baseline (SOF0)', jpeg(640, 480), 'image/jpeg', 'jpg', 640, 480],
    ['JPEG progressive (SOF2) after Exif', jpeg(1024, 2048, { sof: 0xc2, exif: true }), 'image/jpeg', 'jpg', 1024, 2048],
    ['JPEG extended (SOF1)', jpeg(3, 5, { sof: 0xc1 }), 'image/jpeg', 'jpg', 3, 5],
    ['GIF89a', gif(300, 200), 'image/gif', 'gif', 300, 200],
    ['GIF87a', gif(1, 1, '87a'), 'image/gif', 'gif', 1, 1],
    ['WebP lossy (VP8)', webpLossy(1456, 816), 'image/webp', 'webp', 1456, 816],
    ['WebP lossless (VP8L)', webpLossless(4096, 3), 'image/webp', 'webp', 4096, 3],
    ['WebP extended (VP8X)', webpExtended(16383, 9000), 'image/webp', 'webp', 16383, 9000],
  ];

  it.each(cases)('%s', (_name, bytes, mime, ext, width, height) => {
    expect(sniffImage(bytes)).toEqual({ mime, ext, width, height });
    // the hand-made headers are real: image-size reads the same dimensions
    const ref = imageSize(bytes);
    expect([ref.width, ref.height]).toEqual([width, height]);
  });

  it('JPEG: skips 0xFF fill bytes before a marker (image-size 2.1 does not)', () => {
    expect(sniffImage(jpeg(800, 600, { sof: 0xc2, exif: true, fill: true }))).toEqual({ mime: 'image/jpeg', ext: 'jpg', width: 800, height: 600 });
  });

  it('decides by magic bytes, not by name: a text file "renamed .png" is not an image', () => {
    expect(sniffImage(text('hello, I am definitely a picture.png\n'))).toBeNull();
    expect(sniffImage(text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'))).toBeNull();
    expect(sniffImage(new Uint8Array(0))).toBeNull();
    expect(sniffImage(Uint8Array.from([0x42, 0x4d, 0, 0, 0, 0]))).toBeNull(); // BMP: not supported
  });

  it('refuses truncated or dimensionless headers', () => {
    expect(sniffImage(png(5, 5).subarray(0, 20))).toBeNull();
    expect(sniffImage(jpeg(10, 10).subarray(0, 30))).toBeNull(); // cut before the SOF
    expect(sniffImage(Uint8Array.from([0xff, 0xd8, 0xff, 0xda, 0, 2, 0xff, 0xd9]))).toBeNull(); // scan without a frame header
    expect(sniffImage(gif(0, 10))).toBeNull();
    expect(sniffImage(riff('VP8 ', [0, 0, 0, 1, 2, 3, 0, 0, 0, 0]))).toBeNull(); // bad start code
    expect(sniffImage(riff('ALPH', new Array(20).fill(0)))).toBeNull();
  });

  it('works on a view into a larger buffer', () => {
    const inner = png(7, 9);
    const big = new Uint8Array(inner.length + 10);
    big.set(inner, 5);
    expect(sniffImage(big.subarray(5, 5 + inner.length))).toMatchObject({ width: 7, height: 9 });
  });
});

describe('checkImage', () => {
  const maxBytes = 10 * 1024 * 1024;

  it('accepts a good image and returns its info', () => {
    expect(checkImage(png(64, 64), { maxBytes })).toEqual({ ok: true, info: { mime: 'image/png', ext: 'png', width: 64, height: 64 } });
  });

  it('refuses non-images', () => {
    expect(checkImage(text('not an image'), { maxBytes })).toEqual({ ok: false, key: 'errors.notAnImage', params: {} });
  });

  it('refuses more bytes than maxBytes (imageTooLarge), with readable sizes', () => {
    const bytes = png(64, 64);
    const r = checkImage(bytes, { maxBytes: bytes.length - 1 });
    expect(r).toMatchObject({ ok: false, key: 'errors.imageTooLarge', params: { bytes: bytes.length, maxBytes: bytes.length - 1 } });
    expect(checkImage(bytes, { maxBytes: bytes.length }).ok).toBe(true);
    const padded = new Uint8Array(11 * 1024 * 1024);
    padded.set(jpeg(100, 100));
    expect(checkImage(padded, { maxBytes })).toMatchObject({ ok: false, key: 'errors.imageTooLarge', params: { size: '11.0 MiB', max: '10.0 MiB' } });
  });

  it('refuses sides over maxSide (imageTooBig) and under minSide (imageTooSmall)', () => {
    expect(checkImage(webpExtended(4097, 100), { maxBytes })).toEqual({
      ok: false,
      key: 'errors.imageTooBig',
      params: { width: 4097, height: 100, max: 4096 },
    });
    expect(checkImage(webpExtended(4096, 4096), { maxBytes }).ok).toBe(true);
    expect(checkImage(jpeg(2000, 1000), { maxBytes, maxSide: 1024 })).toMatchObject({ ok: false, key: 'errors.imageTooBig', params: { max: 1024 } });
    expect(checkImage(jpeg(63, 500), { maxBytes, minSide: 64 })).toEqual({
      ok: false,
      key: 'errors.imageTooSmall',
      params: { width: 63, height: 500, min: 64 },
    });
    expect(checkImage(jpeg(64, 64), { maxBytes, minSide: 64 }).ok).toBe(true);
  });

  it('restricts types when asked (extensions or MIME types)', () => {
    expect(checkImage(gif(10, 10), { maxBytes, allowed: ['png', 'image/jpeg', 'webp'] })).toEqual({
      ok: false,
      key: 'errors.imageTypeNotAllowed',
      params: { type: 'gif', allowed: 'png, jpg, webp' },
    });
    expect(checkImage(jpeg(10, 10), { maxBytes, allowed: ['png', 'image/jpeg'] }).ok).toBe(true);
  });
});

describe('toDataUrl', () => {
  it('encodes the bytes (also from a subarray)', () => {
    expect(toDataUrl(Uint8Array.from([1, 2, 3]), 'image/png')).toBe('data:image/png;base64,AQID');
    const big = Uint8Array.from([9, 9, 1, 2, 3, 9]);
    expect(toDataUrl(big.subarray(2, 5), 'image/jpeg')).toBe('data:image/jpeg;base64,AQID');
  });
});

// ---- rectangles and masks ------------------------------------------------------------------------

describe('parseRectangles', () => {
  it('parses `x,y,w,h; …` with spaces, newlines and a trailing ;', () => {
    expect(parseRectangles('10,20,30,40')).toEqual({ ok: true, rects: [{ x: 10, y: 20, width: 30, height: 40 }] });
    expect(parseRectangles(' 0, 0 ,5 , 5 ;\n 1,2,3,4\r\n\n7 8 9 10; ')).toEqual({
      ok: true,
      rects: [
        { x: 0, y: 0, width: 5, height: 5 },
        { x: 1, y: 2, width: 3, height: 4 },
        { x: 7, y: 8, width: 9, height: 10 },
      ],
    });
  });

  it('refuses empty input', () => {
    for (const t of ['', '   ', ' ; ;\n']) expect(parseRectangles(t)).toEqual({ ok: false, key: 'errors.rectanglesEmpty' });
  });

  it('accepts 50 rectangles and refuses 51 (or more than a given max)', () => {
    const list = (n: number) => Array.from({ length: n }, (_, i) => `${i},${i},1,1`).join(';');
    const ok = parseRectangles(list(50), { width: 100, height: 100 });
    expect(ok.ok && ok.rects.length).toBe(50);
    expect(parseRectangles(list(51))).toEqual({ ok: false, key: 'errors.rectanglesTooMany', params: { count: 51, max: 50 } });
    expect(parseRectangles(list(3), { max: 2 })).toEqual({ ok: false, key: 'errors.rectanglesTooMany', params: { count: 3, max: 2 } });
  });

  it.each([
    ['1,2,3', 1],
    ['1,2,3,4,5', 1],
    ['0,0,10,10; a,b,c,d', 2],
    ['0,0,10,10; -1,0,5,5', 2],
    ['1.5,2,3,4', 1],
    ['1,,2,3,4', 1],
    ['0,0,0,5', 1],
    ['0,0,5,0', 1],
    ['1,2,3,4 5,6,7,8', 1],
    ['0,0,1,1;0,0,1,1;0,0,99999999999,1', 3],
  ])('refuses malformed %j (rect %i)', (input, index) => {
    expect(parseRectangles(input)).toMatchObject({ ok: false, key: 'errors.rectangleMalformed', params: { index } });
  });

  it('refuses rectangles outside the image, telling which one and the image size', () => {
    const size = { width: 100, height: 50 };
    expect(parseRectangles('0,0,100,50', size).ok).toBe(true);
    expect(parseRectangles('0,0,10,10; 95,0,6,10', size)).toEqual({
      ok: false,
      key: 'errors.rectangleOutOfBounds',
      params: { index: 2, text: '95,0,6,10', width: 100, height: 50 },
    });
    expect(parseRectangles('0,45,10,6', size)).toMatchObject({ ok: false, key: 'errors.rectangleOutOfBounds', params: { index: 1 } });
    expect(parseRectangles('100,0,1,1', size)).toMatchObject({ ok: false, key: 'errors.rectangleOutOfBounds' });
    // without a size only the syntax is checked
    expect(parseRectangles('5000,5000,10,10').ok).toBe(true);
  });
});

function decode(buf: Buffer): PNG {
  return PNG.sync.read(buf);
}

function pixel(p: PNG, x: number, y: number): Rgba {
  const i = (y * p.width + x) * 4;
  return [p.data[i]!, p.data[i + 1]!, p.data[i + 2]!, p.data[i + 3]!];
}

const WHITE: Rgba = [255, 255, 255, 255];
const BLACK: Rgba = [0, 0, 0, 255];

describe('rectanglesToMaskPng', () => {
  it('draws white rectangles on opaque black, at the exact size', () => {
    const rects: Rect[] = [
      { x: 2, y: 3, width: 4, height: 2 },
      { x: 9, y: 0, width: 1, height: 1 },
    ];
    const buf = rectanglesToMaskPng(rects, 10, 6);
    expect(sniffImage(buf)).toEqual({ mime: 'image/png', ext: 'png', width: 10, height: 6 });
    const p = decode(buf);
    const inside = (x: number, y: number) => rects.some((r) => x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height);
    for (let y = 0; y < 6; y++) for (let x = 0; x < 10; x++) expect(pixel(p, x, y), `${x},${y}`).toEqual(inside(x, y) ? WHITE : BLACK);
    // rectangle edges are exclusive
    expect(pixel(p, 6, 3)).toEqual(BLACK);
    expect(pixel(p, 5, 4)).toEqual(WHITE);
    expect(pixel(p, 5, 5)).toEqual(BLACK);
  });

  it('clips rectangles to the image and accepts none (all black)', () => {
    const p = decode(rectanglesToMaskPng([{ x: 3, y: 3, width: 100, height: 100 }], 5, 5));
    expect(pixel(p, 4, 4)).toEqual(WHITE);
    expect(pixel(p, 2, 2)).toEqual(BLACK);
    const empty = decode(rectanglesToMaskPng([], 4, 4));
    expect(pixel(empty, 0, 0)).toEqual(BLACK);
  });

  it('round-trips parseRectangles → mask → normalizeMask', () => {
    const parsed = parseRectangles('1,1,2,2', { width: 8, height: 8 });
    if (!parsed.ok) throw new Error('parse failed');
    const mask = rectanglesToMaskPng(parsed.rects, 8, 8);
    const n = normalizeMask(mask, 8, 8);
    expect(n.ok).toBe(true);
    if (n.ok) expect(decode(n.png).data.equals(decode(mask).data)).toBe(true);
  });

  it('throws on a nonsensical size (programming error)', () => {
    expect(() => rectanglesToMaskPng([], 0, 5)).toThrow(RangeError);
    expect(() => rectanglesToMaskPng([], 2.5, 5)).toThrow(RangeError);
  });
});

describe('normalizeMask', () => {
  it('thresholds to pure black/white, opaque: white where luminance > 127 and alpha > 0', () => {
    const colours: Rgba[] = [
      [255, 255, 255, 255], // white → white
      [128, 128, 128, 255], // light grey → white
      [127, 127, 127, 255], // grey at the threshold → black
      [255, 255, 255, 0], // transparent white → black
      [255, 255, 255, 1], // almost transparent white → white
      [255, 0, 0, 255], // red (luminance 76) → black
      [0, 255, 0, 255], // green (luminance 150) → white
      [0, 0, 0, 255], // black → black
    ];
    const expected = [WHITE, WHITE, BLACK, BLACK, WHITE, BLACK, WHITE, BLACK];
    const src = png(colours.length, 1, (x) => colours[x]!);
    const r = normalizeMask(src, colours.length, 1);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const p = decode(r.png);
    expect([p.width, p.height]).toEqual([colours.length, 1]);
    for (let x = 0; x < colours.length; x++) expect(pixel(p, x, 0), `pixel ${x}`).toEqual(expected[x]);
  });

  it('accepts a mask drawn on a 2D image and keeps the region', () => {
    const src = png(20, 10, (x, y) => (x >= 5 && x < 15 && y >= 2 && y < 8 ? [250, 250, 250, 255] : [10, 10, 10, 255]));
    const r = normalizeMask(src, 20, 10);
    if (!r.ok) throw new Error(r.key);
    const p = decode(r.png);
    expect(pixel(p, 5, 2)).toEqual(WHITE);
    expect(pixel(p, 14, 7)).toEqual(WHITE);
    expect(pixel(p, 4, 2)).toEqual(BLACK);
    expect(pixel(p, 15, 7)).toEqual(BLACK);
    expect(pixel(p, 5, 8)).toEqual(BLACK);
  });

  it('refuses non-PNG bytes and a corrupt PNG', () => {
    expect(normalizeMask(jpeg(4, 4), 4, 4)).toEqual({ ok: false, key: 'errors.maskNotPng' });
    expect(normalizeMask(text('mask.png'), 4, 4)).toEqual({ ok: false, key: 'errors.maskNotPng' });
    const corrupt = Buffer.from(png(4, 4));
    corrupt.fill(0x55, 40);
    expect(normalizeMask(corrupt, 4, 4)).toEqual({ ok: false, key: 'errors.maskNotPng' });
  });

  it('refuses a size mismatch, with both sizes', () => {
    expect(
      normalizeMask(
        png(4, 5, () => WHITE),
        4,
        4,
      ),
    ).toEqual({ ok: false, key: 'errors.maskSizeMismatch', params: { maskWidth: 4, maskHeight: 5, width: 4, height: 4 } });
  });

  it('refuses an all-black (or fully transparent) mask: nothing to repaint', () => {
    expect(normalizeMask(png(6, 6), 6, 6)).toEqual({ ok: false, key: 'errors.maskEmpty' });
    expect(
      normalizeMask(
        png(6, 6, () => [255, 255, 255, 0]),
        6,
        6,
      ),
    ).toEqual({ ok: false, key: 'errors.maskEmpty' });
  });

  it('reads grayscale and palette PNGs too', () => {
    const p = new PNG({ width: 3, height: 1 });
    p.data.set([0, 0, 0, 255, 200, 200, 200, 255, 0, 0, 0, 255]);
    const gray = PNG.sync.write(p, { colorType: 0, inputHasAlpha: true });
    const r = normalizeMask(gray, 3, 1);
    if (!r.ok) throw new Error(r.key);
    expect(pixel(decode(r.png), 1, 0)).toEqual(WHITE);
    expect(pixel(decode(r.png), 0, 0)).toEqual(BLACK);
  });
});
