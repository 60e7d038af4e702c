// The button catalogue (contract §7) and what each customId does when pressed (§3.6, §8).
import type { MjButton } from '../../../src/upstream/mjTypes.js';
import { isV8OrLater } from './context.js';

export const KEYCAPS = ['1️⃣', '2️⃣', '3️⃣', '4️⃣', '5️⃣'] as const;

function btn(customId: string, label: string, emoji: string): MjButton {
  return { customId, emoji, label, style: 2, type: 2 };
}

/** §7.2: U1–U4, 🔄, V1–V4 (Discord's two rows). */
export function gridButtons(h: string): MjButton[] {
  const out: MjButton[] = [];
  for (let n = 1; n <= 4; n++) out.push(btn(`MJ::JOB::upsample::${n}::${h}`, `U${n}`, ''));
  out.push(btn(`MJ::JOB::reroll::0::${h}::SOLO`, '', '🔄'));
  for (let n = 1; n <= 4; n++) out.push(btn(`MJ::JOB::variation::${n}::${h}`, `V${n}`, ''));
  return out;
}

/** §7.3 without the two HD-upscale buttons: vary, zoom, pan, bookmark. */
export function editButtons(h: string, square: boolean): MjButton[] {
  const out = [
    btn(`MJ::JOB::low_variation::1::${h}::SOLO`, 'Vary (Subtle)', '🪄'),
    btn(`MJ::JOB::high_variation::1::${h}::SOLO`, 'Vary (Strong)', '🪄'),
    btn(`MJ::Inpaint::1::${h}::SOLO`, 'Vary (Region)', '🖌️'),
    btn(`MJ::Outpaint::50::1::${h}::SOLO`, 'Zoom Out 2x', '🔍'),
    btn(`MJ::Outpaint::75::1::${h}::SOLO`, 'Zoom Out 1.5x', '🔍'),
    btn(`MJ::CustomZoom::${h}`, 'Custom Zoom', '🔍'),
  ];
  if (!square) out.push(btn(`MJ::Outpaint::100::1::${h}::SOLO`, 'Make Square', ''));
  out.push(
    btn(`MJ::JOB::pan_left::1::${h}::SOLO`, '', '⬅️'),
    btn(`MJ::JOB::pan_right::1::${h}::SOLO`, '', '➡️'),
    btn(`MJ::JOB::pan_up::1::${h}::SOLO`, '', '⬆️'),
    btn(`MJ::JOB::pan_down::1::${h}::SOLO`, '', '⬇️'),
    btn(`MJ::BOOKMARK::${h}`, '', '❤️'),
  );
  return out;
}

/** §7.3: the upscaled single image's panel. */
export function upscaleButtons(h: string, version: string, square: boolean): MjButton[] {
  return [
    btn(`MJ::JOB::upsample_${version}_2x_subtle::1::${h}::SOLO`, 'Upscale (Subtle)', 'upscale_1'),
    btn(`MJ::JOB::upsample_${version}_2x_creative::1::${h}::SOLO`, 'Upscale (Creative)', 'upscale_1'),
    ...editButtons(h, square),
    ...animateButtons(h),
  ];
}

/** §7.3: every upscale (v5.2 and later) offers Animate (High/Low motion). */
export function animateButtons(h: string): MjButton[] {
  return [btn(`MJ::JOB::animate_high::1::${h}::SOLO`, 'Animate (High motion)', '🎞️'), btn(`MJ::JOB::animate_low::1::${h}::SOLO`, 'Animate (Low motion)', '🎞️')];
}

/** §3.10a: a video grid has U1–U4 (video_virtual_upscale) and 🔄. */
export function videoGridButtons(h: string): MjButton[] {
  const out: MjButton[] = [];
  for (let n = 1; n <= 4; n++) out.push(btn(`MJ::JOB::video_virtual_upscale::${n}::${h}`, `U${n}`, ''));
  out.push(btn(`MJ::JOB::reroll::0::${h}::SOLO`, '', '🔄'));
  return out;
}

/** §3.10a: a single clip has Extend (High/Low motion) (no `::SOLO`) while it may still grow. */
export function videoClipButtons(h: string, canExtend: boolean): MjButton[] {
  if (!canExtend) return [];
  return [btn(`MJ::JOB::animate_high_extend::1::${h}`, 'Extend (High motion)', '🎞️'), btn(`MJ::JOB::animate_low_extend::1::${h}`, 'Extend (Low motion)', '🎞️')];
}

/** §3.10a: a V8 upscale carries no HD-upscale, zoom or pan (V8 uses `--hd` instead); vary and bookmark remain. */
export function v8UpscaleButtons(h: string): MjButton[] {
  return [
    btn(`MJ::JOB::low_variation::1::${h}::SOLO`, 'Vary (Subtle)', '🪄'),
    btn(`MJ::JOB::high_variation::1::${h}::SOLO`, 'Vary (Strong)', '🪄'),
    btn(`MJ::BOOKMARK::${h}`, '', '❤️'),
  ];
}

/** §7.4: describe result. */
export function describeButtons(): MjButton[] {
  return [
    ...[1, 2, 3, 4].map((n) => btn(`MJ::Job::PicReader::${n}`, '', KEYCAPS[n - 1] ?? '')),
    btn('MJ::Picread::Retry', '', '🔄'),
    btn('MJ::Job::PicReader::all', 'Imagine all', '🎉'),
  ];
}

/** §7.4: shorten result; `uuid` = the middle segment. */
export function shortenButtons(uuid: string): MjButton[] {
  return [
    ...[1, 2, 3, 4, 5].map((n) => btn(`MJ::Job::PromptAnalyzer::${uuid}::${n}`, '', KEYCAPS[n - 1] ?? '')),
    btn(`MJ::Job::PromptAnalyzer::${uuid}::details`, 'Show Details', ''),
  ];
}

/** Actions whose result is a 2×2 grid. */
export const GRID_ACTIONS: ReadonlySet<string> = new Set(['IMAGINE', 'VARIATION', 'REROLL', 'BLEND', 'PAN', 'ZOOM']);

/** `--ar W:H` (or `--aspect`) from a prompt; undefined when absent. */
export function aspectOf(prompt: string | null | undefined): { w: number; h: number } | undefined {
  const m = /--(?:ar|aspect)\s+(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)/i.exec(prompt ?? '');
  if (!m) return undefined;
  return { w: Number(m[1]), h: Number(m[2]) };
}

/** The buttons a task carries on SUCCESS. */
export function buttonsFor(action: string, h: string, prompt: string, version: string): MjButton[] {
  const ar = aspectOf(prompt);
  const square = !ar || ar.w === ar.h;
  if (GRID_ACTIONS.has(action)) return gridButtons(h);
  if (action === 'UPSCALE') return isV8OrLater(prompt) ? v8UpscaleButtons(h) : upscaleButtons(h, version, square);
  if (action === 'UPSCALE_HD') return editButtons(h, square);
  if (action === 'DESCRIBE') return describeButtons();
  if (action === 'SHORTEN') return shortenButtons(h);
  return [];
}

/** When a press needs a modal (§8). */
export type ModalRule = 'always' | 'remix' | 'analyzer' | 'never';

export interface PressKind {
  /** the new task's action */
  action: string;
  modal: ModalRule;
  modalKind?: 'zoom' | 'inpaint' | 'remix' | 'picreader' | 'analyzer';
  /** U/V index, PicReader / PromptAnalyzer number */
  index?: number;
  /** presses that do not create one ordinary task */
  special?: 'imagine-all' | 'bookmark' | 'details';
  /** TA v11 rejects these (§7.5) */
  rejectedOnV11?: boolean;
  /** video presses (§3.10a): animate an upscale, extend a clip, pick a clip of a video grid */
  video?: { step: 'animate' | 'extend' | 'upscale'; motion?: 'high' | 'low' } | undefined;
}

/** Classify a customId; undefined = not a known Midjourney press. */
export function classifyCustomId(customId: string): PressKind | undefined {
  let m: RegExpExecArray | null;
  if ((m = /^MJ::JOB::animate_(high|low)_extend::([1-4])::/.exec(customId))) {
    return { action: 'VIDEO', modal: 'remix', modalKind: 'remix', index: Number(m[2]), video: { step: 'extend', motion: m[1] === 'high' ? 'high' : 'low' } };
  }
  if ((m = /^MJ::JOB::animate_(high|low)::1::/.exec(customId))) {
    return { action: 'VIDEO', modal: 'remix', modalKind: 'remix', video: { step: 'animate', motion: m[1] === 'high' ? 'high' : 'low' } };
  }
  if ((m = /^MJ::JOB::video_virtual_upscale::([1-4])::/.exec(customId)))
    return { action: 'UPSCALE', modal: 'never', index: Number(m[1]), video: { step: 'upscale' } };
  if ((m = /^MJ::JOB::upsample::([1-4])::/.exec(customId))) return { action: 'UPSCALE', modal: 'never', index: Number(m[1]) };
  if (/^MJ::JOB::upsample_v[0-9r]+_(2x|4x)(_subtle|_creative)?::/.test(customId)) return { action: 'UPSCALE_HD', modal: 'never' };
  if ((m = /^MJ::JOB::variation::([1-4])::/.exec(customId))) return { action: 'VARIATION', modal: 'remix', modalKind: 'remix', index: Number(m[1]) };
  if (/^MJ::JOB::(low|high)_variation::/.test(customId)) return { action: 'VARIATION', modal: 'remix', modalKind: 'remix', index: 1 };
  if (/^MJ::Inpaint::/.test(customId)) return { action: 'VARIATION', modal: 'always', modalKind: 'inpaint' };
  if (/^MJ::JOB::reroll::/.test(customId)) return { action: 'REROLL', modal: 'remix', modalKind: 'remix' };
  if (/^MJ::CustomZoom::/.test(customId)) return { action: 'ZOOM', modal: 'always', modalKind: 'zoom' };
  if (/^MJ::Outpaint::/.test(customId)) return { action: 'ZOOM', modal: 'never' };
  if (/^MJ::JOB::pan_(left|right|up|down)::/.test(customId)) return { action: 'PAN', modal: 'remix', modalKind: 'remix' };
  if (customId === 'MJ::Job::PicReader::all') return { action: 'IMAGINE', modal: 'never', special: 'imagine-all' };
  if ((m = /^MJ::Job::PicReader::([1-4])$/.exec(customId))) return { action: 'IMAGINE', modal: 'always', modalKind: 'picreader', index: Number(m[1]) };
  if (customId === 'MJ::Picread::Retry') return { action: 'DESCRIBE', modal: 'never' };
  if (/^MJ::Job::PromptAnalyzer::.+::details$/.test(customId)) return { action: 'SHORTEN', modal: 'never', special: 'details', rejectedOnV11: true };
  if ((m = /^MJ::Job::PromptAnalyzer::.+::([1-5])$/.exec(customId))) {
    return { action: 'IMAGINE', modal: 'analyzer', modalKind: 'analyzer', index: Number(m[1]), rejectedOnV11: true };
  }
  if (/^MJ::BOOKMARK::/.test(customId)) return { action: 'BOOKMARK', modal: 'never', special: 'bookmark', rejectedOnV11: true };
  return undefined;
}
