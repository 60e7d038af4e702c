/**
 * The mask editor's pure logic, shared by the browser page (served transpiled as `maskGeometry.js`) and the unit
 * tests: where a pointer on the scaled canvas falls in the image's own pixels, and which pixels a list of drawn
 * shapes selects. No DOM and no Node: plain numbers and typed arrays.
 *
 * A mask is one byte per image pixel, row by row: 1 = selected (white: repaint / remove), 0 = kept (black).
 * A pixel belongs to a shape when its centre (x + 0.5, y + 0.5) does, so the result does not depend on how the
 * page was scaled when the shape was drawn.
 */

export interface Point {
  x: number;
  y: number;
}

export interface Size {
  width: number;
  height: number;
}

/** Where the canvas sits on screen (getBoundingClientRect of the element showing the image). */
export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

export type Shape =
  | { kind: 'rect'; x: number; y: number; width: number; height: number }
  | { kind: 'lasso'; points: Point[] }
  | { kind: 'brush'; points: Point[]; size: number }
  | { kind: 'eraser'; points: Point[]; size: number };

/** Brush sizes the page offers (diameter in image pixels is the slider's value scaled by the image, see brushDiameter). */
export const BRUSH_MIN = 1;
export const BRUSH_MAX = 100;

/**
 * A pointer position (client coordinates) → image pixel coordinates, for a canvas of `image` pixels shown in
 * `box` (scaled, aspect ratio kept). Clamped to the image, so a drag that leaves the picture ends on its edge.
 */
export function toImagePoint(clientX: number, clientY: number, box: Box, image: Size): Point {
  const sx = box.width > 0 ? image.width / box.width : 1;
  const sy = box.height > 0 ? image.height / box.height : 1;
  return {
    x: clamp((clientX - box.left) * sx, 0, image.width),
    y: clamp((clientY - box.top) * sy, 0, image.height),
  };
}

/** The inverse of toImagePoint (where an image pixel is on screen); for drawing the live outline and in tests. */
export function toClientPoint(p: Point, box: Box, image: Size): Point {
  return { x: box.left + (p.x * box.width) / image.width, y: box.top + (p.y * box.height) / image.height };
}

/** The rectangle two corners of a drag span, whichever way it was dragged. */
export function rectFromCorners(a: Point, b: Point): Shape & { kind: 'rect' } {
  return { kind: 'rect', x: Math.min(a.x, b.x), y: Math.min(a.y, b.y), width: Math.abs(b.x - a.x), height: Math.abs(b.y - a.y) };
}

/**
 * The brush slider (1–100) as a diameter in image pixels: 1 % to 25 % of the image's shorter side, so the brush
 * looks the same on a small and a large image.
 */
export function brushDiameter(slider: number, image: Size): number {
  const s = clamp(Math.round(slider), BRUSH_MIN, BRUSH_MAX);
  const short = Math.min(image.width, image.height);
  return Math.max(1, (short * (0.01 + (0.24 * (s - BRUSH_MIN)) / (BRUSH_MAX - BRUSH_MIN))) | 0);
}

/** Does a shape select anything at all (a click without a drag makes an empty rectangle)? */
export function isMeaningful(shape: Shape): boolean {
  switch (shape.kind) {
    case 'rect':
      return shape.width >= 1 && shape.height >= 1;
    case 'lasso':
      return shape.points.length >= 3 && Math.abs(polygonArea(shape.points)) >= 1;
    case 'brush':
    case 'eraser':
      return shape.points.length >= 1 && shape.size >= 1;
  }
}

/** The mask the shapes make, applied in order (the eraser clears what earlier shapes selected). */
export function rasterize(shapes: readonly Shape[], image: Size, into?: Uint8Array): Uint8Array {
  const { width, height } = image;
  const mask = into && into.length === width * height ? into : new Uint8Array(width * height);
  mask.fill(0);
  for (const s of shapes) paint(mask, image, s);
  return mask;
}

/** Apply one shape onto a mask (incrementally, after rasterize). */
export function paint(mask: Uint8Array, image: Size, s: Shape): void {
  switch (s.kind) {
    case 'rect':
      fillRect(mask, image, s);
      return;
    case 'lasso':
      fillPolygon(mask, image, s.points);
      return;
    case 'brush':
      strokePath(mask, image, s.points, s.size / 2, 1);
      return;
    case 'eraser':
      strokePath(mask, image, s.points, s.size / 2, 0);
      return;
  }
}

/** How many pixels are selected. */
export function countSelected(mask: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i]!;
  return n;
}

/** Opaque RGBA pixels of the mask (white selected, black kept): what the page encodes as the PNG it submits. */
export function maskToRgba(mask: Uint8Array, out?: Uint8ClampedArray): Uint8ClampedArray {
  const rgba = out && out.length === mask.length * 4 ? out : new Uint8ClampedArray(mask.length * 4);
  for (let i = 0, o = 0; i < mask.length; i++, o += 4) {
    const v = mask[i] ? 255 : 0;
    rgba[o] = v;
    rgba[o + 1] = v;
    rgba[o + 2] = v;
    rgba[o + 3] = 255;
  }
  return rgba;
}

/** Translucent RGBA of the selection only (the overlay drawn over the image); `color` is [r, g, b, alpha 0–255]. */
export function overlayRgba(mask: Uint8Array, color: readonly [number, number, number, number], out?: Uint8ClampedArray): Uint8ClampedArray {
  const rgba = out && out.length === mask.length * 4 ? out : new Uint8ClampedArray(mask.length * 4);
  for (let i = 0, o = 0; i < mask.length; i++, o += 4) {
    if (mask[i]) {
      rgba[o] = color[0];
      rgba[o + 1] = color[1];
      rgba[o + 2] = color[2];
      rgba[o + 3] = color[3];
    } else {
      rgba[o] = 0;
      rgba[o + 1] = 0;
      rgba[o + 2] = 0;
      rgba[o + 3] = 0;
    }
  }
  return rgba;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Pixels whose centre lies in [x, x + w) × [y, y + h). */
function fillRect(mask: Uint8Array, image: Size, r: { x: number; y: number; width: number; height: number }): void {
  const x0 = clamp(Math.ceil(r.x - 0.5), 0, image.width);
  const x1 = clamp(Math.ceil(r.x + r.width - 0.5), 0, image.width);
  const y0 = clamp(Math.ceil(r.y - 0.5), 0, image.height);
  const y1 = clamp(Math.ceil(r.y + r.height - 0.5), 0, image.height);
  if (x1 <= x0) return;
  for (let y = y0; y < y1; y++) mask.fill(1, y * image.width + x0, y * image.width + x1);
}

function polygonArea(points: readonly Point[]): number {
  let a = 0;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) a += (points[j]!.x + points[i]!.x) * (points[j]!.y - points[i]!.y);
  return a / 2;
}

/** Scanline fill at pixel centres, even-odd rule (a lasso that crosses itself leaves the crossed part out, like a canvas fill with 'evenodd'). */
function fillPolygon(mask: Uint8Array, image: Size, points: readonly Point[]): void {
  if (points.length < 3) return;
  let minY = Infinity;
  let maxY = -Infinity;
  for (const p of points) {
    minY = Math.min(minY, p.y);
    maxY = Math.max(maxY, p.y);
  }
  const yStart = clamp(Math.ceil(minY - 0.5), 0, image.height);
  const yEnd = clamp(Math.ceil(maxY - 0.5), 0, image.height);
  const xs: number[] = [];
  for (let py = yStart; py < yEnd; py++) {
    const cy = py + 0.5;
    xs.length = 0;
    for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
      const a = points[j]!;
      const b = points[i]!;
      // half-open in y so a vertex on the scanline is counted once
      if (a.y <= cy !== b.y <= cy) xs.push(a.x + ((cy - a.y) * (b.x - a.x)) / (b.y - a.y));
    }
    xs.sort((p, q) => p - q);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const x0 = clamp(Math.ceil(xs[k]! - 0.5), 0, image.width);
      const x1 = clamp(Math.ceil(xs[k + 1]! - 0.5), 0, image.width);
      if (x1 > x0) mask.fill(1, py * image.width + x0, py * image.width + x1);
    }
  }
}

/** Every pixel whose centre is within `radius` of the polyline (a single point is a dot) is set to `value`. */
function strokePath(mask: Uint8Array, image: Size, points: readonly Point[], radius: number, value: 0 | 1): void {
  if (points.length === 0 || radius <= 0) return;
  const r2 = radius * radius;
  const segments = points.length === 1 ? [[points[0]!, points[0]!] as const] : points.slice(1).map((p, i) => [points[i]!, p] as const);
  for (const [a, b] of segments) {
    const x0 = clamp(Math.floor(Math.min(a.x, b.x) - radius), 0, image.width);
    const x1 = clamp(Math.ceil(Math.max(a.x, b.x) + radius), 0, image.width);
    const y0 = clamp(Math.floor(Math.min(a.y, b.y) - radius), 0, image.height);
    const y1 = clamp(Math.ceil(Math.max(a.y, b.y) + radius), 0, image.height);
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const len2 = dx * dx + dy * dy;
    for (let py = y0; py < y1; py++) {
      const cy = py + 0.5;
      for (let px = x0; px < x1; px++) {
        const cx = px + 0.5;
        let t = len2 > 0 ? ((cx - a.x) * dx + (cy - a.y) * dy) / len2 : 0;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const ex = a.x + t * dx - cx;
        const ey = a.y + t * dy - cy;
        if (ex * ex + ey * ey <= r2) mask[py * image.width + px] = value;
      }
    }
  }
}
