import { PNG } from 'pngjs';

/**
 * A small PNG bar chart of a day's fast minutes (drawn with pngjs, no canvas): the first bar is the server's total
 * against its budget, the others are members in the order the text lists them. A budget is drawn as a grey track
 * behind the bar (and a dark mark where it ends); a bar at or over its budget is orange. No text in the picture:
 * the reply's text carries the names and figures in the reader's language.
 */

export const CHART_WIDTH = 480;
export const CHART_HEIGHT = 240;

export interface ChartBar {
  minutes: number;
  /** 0 = no budget */
  budget: number;
}

type Rgb = readonly [number, number, number];
const BACKGROUND: Rgb = [0x2b, 0x2d, 0x31];
const TRACK: Rgb = [0x4e, 0x50, 0x58];
const MARK: Rgb = [0xdb, 0xde, 0xe1];
const SERVER: Rgb = [0x58, 0x65, 0xf2];
const MEMBER: Rgb = [0x57, 0xf2, 0x87];
const SPENT: Rgb = [0xf0, 0xb2, 0x32];

const PAD = 12;

/** The server's bar first, then at most `maxMembers` member bars; always CHART_WIDTH × CHART_HEIGHT. */
export function usageChartPng(server: ChartBar, members: ChartBar[], maxMembers = 10): Buffer {
  const png = new PNG({ width: CHART_WIDTH, height: CHART_HEIGHT });
  fill(png, 0, 0, CHART_WIDTH, CHART_HEIGHT, BACKGROUND);
  const bars = [server, ...members.slice(0, maxMembers)];
  const scale = Math.max(1e-9, ...bars.map((b) => Math.max(b.minutes, b.budget)));
  const rowH = Math.floor((CHART_HEIGHT - 2 * PAD) / bars.length);
  const barH = Math.max(2, Math.floor(rowH * 0.7));
  const span = CHART_WIDTH - 2 * PAD;
  bars.forEach((bar, i) => {
    const y = PAD + i * rowH + Math.floor((rowH - barH) / 2);
    const len = (v: number) => Math.round((Math.min(v, scale) / scale) * span);
    if (bar.budget > 0) fill(png, PAD, y, len(bar.budget), barH, TRACK);
    const spent = bar.budget > 0 && bar.minutes >= bar.budget;
    fill(png, PAD, y, Math.max(bar.minutes > 0 ? 1 : 0, len(bar.minutes)), barH, spent ? SPENT : i === 0 ? SERVER : MEMBER);
    if (bar.budget > 0) fill(png, PAD + Math.max(0, len(bar.budget) - 2), y - 2, 2, barH + 4, MARK);
  });
  return PNG.sync.write(png);
}

function fill(png: PNG, x0: number, y0: number, w: number, h: number, [r, g, b]: Rgb): void {
  const x1 = Math.min(png.width, x0 + w);
  const y1 = Math.min(png.height, y0 + h);
  for (let y = Math.max(0, y0); y < y1; y++) {
    for (let x = Math.max(0, x0); x < x1; x++) {
      const i = (y * png.width + x) * 4;
      png.data[i] = r;
      png.data[i + 1] = g;
      png.data[i + 2] = b;
      png.data[i + 3] = 255;
    }
  }
}
