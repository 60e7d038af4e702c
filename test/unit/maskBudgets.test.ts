import { inflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { IMAGE_BUDGETS } from '../../src/images/budgets.js';
import { drawRectanglesMask, normalizeMask, rectanglesToMaskPng } from '../../src/images/mask.js';
import { MaskWork } from '../../src/images/maskWork.js';
import { pngHeader, pngInflatedSize } from '../../src/images/sniff.js';
import { bilevelPng, makePng } from '../fakes/images.js';

const MiB = 1024 * 1024;

/** The IDAT bytes of a PNG, inflated (for checking the expected-size arithmetic against real files). */
function inflatedIdat(b: Buffer): number {
  const parts: Buffer[] = [];
  for (let o = 8; o + 12 <= b.length;) {
    const len = b.readUInt32BE(o);
    if (b.toString('latin1', o + 4, o + 8) === 'IDAT') parts.push(b.subarray(o + 8, o + 8 + len));
    o += 12 + len;
  }
  return inflateSync(Buffer.concat(parts)).length;
}

describe('pngHeader and pngInflatedSize', () => {
  it('reads size, depth, type and interlacing from IHDR alone', () => {
    expect(pngHeader(bilevelPng(12000, 12000))).toEqual({ width: 12000, height: 12000, bitDepth: 1, colorType: 0, interlaced: false });
    expect(pngHeader(bilevelPng(33, 17, { interlaced: true }))?.interlaced).toBe(true);
    expect(pngHeader(makePng(5, 3))).toMatchObject({ width: 5, height: 3, bitDepth: 8, colorType: 6 });
  });

  it('refuses a header with an impossible type/depth or not first', () => {
    const bad = Buffer.from(makePng(4, 4));
    bad[24] = 3; // RGBA at 3 bits per sample does not exist
    expect(pngHeader(bad)).toBeNull();
    expect(pngHeader(Buffer.from('not a png at all, not even close....'))).toBeNull();
  });

  it('knows what an honest file inflates to, interlaced (Adam7) or not', () => {
    for (const [w, h] of [
      [1, 1],
      [7, 3],
      [64, 48],
      [513, 257],
    ] as const) {
      for (const interlaced of [false, true]) {
        const file = bilevelPng(w, h, { interlaced, white: true });
        expect(pngInflatedSize(pngHeader(file)!)).toBe(inflatedIdat(file));
      }
    }
    const rgba = makePng(31, 9);
    expect(pngInflatedSize(pngHeader(rgba)!)).toBe(inflatedIdat(rgba));
  });
});

describe('normalizeMask budgets', () => {
  it('refuses a 17 KB 12000×12000 mask from its header, without decoding it', () => {
    const mask = bilevelPng(12000, 12000);
    const started = performance.now();
    expect(normalizeMask(mask, 512, 512)).toEqual({
      ok: false,
      key: 'errors.maskSizeMismatch',
      params: { maskWidth: 12000, maskHeight: 12000, width: 512, height: 512 },
    });
    expect(normalizeMask(mask, 12000, 12000)).toEqual({
      ok: false,
      key: 'errors.hostileImage.tooManyPixels',
      params: { width: 12000, height: 12000, maxSide: 4096 },
    });
    expect(performance.now() - started).toBeLessThan(200); // decoding it takes ~10 s
  });

  it('refuses image data that inflates past what the header needs, interlaced or not, stopping at the cap', () => {
    for (const interlaced of [true, false]) {
      const bomb = bilevelPng(64, 48, { interlaced, white: true, extraInflatedBytes: 256 * MiB });
      const rssBefore = process.memoryUsage().rss;
      expect(normalizeMask(bomb, 64, 48)).toEqual({ ok: false, key: 'errors.hostileImage.inflatesTooMuch', params: { width: 64, height: 48 } });
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * MiB);
    }
  });

  it('accepts an honest interlaced mask and normalises it', () => {
    const out = normalizeMask(bilevelPng(40, 30, { interlaced: true, white: true }), 40, 30);
    expect(out.ok).toBe(true);
    const png = PNG.sync.read((out as { png: Buffer }).png);
    expect([png.width, png.height, png.data[0], png.data[3]]).toEqual([40, 30, 255, 255]);
  });

  it('refuses a file over the byte budget before reading it', () => {
    const out = normalizeMask(makePng(8, 8), 8, 8, { ...IMAGE_BUDGETS.mask, maxBytes: 10 });
    expect(out).toMatchObject({ ok: false, key: 'errors.hostileImage.tooManyBytes' });
  });

  it('a rectangles mask at an upstream-reported size over the budget is refused, never allocated', () => {
    expect(drawRectanglesMask([{ x: 0, y: 0, width: 5, height: 5 }], 100_000, 100_000)).toEqual({
      ok: false,
      key: 'errors.hostileImage.tooManyPixels',
      params: { width: 100_000, height: 100_000, maxSide: 4096 },
    });
    expect(() => rectanglesToMaskPng([], 100_000, 100_000)).toThrow(RangeError);
    expect(drawRectanglesMask([], 16, 8).ok).toBe(true);
  });
});

describe('MaskWork (decoding off the event loop)', () => {
  it('normalises in a worker, with the same result as in-process', async () => {
    const work = new MaskWork();
    const mask = bilevelPng(64, 48, { interlaced: true, white: true });
    const out = await work.normalize(mask, 64, 48);
    const direct = normalizeMask(mask, 64, 48);
    expect(out.ok && direct.ok && out.png.equals(direct.png)).toBe(true);
    const rects = await work.rectangles([{ x: 1, y: 1, width: 4, height: 4 }], 16, 8);
    expect(rects.ok && rects.png.equals(rectanglesToMaskPng([{ x: 1, y: 1, width: 4, height: 4 }], 16, 8))).toBe(true);
  });

  it('refuses from the header without starting a worker', async () => {
    const work = new MaskWork({ entry: { script: 'throw new Error("no worker should start")', eval: true } });
    expect(await work.normalize(bilevelPng(12000, 12000), 512, 512)).toMatchObject({ ok: false, key: 'errors.maskSizeMismatch' });
    expect(await work.rectangles([], 20_000, 20_000)).toMatchObject({ ok: false, key: 'errors.hostileImage.tooManyPixels' });
  });

  it('fails closed when the worker cannot start or crashes', async () => {
    const missing = new MaskWork({ entry: { script: new URL('file:///nonexistent/maskWorker.js'), eval: false } });
    expect(await missing.normalize(makePng(8, 8, { color: '#ffffff' }), 8, 8)).toEqual({ ok: false, key: 'errors.hostileImage.unavailable' });
    const crashing = new MaskWork({ entry: { script: 'process.exit(3)', eval: true } });
    expect(await crashing.rectangles([], 8, 8)).toEqual({ ok: false, key: 'errors.hostileImage.unavailable' });
  });

  it('stops a worker at its deadline, and turns work away when the queue is full', async () => {
    const budgets = { mask: { ...IMAGE_BUDGETS.mask, deadlineMs: 300 }, rectangleMask: { ...IMAGE_BUDGETS.rectangleMask, deadlineMs: 300 } };
    const work = new MaskWork({ budgets, maxQueued: 0, entry: { script: 'setInterval(() => {}, 1000)', eval: true } });
    const first = work.rectangles([], 8, 8);
    expect(await work.rectangles([], 8, 8)).toEqual({ ok: false, key: 'errors.hostileImage.busy' });
    expect(await first).toEqual({ ok: false, key: 'errors.hostileImage.tooSlow', params: { seconds: 1 } });
  });
});
