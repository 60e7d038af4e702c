import { describe, expect, it } from 'vitest';
import {
  brushDiameter,
  countSelected,
  isMeaningful,
  maskToRgba,
  overlayRgba,
  rasterize,
  rectFromCorners,
  toClientPoint,
  toImagePoint,
  type Shape,
} from '../../../../src/http/editor/public/maskGeometry.js';

const at = (mask: Uint8Array, width: number, x: number, y: number) => mask[y * width + x];

describe('maskGeometry: where a pointer falls on the image', () => {
  it('maps a canvas shown at half size back to image pixels, whichever corner the page is scrolled to', () => {
    const box = { left: 100, top: 50, width: 256, height: 128 };
    const image = { width: 512, height: 256 };
    expect(toImagePoint(100, 50, box, image)).toEqual({ x: 0, y: 0 });
    expect(toImagePoint(228, 114, box, image)).toEqual({ x: 256, y: 128 });
    expect(toImagePoint(356, 178, box, image)).toEqual({ x: 512, y: 256 });
    expect(toClientPoint({ x: 256, y: 128 }, box, image)).toEqual({ x: 228, y: 114 });
  });

  it('clamps a drag that leaves the picture to its edge', () => {
    const box = { left: 0, top: 0, width: 100, height: 100 };
    expect(toImagePoint(-40, 250, box, { width: 1000, height: 1000 })).toEqual({ x: 0, y: 1000 });
  });

  it('keeps a non-square aspect ratio on both axes (a 1456×816 result shown 728 wide)', () => {
    const p = toImagePoint(364 + 10, 204 + 20, { left: 10, top: 20, width: 728, height: 408 }, { width: 1456, height: 816 });
    expect(p).toEqual({ x: 728, y: 408 });
  });
});

describe('maskGeometry: shapes to mask pixels', () => {
  const image = { width: 20, height: 10 };

  it('a rectangle selects exactly the pixels whose centres it covers, dragged either way', () => {
    const r = rectFromCorners({ x: 12, y: 7 }, { x: 2, y: 3 });
    expect(r).toEqual({ kind: 'rect', x: 2, y: 3, width: 10, height: 4 });
    const mask = rasterize([r], image);
    expect(countSelected(mask)).toBe(40);
    expect([at(mask, 20, 2, 3), at(mask, 20, 1, 3), at(mask, 20, 12, 3), at(mask, 20, 2, 7)]).toEqual([1, 0, 0, 0]);
    expect(at(mask, 20, 11, 6)).toBe(1);
  });

  it('a lasso fills its polygon (a triangle: half of its box), and a self-crossing one follows the even-odd rule', () => {
    const big = { width: 100, height: 100 };
    const tri: Shape = {
      kind: 'lasso',
      points: [
        { x: 0, y: 0 },
        { x: 100, y: 0 },
        { x: 0, y: 100 },
      ],
    };
    const n = countSelected(rasterize([tri], big));
    expect(Math.abs(n - 5000)).toBeLessThanOrEqual(100);
    const mask = rasterize([tri], big);
    expect([at(mask, 100, 10, 10), at(mask, 100, 90, 90), at(mask, 100, 60, 30)]).toEqual([1, 0, 1]);
    // a bow tie (its edges cross in the middle): both wings, left and right, and not the gaps above and below
    const bow: Shape = {
      kind: 'lasso',
      points: [
        { x: 0, y: 0 },
        { x: 100, y: 100 },
        { x: 100, y: 0 },
        { x: 0, y: 100 },
      ],
    };
    const b = rasterize([bow], big);
    expect([at(b, 100, 10, 50), at(b, 100, 90, 50), at(b, 100, 50, 10), at(b, 100, 50, 90)]).toEqual([1, 1, 0, 0]);
  });

  it('a brush stroke selects a capsule of its diameter; the eraser clears what it crosses; later shapes win', () => {
    const big = { width: 100, height: 100 };
    const stroke: Shape = {
      kind: 'brush',
      points: [
        { x: 20, y: 50 },
        { x: 80, y: 50 },
      ],
      size: 20,
    };
    const m = rasterize([stroke], big);
    expect([at(m, 100, 50, 50), at(m, 100, 50, 59), at(m, 100, 50, 61), at(m, 100, 11, 50), at(m, 100, 8, 50)]).toEqual([1, 1, 0, 1, 0]);
    const erased = rasterize(
      [
        stroke,
        {
          kind: 'eraser',
          points: [
            { x: 50, y: 20 },
            { x: 50, y: 80 },
          ],
          size: 10,
        },
      ],
      big,
    );
    expect([at(erased, 100, 50, 50), at(erased, 100, 30, 50)]).toEqual([0, 1]);
    const repainted = rasterize([stroke, { kind: 'eraser', points: [{ x: 50, y: 50 }], size: 10 }, { kind: 'rect', x: 45, y: 45, width: 10, height: 10 }], big);
    expect(at(repainted, 100, 50, 50)).toBe(1);
  });

  it('shapes at the border are clipped to the image; a click without a drag selects nothing', () => {
    const m = rasterize([{ kind: 'brush', points: [{ x: 0, y: 0 }], size: 6 }], image);
    expect(at(m, 20, 0, 0)).toBe(1);
    expect(m.length).toBe(200);
    expect(isMeaningful(rectFromCorners({ x: 5, y: 5 }, { x: 5.4, y: 9 }))).toBe(false);
    expect(
      isMeaningful({
        kind: 'lasso',
        points: [
          { x: 1, y: 1 },
          { x: 2, y: 2 },
        ],
      }),
    ).toBe(false);
    expect(isMeaningful({ kind: 'brush', points: [{ x: 1, y: 1 }], size: 4 })).toBe(true);
  });

  it('the same shapes give the same mask at any display scale (they are kept in image pixels)', () => {
    const big = { width: 640, height: 480 };
    const drawAt = (scale: number) => {
      const box = { left: 0, top: 0, width: 640 * scale, height: 480 * scale };
      const a = toImagePoint(100 * scale, 80 * scale, box, big);
      const b = toImagePoint(300 * scale, 200 * scale, box, big);
      return rasterize([rectFromCorners(a, b)], big);
    };
    expect(countSelected(drawAt(0.5))).toBe(200 * 120);
    expect(Buffer.from(drawAt(0.5)).equals(Buffer.from(drawAt(1.75)))).toBe(true);
  });

  it('the brush slider scales with the image: 1 % to 25 % of its shorter side', () => {
    expect(brushDiameter(1, { width: 1000, height: 800 })).toBe(8);
    expect(brushDiameter(100, { width: 1000, height: 800 })).toBe(200);
    expect(brushDiameter(500, { width: 10, height: 10 })).toBe(2);
  });
});

describe('maskGeometry: pixels for the PNG and the overlay', () => {
  it('opaque black and white for the mask, translucent colour only where selected for the overlay', () => {
    const mask = Uint8Array.from([1, 0]);
    expect([...maskToRgba(mask)]).toEqual([255, 255, 255, 255, 0, 0, 0, 255]);
    expect([...overlayRgba(mask, [10, 20, 30, 40])]).toEqual([10, 20, 30, 40, 0, 0, 0, 0]);
  });
});
