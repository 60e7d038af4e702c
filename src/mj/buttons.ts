import type { MjButton, MjFlavor } from '../upstream/mjTypes.js';

/**
 * Upstream Midjourney buttons → what the bot draws.
 * Pure: recognises the customId patterns of the catalogue, picks the bot's own label key and a
 * Unicode emoji (never Midjourney's custom emoji names), and lays the buttons out in rows.
 */

export type ButtonKind =
  | 'upscale'
  | 'variation'
  | 'reroll'
  | 'upscale-subtle'
  | 'upscale-creative'
  | 'upscale-2x'
  | 'upscale-4x'
  | 'vary-subtle'
  | 'vary-strong'
  | 'vary-region'
  | 'zoom-out-2x'
  | 'zoom-out-1.5x'
  | 'custom-zoom'
  | 'make-square'
  | 'pan-left'
  | 'pan-right'
  | 'pan-up'
  | 'pan-down'
  | 'animate-high'
  | 'animate-low'
  | 'bookmark'
  | 'describe-pick'
  | 'describe-retry'
  | 'describe-all'
  | 'shorten-pick'
  | 'shorten-details'
  | 'unknown';

export type ModalRule = 'always' | 'remix' | 'never';

export interface MappedButton {
  /** the upstream customId, verbatim */
  customId: string;
  kind: ButtonKind;
  /** U/V 1..4, describe 1..4, shorten 1..5, extend 1..4 */
  index?: number;
  /** i18n key for the label (rendered with `{ n: index }`); null = use `label` as is */
  labelKey: string | null;
  /** English label as Midjourney shows it; '' for emoji-only buttons */
  label: string;
  /** Unicode emoji only */
  emoji?: string;
  /** Discord button style 1–4 */
  style: 1 | 2 | 3 | 4;
  modal: ModalRule;
  /** layout row hint: buttons with the same group share a row (see layoutButtons) */
  group: number;
  /** the bot's own route prefix for buttons it adds itself (custom_id `mj:<route>:<key>`); default `b`, the upstream-button route */
  route?: string;
  /** what a bot-side button needs when pressed, stored with its key (e.g. the prompt a describe pick starts with) */
  data?: Record<string, string>;
}

/** Row hints. Families never share a message, so their numbers may overlap. */
export const GROUP = {
  gridUpscale: 0, // U1..U4 🔄 (also describe 1..4 🔄, shorten 1..5)
  gridVariation: 1, // V1..V4 (also Imagine all, Show details)
  hdUpscale: 0,
  vary: 1,
  zoom: 2,
  pan: 3,
  animate: 4,
  unknown: 5,
} as const;

export const MAX_LABEL = 80;
const MAX_PER_ROW = 5;

interface Spec {
  kind: ButtonKind;
  index?: number;
  labelKey: string | null;
  label: string;
  emoji?: string;
  modal: ModalRule;
  group: number;
}

const E = {
  /** upscale: distinct from the pan-up arrow so the two never look alike */
  upscale: '⏫',
  up: '⬆️',
  wand: '🪄',
  brush: '🖌️',
  zoom: '🔍',
  square: '↔️',
  left: '⬅️',
  right: '➡️',
  down: '⬇️',
  reroll: '🔄',
  film: '🎞️',
  heart: '❤️',
  party: '🎉',
} as const;

const PAN: Record<string, { kind: ButtonKind; emoji: string }> = {
  left: { kind: 'pan-left', emoji: E.left },
  right: { kind: 'pan-right', emoji: E.right },
  up: { kind: 'pan-up', emoji: E.up },
  down: { kind: 'pan-down', emoji: E.down },
};

const HD: Record<string, { kind: ButtonKind; labelKey: string; label: string }> = {
  subtle: { kind: 'upscale-subtle', labelKey: 'buttons.upscaleSubtle', label: 'Upscale (Subtle)' },
  creative: { kind: 'upscale-creative', labelKey: 'buttons.upscaleCreative', label: 'Upscale (Creative)' },
  '2x': { kind: 'upscale-2x', labelKey: 'buttons.upscale2x', label: 'Upscale (2x)' },
  '4x': { kind: 'upscale-4x', labelKey: 'buttons.upscale4x', label: 'Upscale (4x)' },
};

/** Recognise a Midjourney customId (`MJ::JOB::…`, `MJ::CustomZoom::…` …). `label` only matters for the uncaptured "Show Details". */
function recognise(customId: string, proxyLabel: string): Spec | null {
  let m: RegExpMatchArray | null;
  const id = customId;

  // a grid (imagine, variation, reroll, blend, pan, zoom), and trueai's video results (video_virtual_upscale = U1..U4)
  if ((m = /^MJ::JOB::(?:upsample|video_virtual_upscale)::([1-4])::/i.exec(id))) {
    const n = Number(m[1]);
    return { kind: 'upscale', index: n, labelKey: 'buttons.upscale', label: `U${n}`, modal: 'never', group: GROUP.gridUpscale };
  }
  if (/^MJ::JOB::reroll::/i.test(id)) {
    return { kind: 'reroll', labelKey: null, label: '', emoji: E.reroll, modal: 'remix', group: GROUP.gridUpscale };
  }
  if ((m = /^MJ::JOB::variation::([1-4])::/i.exec(id))) {
    const n = Number(m[1]);
    return { kind: 'variation', index: n, labelKey: 'buttons.variation', label: `V${n}`, modal: 'remix', group: GROUP.gridVariation };
  }

  // an upscaled single image
  if ((m = /^MJ::JOB::upsample_([^:]+)::/i.exec(id))) {
    const variant = (m[1] ?? '').toLowerCase();
    const which = /subtle/.test(variant) ? 'subtle' : /creative/.test(variant) ? 'creative' : /_4x$/.test(variant) ? '4x' : /_2x$/.test(variant) ? '2x' : null;
    const hd = which ? HD[which] : undefined;
    if (hd) return { kind: hd.kind, labelKey: hd.labelKey, label: hd.label, emoji: E.upscale, modal: 'never', group: GROUP.hdUpscale };
    return null;
  }
  if (/^MJ::JOB::low_variation::/i.test(id)) {
    return { kind: 'vary-subtle', labelKey: 'buttons.varySubtle', label: 'Vary (Subtle)', emoji: E.wand, modal: 'remix', group: GROUP.vary };
  }
  if (/^MJ::JOB::high_variation::/i.test(id)) {
    return { kind: 'vary-strong', labelKey: 'buttons.varyStrong', label: 'Vary (Strong)', emoji: E.wand, modal: 'remix', group: GROUP.vary };
  }
  if (/^MJ::Inpaint::/i.test(id)) {
    return { kind: 'vary-region', labelKey: 'buttons.varyRegion', label: 'Vary (Region)', emoji: E.brush, modal: 'always', group: GROUP.vary };
  }
  if ((m = /^MJ::Outpaint::(\d+)::/i.exec(id))) {
    switch (m[1]) {
      case '50':
        return { kind: 'zoom-out-2x', labelKey: 'buttons.zoomOut2x', label: 'Zoom Out 2x', emoji: E.zoom, modal: 'never', group: GROUP.zoom };
      case '75':
        return { kind: 'zoom-out-1.5x', labelKey: 'buttons.zoomOut1_5x', label: 'Zoom Out 1.5x', emoji: E.zoom, modal: 'never', group: GROUP.zoom };
      case '100':
        return { kind: 'make-square', labelKey: 'buttons.makeSquare', label: 'Make Square', emoji: E.square, modal: 'never', group: GROUP.zoom };
      default:
        return null;
    }
  }
  if (/^MJ::CustomZoom::/i.test(id)) {
    return { kind: 'custom-zoom', labelKey: 'buttons.customZoom', label: 'Custom Zoom', emoji: E.zoom, modal: 'always', group: GROUP.zoom };
  }
  if ((m = /^MJ::JOB::pan_(left|right|up|down)::/i.exec(id))) {
    const p = PAN[(m[1] ?? '').toLowerCase()];
    if (p) return { kind: p.kind, labelKey: null, label: '', emoji: p.emoji, modal: 'remix', group: GROUP.pan };
  }
  if ((m = /^MJ::JOB::animate_(high|low)_extend::([1-4])::/i.exec(id))) {
    const high = (m[1] ?? '').toLowerCase() === 'high';
    const n = Number(m[2]);
    return high
      ? { kind: 'animate-high', index: n, labelKey: 'buttons.extendHigh', label: 'Extend (High motion)', emoji: E.film, modal: 'remix', group: GROUP.animate }
      : { kind: 'animate-low', index: n, labelKey: 'buttons.extendLow', label: 'Extend (Low motion)', emoji: E.film, modal: 'remix', group: GROUP.animate };
  }
  if ((m = /^MJ::JOB::animate_(high|low)::/i.exec(id))) {
    return (m[1] ?? '').toLowerCase() === 'high'
      ? { kind: 'animate-high', labelKey: 'buttons.animateHigh', label: 'Animate (High motion)', emoji: E.film, modal: 'remix', group: GROUP.animate }
      : { kind: 'animate-low', labelKey: 'buttons.animateLow', label: 'Animate (Low motion)', emoji: E.film, modal: 'remix', group: GROUP.animate };
  }
  if (/^MJ::BOOKMARK::/i.test(id)) {
    return { kind: 'bookmark', labelKey: null, label: '', emoji: E.heart, modal: 'never', group: GROUP.pan };
  }

  // describe (PicReader) and shorten (PromptAnalyzer) results
  if (/^MJ::Job::PicReader::all(?:::|$)/i.test(id)) {
    return { kind: 'describe-all', labelKey: 'buttons.imagineAll', label: 'Imagine all', emoji: E.party, modal: 'never', group: GROUP.gridVariation };
  }
  if ((m = /^MJ::Job::PicReader::([1-4])(?:::|$)/i.exec(id))) {
    const n = Number(m[1]);
    return { kind: 'describe-pick', index: n, labelKey: null, label: String(n), modal: 'always', group: GROUP.gridUpscale };
  }
  if (/^MJ::Picread::Retry(?:::|$)/i.test(id)) {
    return { kind: 'describe-retry', labelKey: null, label: '', emoji: E.reroll, modal: 'never', group: GROUP.gridUpscale };
  }
  if (/^MJ::Job::PromptAnalyzer::/i.test(id)) {
    // middle segment(s) not captured: the candidate number is the last 1..5 segment
    const n = id
      .split('::')
      .reverse()
      .find((s) => /^[1-5]$/.test(s));
    if (n) {
      return { kind: 'shorten-pick', index: Number(n), labelKey: null, label: n, modal: 'remix', group: GROUP.gridUpscale };
    }
  }
  // "Show Details" (plus) — customId not captured; recognise by label or an obvious id
  if (/^show\s*details$/i.test(proxyLabel.trim()) || /^MJ::[^]*details/i.test(id)) {
    return { kind: 'shorten-details', labelKey: 'buttons.showDetails', label: 'Show Details', modal: 'never', group: GROUP.gridVariation };
  }
  return null;
}

const KEYCAP = /^[0-9#*]\uFE0F?\u20E3$/u;
const FLAG = /^\p{Regional_Indicator}{2}$/u;
const PICTO = /\p{Extended_Pictographic}/u;
const FORBIDDEN_IN_EMOJI = /[\p{L}\p{N}_:<>\s]/u;
const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** true for exactly one Unicode emoji (a grapheme), never a custom emoji name like `upscale_1` */
export function isUnicodeEmoji(s: string | undefined | null): s is string {
  if (!s) return false;
  const graphemes = [...segmenter.segment(s)];
  if (graphemes.length !== 1) return false;
  if (KEYCAP.test(s) || FLAG.test(s)) return true;
  if (!PICTO.test(s)) return false;
  // the pictograph may carry modifiers/ZWJ/VS16, but no letters, digits or markup
  return !FORBIDDEN_IN_EMOJI.test(s);
}

function clampLabel(label: string): string {
  const chars = Array.from(label);
  return chars.length > MAX_LABEL ? `${chars.slice(0, MAX_LABEL - 1).join('')}…` : label;
}

function styleOf(s: number | undefined): 1 | 2 | 3 | 4 {
  return s === 1 || s === 2 || s === 3 || s === 4 ? s : 2;
}

function isDrawable(b: MjButton | null | undefined): b is MjButton {
  if (!b || typeof b.customId !== 'string' || b.customId.trim() === '') return false;
  if (b.type !== undefined && b.type !== null && b.type !== 2) return false; // selects etc.
  if (b.style === 5 || b.style === 6) return false; // link / premium buttons
  return true;
}

function mapOne(b: MjButton): MappedButton | null {
  if (!isDrawable(b)) return null;
  const proxyLabel = typeof b.label === 'string' ? b.label.trim() : '';
  const spec = recognise(b.customId, proxyLabel);
  const style = styleOf(b.style);
  if (spec) {
    const out: MappedButton = {
      customId: b.customId,
      kind: spec.kind,
      labelKey: spec.labelKey,
      label: spec.label,
      style,
      modal: spec.modal,
      group: spec.group,
    };
    if (spec.index !== undefined) out.index = spec.index;
    if (spec.emoji) out.emoji = spec.emoji;
    return out;
  }
  const out: MappedButton = {
    customId: b.customId,
    kind: 'unknown',
    labelKey: proxyLabel ? null : 'buttons.action',
    label: proxyLabel ? clampLabel(proxyLabel) : 'Action',
    style,
    modal: 'never',
    group: GROUP.unknown,
  };
  const emoji = typeof b.emoji === 'string' ? b.emoji.trim() : '';
  if (isUnicodeEmoji(emoji)) out.emoji = emoji;
  return out;
}

/** One upstream button → what is drawn; null = hidden (no customId, link/premium buttons, ❤️ bookmark). */
export function mapButton(b: MjButton): MappedButton | null {
  const m = mapOne(b);
  return m && m.kind !== 'bookmark' ? m : null;
}

export interface MapButtonsOptions {
  flavor?: MjFlavor | undefined;
  /** customId patterns to hide (e.g. /PromptAnalyzer/, /BOOKMARK/ on trueai v11) */
  disabled?: RegExp[] | undefined;
  /** draw the ❤️ bookmark button (hidden by default) */
  showBookmark?: boolean | undefined;
}

const NOVICEZK_KINDS: ReadonlySet<ButtonKind> = new Set(['upscale', 'variation', 'reroll']);

function matchesAny(patterns: RegExp[] | undefined, s: string): boolean {
  if (!patterns) return false;
  return patterns.some((re) => {
    re.lastIndex = 0; // tolerate /g and /y patterns
    return re.test(s);
  });
}

/** Map, filter and dedupe (by customId, first wins) a task's buttons, in upstream order. */
export function mapButtons(bs: MjButton[] | undefined | null, opts: MapButtonsOptions = {}): MappedButton[] {
  const out: MappedButton[] = [];
  const seen = new Set<string>();
  for (const b of bs ?? []) {
    const m = mapOne(b);
    if (!m || seen.has(m.customId)) continue;
    if (m.kind === 'bookmark' && !opts.showBookmark) continue;
    if (opts.flavor === 'novicezk' && !NOVICEZK_KINDS.has(m.kind)) continue;
    if (matchesAny(opts.disabled, m.customId)) continue;
    seen.add(m.customId);
    out.push(m);
  }
  return out;
}

/** order of a kind inside its group, then by index; unknown buttons keep their input order */
const RANK: Record<ButtonKind, number> = {
  upscale: 0,
  variation: 0,
  reroll: 1,
  'upscale-subtle': 0,
  'upscale-creative': 1,
  'upscale-2x': 2,
  'upscale-4x': 3,
  'vary-subtle': 0,
  'vary-strong': 1,
  'vary-region': 2,
  'zoom-out-2x': 0,
  'zoom-out-1.5x': 1,
  'custom-zoom': 2,
  'make-square': 3,
  'pan-left': 0,
  'pan-right': 1,
  'pan-up': 2,
  'pan-down': 3,
  bookmark: 4,
  'animate-high': 0,
  'animate-low': 1,
  'describe-pick': 0,
  'describe-retry': 1,
  'describe-all': 0,
  'shorten-pick': 0,
  'shorten-details': 0,
  unknown: 0,
};

/**
 * Rows of ≤ 5 buttons, ≤ maxRows rows, Midjourney-like order: one row per group (a group larger than
 * 5 spills into further rows), groups ascending, inside a group by kind then index then input order.
 * When there are too many rows, adjacent rows that fit together (≤ 5) are merged, smallest first
 * (the upscale panel becomes "Upscale ×2 + Vary ×3" in 4 rows); what still does not fit is dropped
 * from the end (last row first, then last button first).
 */
export function layoutButtons(bs: MappedButton[], maxRows = 5): MappedButton[][] {
  const limit = Math.max(0, Math.floor(maxRows));
  const sorted = bs
    .map((b, i) => ({ b, i, rank: RANK[b.kind] }))
    .sort((x, y) => x.b.group - y.b.group || x.rank - y.rank || (x.b.index ?? 0) - (y.b.index ?? 0) || x.i - y.i)
    .map((x) => x.b);

  const rows: MappedButton[][] = [];
  let current: MappedButton[] = [];
  let currentGroup: number | undefined;
  for (const b of sorted) {
    if (current.length > 0 && (b.group !== currentGroup || current.length >= MAX_PER_ROW)) {
      rows.push(current);
      current = [];
    }
    currentGroup = b.group;
    current.push(b);
  }
  if (current.length > 0) rows.push(current);

  while (rows.length > limit) {
    let best = -1;
    let bestSize = Infinity;
    for (let i = 0; i + 1 < rows.length; i++) {
      const size = (rows[i]?.length ?? 0) + (rows[i + 1]?.length ?? 0);
      if (size <= MAX_PER_ROW && size < bestSize) {
        best = i;
        bestSize = size;
      }
    }
    if (best < 0) break;
    const [a, b] = rows.splice(best, 2) as [MappedButton[], MappedButton[]];
    rows.splice(best, 0, [...a, ...b]);
  }
  return rows.slice(0, limit);
}

/**
 * The grid buttons (U1–U4, 🔄, V1–V4) of a job, for flavours whose tasks carry none (novicezk, task-form): their
 * customIds follow from the Midjourney job hash alone (`MJ::JOB::upsample::<n>::<hash>` …).
 */
export function gridButtonsFromHash(hash: string): MjButton[] {
  const h = hash.trim();
  if (!h || /[\s]|::/.test(h)) return [];
  const out: MjButton[] = [];
  for (let n = 1; n <= 4; n++) out.push({ customId: `MJ::JOB::upsample::${n}::${h}`, emoji: '', label: `U${n}`, style: 2, type: 2 });
  out.push({ customId: `MJ::JOB::reroll::0::${h}::SOLO`, emoji: E.reroll, label: '', style: 2, type: 2 });
  for (let n = 1; n <= 4; n++) out.push({ customId: `MJ::JOB::variation::${n}::${h}`, emoji: '', label: `V${n}`, style: 2, type: 2 });
  return out;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** The Midjourney job hash: `properties.messageHash`, else the UUID in the result image's file name (or path). */
export function hashFromTask(task: { properties?: { messageHash?: string | undefined } | null; imageUrl?: string | null }): string | null {
  const mh = task.properties?.messageHash;
  if (typeof mh === 'string' && mh.trim() && !/\s/.test(mh.trim())) return mh.trim();
  const url = task.imageUrl;
  if (typeof url !== 'string' || !url) return null;
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    path = url.split(/[?#]/)[0] ?? '';
  }
  const segments = path.split('/').filter(Boolean);
  for (const seg of segments.reverse()) {
    const found = seg.match(UUID);
    if (found && found.length > 0) return found[found.length - 1] ?? null;
  }
  return null;
}
