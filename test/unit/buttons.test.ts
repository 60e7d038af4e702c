import { describe, expect, it } from 'vitest';
import {
  gridButtonsFromHash,
  hashFromTask,
  isUnicodeEmoji,
  layoutButtons,
  mapButton,
  mapButtons,
  type ButtonKind,
  type MappedButton,
} from '../../src/mj/buttons.js';
import type { MjButton } from '../../src/upstream/mjTypes.js';

const H = '0f3e6a5c-1b2d-4e8f-9a7b-6c5d4e3f2a1b';

const btn = (customId: string, label = '', emoji = '', style = 2): MjButton => ({ customId, label, emoji, style, type: 2 });

interface Row {
  id: string;
  proxyLabel?: string;
  proxyEmoji?: string;
  kind: ButtonKind;
  index?: number;
  labelKey: string | null;
  label: string;
  emoji?: string;
  modal: 'always' | 'remix' | 'never';
  group: number;
}

// Every entry of mj-proxy.md §7.2–7.4 as the proxy sends it, and what the bot must draw.
const CATALOGUE: Row[] = [
  // §7.2 grid
  ...[1, 2, 3, 4].map((n): Row => ({
    id: `MJ::JOB::upsample::${n}::${H}`,
    proxyLabel: `U${n}`,
    kind: 'upscale',
    index: n,
    labelKey: 'buttons.upscale',
    label: `U${n}`,
    modal: 'never',
    group: 0,
  })),
  { id: `MJ::JOB::reroll::0::${H}::SOLO`, proxyEmoji: '🔄', kind: 'reroll', labelKey: null, label: '', emoji: '🔄', modal: 'remix', group: 0 },
  ...[1, 2, 3, 4].map((n): Row => ({
    id: `MJ::JOB::variation::${n}::${H}`,
    proxyLabel: `V${n}`,
    kind: 'variation',
    index: n,
    labelKey: 'buttons.variation',
    label: `V${n}`,
    modal: 'remix',
    group: 1,
  })),
  // §7.3 upscaled image, every {ver}
  ...['v6', 'v6r1', 'v7'].flatMap((ver): Row[] => [
    {
      id: `MJ::JOB::upsample_${ver}_2x_subtle::1::${H}::SOLO`,
      proxyLabel: 'Upscale (Subtle)',
      proxyEmoji: 'upscale_1',
      kind: 'upscale-subtle',
      labelKey: 'buttons.upscaleSubtle',
      label: 'Upscale (Subtle)',
      emoji: '⏫',
      modal: 'never',
      group: 0,
    },
    {
      id: `MJ::JOB::upsample_${ver}_2x_creative::1::${H}::SOLO`,
      proxyLabel: 'Upscale (Creative)',
      proxyEmoji: 'upscale_1',
      kind: 'upscale-creative',
      labelKey: 'buttons.upscaleCreative',
      label: 'Upscale (Creative)',
      emoji: '⏫',
      modal: 'never',
      group: 0,
    },
  ]),
  {
    id: `MJ::JOB::upsample_v5_2x::1::${H}::SOLO`,
    proxyLabel: 'Upscale (2x)',
    kind: 'upscale-2x',
    labelKey: 'buttons.upscale2x',
    label: 'Upscale (2x)',
    emoji: '⏫',
    modal: 'never',
    group: 0,
  },
  {
    id: `MJ::JOB::upsample_v5_4x::1::${H}::SOLO`,
    proxyLabel: 'Upscale (4x)',
    kind: 'upscale-4x',
    labelKey: 'buttons.upscale4x',
    label: 'Upscale (4x)',
    emoji: '⏫',
    modal: 'never',
    group: 0,
  },
  {
    id: `MJ::JOB::low_variation::1::${H}::SOLO`,
    proxyLabel: 'Vary (Subtle)',
    proxyEmoji: '🪄',
    kind: 'vary-subtle',
    labelKey: 'buttons.varySubtle',
    label: 'Vary (Subtle)',
    emoji: '🪄',
    modal: 'remix',
    group: 1,
  },
  {
    id: `MJ::JOB::high_variation::1::${H}::SOLO`,
    proxyLabel: 'Vary (Strong)',
    proxyEmoji: '🪄',
    kind: 'vary-strong',
    labelKey: 'buttons.varyStrong',
    label: 'Vary (Strong)',
    emoji: '🪄',
    modal: 'remix',
    group: 1,
  },
  {
    id: `MJ::Inpaint::1::${H}::SOLO`,
    proxyLabel: 'Vary (Region)',
    proxyEmoji: '🖌️',
    kind: 'vary-region',
    labelKey: 'buttons.varyRegion',
    label: 'Vary (Region)',
    emoji: '🖌️',
    modal: 'always',
    group: 1,
  },
  {
    id: `MJ::Outpaint::50::1::${H}::SOLO`,
    proxyLabel: 'Zoom Out 2x',
    proxyEmoji: '🔍',
    kind: 'zoom-out-2x',
    labelKey: 'buttons.zoomOut2x',
    label: 'Zoom Out 2x',
    emoji: '🔍',
    modal: 'never',
    group: 2,
  },
  {
    id: `MJ::Outpaint::75::1::${H}::SOLO`,
    proxyLabel: 'Zoom Out 1.5x',
    proxyEmoji: '🔍',
    kind: 'zoom-out-1.5x',
    labelKey: 'buttons.zoomOut1_5x',
    label: 'Zoom Out 1.5x',
    emoji: '🔍',
    modal: 'never',
    group: 2,
  },
  {
    id: `MJ::CustomZoom::${H}`,
    proxyLabel: 'Custom Zoom',
    proxyEmoji: '🔍',
    kind: 'custom-zoom',
    labelKey: 'buttons.customZoom',
    label: 'Custom Zoom',
    emoji: '🔍',
    modal: 'always',
    group: 2,
  },
  {
    id: `MJ::CustomZoom::1::${H}`,
    proxyLabel: 'Custom Zoom',
    proxyEmoji: '🔍',
    kind: 'custom-zoom',
    labelKey: 'buttons.customZoom',
    label: 'Custom Zoom',
    emoji: '🔍',
    modal: 'always',
    group: 2,
  },
  {
    id: `MJ::Outpaint::100::1::${H}::SOLO`,
    proxyLabel: 'Make Square',
    kind: 'make-square',
    labelKey: 'buttons.makeSquare',
    label: 'Make Square',
    emoji: '↔️',
    modal: 'never',
    group: 2,
  },
  { id: `MJ::JOB::pan_left::1::${H}::SOLO`, proxyEmoji: '⬅️', kind: 'pan-left', labelKey: null, label: '', emoji: '⬅️', modal: 'remix', group: 3 },
  { id: `MJ::JOB::pan_right::1::${H}::SOLO`, proxyEmoji: '➡️', kind: 'pan-right', labelKey: null, label: '', emoji: '➡️', modal: 'remix', group: 3 },
  { id: `MJ::JOB::pan_up::1::${H}::SOLO`, proxyEmoji: '⬆️', kind: 'pan-up', labelKey: null, label: '', emoji: '⬆️', modal: 'remix', group: 3 },
  { id: `MJ::JOB::pan_down::1::${H}::SOLO`, proxyEmoji: '⬇️', kind: 'pan-down', labelKey: null, label: '', emoji: '⬇️', modal: 'remix', group: 3 },
  {
    id: `MJ::JOB::animate_high::1::${H}::SOLO`,
    proxyLabel: 'Animate (High motion)',
    proxyEmoji: '🎞️',
    kind: 'animate-high',
    labelKey: 'buttons.animateHigh',
    label: 'Animate (High motion)',
    emoji: '🎞️',
    modal: 'remix',
    group: 4,
  },
  {
    id: `MJ::JOB::animate_low::1::${H}::SOLO`,
    proxyLabel: 'Animate (Low motion)',
    proxyEmoji: '🎞️',
    kind: 'animate-low',
    labelKey: 'buttons.animateLow',
    label: 'Animate (Low motion)',
    emoji: '🎞️',
    modal: 'remix',
    group: 4,
  },
  // TA video results
  {
    id: `MJ::JOB::video_virtual_upscale::2::${H}`,
    proxyLabel: 'U2',
    kind: 'upscale',
    index: 2,
    labelKey: 'buttons.upscale',
    label: 'U2',
    modal: 'never',
    group: 0,
  },
  {
    id: `MJ::JOB::animate_high_extend::3::${H}`,
    proxyLabel: 'Extend (High motion)',
    proxyEmoji: '🎞️',
    kind: 'animate-high',
    index: 3,
    labelKey: 'buttons.extendHigh',
    label: 'Extend (High motion)',
    emoji: '🎞️',
    modal: 'remix',
    group: 4,
  },
  {
    id: `MJ::JOB::animate_low_extend::1::${H}`,
    proxyLabel: 'Extend (Low motion)',
    proxyEmoji: '🎞️',
    kind: 'animate-low',
    index: 1,
    labelKey: 'buttons.extendLow',
    label: 'Extend (Low motion)',
    emoji: '🎞️',
    modal: 'remix',
    group: 4,
  },
  // §7.4 describe
  ...[1, 2, 3, 4].map((n): Row => ({
    id: `MJ::Job::PicReader::${n}`,
    proxyEmoji: `${n}\uFE0F\u20E3`,
    kind: 'describe-pick',
    index: n,
    labelKey: null,
    label: String(n),
    modal: 'always',
    group: 0,
  })),
  { id: 'MJ::Picread::Retry', proxyEmoji: '\\ud83d\\udd04', kind: 'describe-retry', labelKey: null, label: '', emoji: '🔄', modal: 'never', group: 0 },
  {
    id: 'MJ::Job::PicReader::all',
    proxyLabel: '🎉 Imagine all',
    kind: 'describe-all',
    labelKey: 'buttons.imagineAll',
    label: 'Imagine all',
    emoji: '🎉',
    modal: 'never',
    group: 1,
  },
  // §7.4 shorten (middle segment not captured: any)
  ...[1, 2, 3, 4, 5].map((n): Row => ({
    id: `MJ::Job::PromptAnalyzer::${H}::${n}`,
    proxyEmoji: `${n}\uFE0F\u20E3`,
    kind: 'shorten-pick',
    index: n,
    labelKey: null,
    label: String(n),
    modal: 'remix',
    group: 0,
  })),
  { id: 'MJ::Job::PromptAnalyzer::3', kind: 'shorten-pick', index: 3, labelKey: null, label: '3', modal: 'remix', group: 0 },
  {
    id: `MJ::Job::ShowDetails::${H}`,
    proxyLabel: 'Show Details',
    kind: 'shorten-details',
    labelKey: 'buttons.showDetails',
    label: 'Show Details',
    modal: 'never',
    group: 1,
  },
];

describe('mapButton: the §7 catalogue', () => {
  it.each(CATALOGUE.map((r) => [r.id, r] as const))('%s', (_id, r) => {
    const m = mapButton(btn(r.id, r.proxyLabel ?? '', r.proxyEmoji ?? ''));
    expect(m).not.toBeNull();
    const expected: MappedButton = { customId: r.id, kind: r.kind, labelKey: r.labelKey, label: r.label, style: 2, modal: r.modal, group: r.group };
    if (r.index !== undefined) expected.index = r.index;
    if (r.emoji !== undefined) expected.emoji = r.emoji;
    expect(m).toEqual(expected);
    // Discord limits: Unicode emoji only, label ≤ 80, something visible, upstream customId fits in 100
    if (m!.emoji !== undefined) {
      expect(isUnicodeEmoji(m!.emoji)).toBe(true);
      expect(m!.emoji).not.toMatch(/[A-Za-z0-9_:]/);
    }
    expect(m!.label.length).toBeLessThanOrEqual(80);
    expect(m!.label !== '' || m!.emoji !== undefined).toBe(true);
    expect(r.id.length).toBeLessThanOrEqual(100);
  });

  it('never passes Midjourney custom emoji names through', () => {
    for (const r of CATALOGUE) {
      const m = mapButton(btn(r.id, r.proxyLabel ?? '', 'upscale_1'));
      expect(m?.emoji).not.toBe('upscale_1');
    }
  });

  it('keeps upstream styles 1–4 and falls back to 2', () => {
    const id = `MJ::JOB::upsample::1::${H}`;
    expect(mapButton({ customId: id, style: 1 })?.style).toBe(1);
    expect(mapButton({ customId: id, style: 3 })?.style).toBe(3);
    expect(mapButton({ customId: id, style: 4 })?.style).toBe(4);
    expect(mapButton({ customId: id })?.style).toBe(2);
    expect(mapButton({ customId: id, style: 0 })?.style).toBe(2);
    expect(mapButton({ customId: id, style: 9 })?.style).toBe(2);
  });

  it('hides link, premium, non-button and id-less entries, and the bookmark', () => {
    expect(mapButton({ customId: '', label: 'Web', style: 5 })).toBeNull();
    expect(mapButton({ customId: `MJ::JOB::upsample::1::${H}`, label: 'Web', style: 5 })).toBeNull();
    expect(mapButton({ customId: 'x', style: 6 })).toBeNull();
    expect(mapButton({ customId: 'select', type: 3 })).toBeNull();
    expect(mapButton({ customId: '   ' })).toBeNull();
    expect(mapButton({ label: 'no id' } as unknown as MjButton)).toBeNull();
    expect(mapButton(btn(`MJ::BOOKMARK::${H}`, '', '❤️'))).toBeNull();
  });

  it('maps unknown patterns generically', () => {
    expect(mapButton(btn('MJ::Something::New', 'Retexture', '✨'))).toEqual({
      customId: 'MJ::Something::New',
      kind: 'unknown',
      labelKey: null,
      label: 'Retexture',
      emoji: '✨',
      style: 2,
      modal: 'never',
      group: 5,
    });
    const noLabel = mapButton(btn('MJ::Other', '', 'upscale_1'));
    expect(noLabel).toMatchObject({ kind: 'unknown', label: 'Action', labelKey: 'buttons.action' });
    expect(noLabel?.emoji).toBeUndefined();
    expect(mapButton(btn('MJ::Other', 'X', '🔄🔄'))?.emoji).toBeUndefined();
    expect(mapButton(btn('MJ::Other', 'X', '<:mj:123>'))?.emoji).toBeUndefined();
    expect(mapButton(btn('MJ::Other', 'X', '👍🏽'))?.emoji).toBe('👍🏽');
    const long = mapButton(btn('MJ::Other', 'a'.repeat(120)));
    expect(long?.label.length).toBe(80);
    expect(long?.label.endsWith('…')).toBe(true);
    // unrecognised variants of known families are unknown, not mislabelled
    expect(mapButton(btn(`MJ::Outpaint::60::1::${H}::SOLO`, 'Zoom Out 1.7x'))?.kind).toBe('unknown');
    expect(mapButton(btn(`MJ::JOB::upsample_v9_magic::1::${H}::SOLO`, 'Upscale (Magic)'))?.kind).toBe('unknown');
  });

  it('isUnicodeEmoji', () => {
    for (const ok of ['🔄', '⬆️', '1️⃣', '🇫🇷', '👩‍🎨', '❤️']) expect(isUnicodeEmoji(ok), ok).toBe(true);
    for (const bad of ['', 'upscale_1', 'a', '1', '🔄x', '<:x:1>', ':heart:', '🔄🔄', undefined, null]) expect(isUnicodeEmoji(bad), String(bad)).toBe(false);
  });
});

const grid = (): MjButton[] => [
  ...[1, 2, 3, 4].map((n) => btn(`MJ::JOB::upsample::${n}::${H}`, `U${n}`)),
  btn(`MJ::JOB::reroll::0::${H}::SOLO`, '', '🔄'),
  ...[1, 2, 3, 4].map((n) => btn(`MJ::JOB::variation::${n}::${H}`, `V${n}`)),
];

const panel = (): MjButton[] => [
  btn(`MJ::JOB::upsample_v7_2x_subtle::1::${H}::SOLO`, 'Upscale (Subtle)', 'upscale_1'),
  btn(`MJ::JOB::upsample_v7_2x_creative::1::${H}::SOLO`, 'Upscale (Creative)', 'upscale_1'),
  btn(`MJ::JOB::low_variation::1::${H}::SOLO`, 'Vary (Subtle)', '🪄'),
  btn(`MJ::JOB::high_variation::1::${H}::SOLO`, 'Vary (Strong)', '🪄'),
  btn(`MJ::Inpaint::1::${H}::SOLO`, 'Vary (Region)', '🖌️'),
  btn(`MJ::Outpaint::50::1::${H}::SOLO`, 'Zoom Out 2x', '🔍'),
  btn(`MJ::Outpaint::75::1::${H}::SOLO`, 'Zoom Out 1.5x', '🔍'),
  btn(`MJ::CustomZoom::${H}`, 'Custom Zoom', '🔍'),
  btn(`MJ::Outpaint::100::1::${H}::SOLO`, 'Make Square'),
  btn(`MJ::JOB::pan_left::1::${H}::SOLO`, '', '⬅️'),
  btn(`MJ::JOB::pan_right::1::${H}::SOLO`, '', '➡️'),
  btn(`MJ::JOB::pan_up::1::${H}::SOLO`, '', '⬆️'),
  btn(`MJ::JOB::pan_down::1::${H}::SOLO`, '', '⬇️'),
  btn(`MJ::JOB::animate_high::1::${H}::SOLO`, 'Animate (High motion)', '🎞️'),
  btn(`MJ::JOB::animate_low::1::${H}::SOLO`, 'Animate (Low motion)', '🎞️'),
  btn(`MJ::BOOKMARK::${H}`, '', '❤️'),
  { customId: '', label: 'Web', style: 5, type: 2 },
];

const kinds = (rows: MappedButton[][]) => rows.map((r) => r.map((b) => (b.index ? `${b.kind}${b.index}` : b.kind)));

function shuffle<T>(xs: T[], seed = 7): T[] {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function expectDiscordSafe(rows: MappedButton[][], maxRows = 5) {
  expect(rows.length).toBeLessThanOrEqual(maxRows);
  const ids = new Set<string>();
  for (const r of rows) {
    expect(r.length).toBeGreaterThan(0);
    expect(r.length).toBeLessThanOrEqual(5);
    for (const b of r) {
      expect(ids.has(b.customId)).toBe(false);
      ids.add(b.customId);
      expect(b.customId.length).toBeLessThanOrEqual(100);
      expect(b.label.length).toBeLessThanOrEqual(80);
    }
  }
}

describe('mapButtons', () => {
  it('filters link buttons and the bookmark by default, keeps upstream order, dedupes by customId', () => {
    const bs = mapButtons([...panel(), panel()[0]!]);
    expect(bs.map((b) => b.kind)).toEqual([
      'upscale-subtle',
      'upscale-creative',
      'vary-subtle',
      'vary-strong',
      'vary-region',
      'zoom-out-2x',
      'zoom-out-1.5x',
      'custom-zoom',
      'make-square',
      'pan-left',
      'pan-right',
      'pan-up',
      'pan-down',
      'animate-high',
      'animate-low',
    ]);
  });

  it('shows the bookmark on request', () => {
    const bs = mapButtons(panel(), { showBookmark: true });
    expect(bs.find((b) => b.kind === 'bookmark')).toMatchObject({ emoji: '❤️', label: '', modal: 'never', group: 3 });
  });

  it('novicezk keeps only upscale, variation and reroll', () => {
    const bs = mapButtons([...grid(), ...panel(), btn('MJ::Job::PicReader::1'), btn('MJ::Strange', 'Strange')], { flavor: 'novicezk', showBookmark: true });
    expect(new Set(bs.map((b) => b.kind))).toEqual(new Set(['upscale', 'variation', 'reroll']));
    expect(bs).toHaveLength(9);
    expect(mapButtons(panel(), { flavor: 'novicezk' })).toEqual([]);
  });

  it('hides buttons matching `disabled` patterns (TA v11), including /g patterns used twice', () => {
    const shorten = [1, 2, 3, 4, 5].map((n) => btn(`MJ::Job::PromptAnalyzer::x::${n}`, '', `${n}️⃣`));
    const disabled = [/PromptAnalyzer/g, /^MJ::BOOKMARK::/];
    const opts = { flavor: 'trueai' as const, disabled, showBookmark: true };
    expect(mapButtons([...shorten, ...panel()], opts).some((b) => b.kind === 'shorten-pick' || b.kind === 'bookmark')).toBe(false);
    expect(mapButtons([...shorten, ...panel()], opts)).toHaveLength(15);
    expect(mapButtons(grid(), { disabled: [/variation/] }).map((b) => b.kind)).toEqual(['upscale', 'upscale', 'upscale', 'upscale', 'reroll']);
  });

  it('tolerates undefined, null entries and garbage', () => {
    expect(mapButtons(undefined)).toEqual([]);
    expect(mapButtons([null as unknown as MjButton, { customId: 42 } as unknown as MjButton, btn(`MJ::JOB::upsample::1::${H}`, 'U1')])).toHaveLength(1);
  });
});

describe('layoutButtons', () => {
  it('grid: U1 U2 U3 U4 🔄 / V1 V2 V3 V4, whatever the input order', () => {
    for (const input of [grid(), shuffle(grid()), [...grid()].reverse()]) {
      const rows = layoutButtons(mapButtons(input));
      expect(kinds(rows)).toEqual([
        ['upscale1', 'upscale2', 'upscale3', 'upscale4', 'reroll'],
        ['variation1', 'variation2', 'variation3', 'variation4'],
      ]);
      expectDiscordSafe(rows);
    }
  });

  it('upscale panel: one row per kind, Midjourney order, ≤ 5 rows of ≤ 5', () => {
    const rows = layoutButtons(mapButtons(shuffle(panel(), 3), { showBookmark: true }));
    expect(kinds(rows)).toEqual([
      ['upscale-subtle', 'upscale-creative'],
      ['vary-subtle', 'vary-strong', 'vary-region'],
      ['zoom-out-2x', 'zoom-out-1.5x', 'custom-zoom', 'make-square'],
      ['pan-left', 'pan-right', 'pan-up', 'pan-down', 'bookmark'],
      ['animate-high', 'animate-low'],
    ]);
    expectDiscordSafe(rows);
  });

  it('v5.2 panel with Upscale 2x/4x', () => {
    const v5 = [
      btn(`MJ::JOB::upsample_v5_4x::1::${H}::SOLO`, 'Upscale (4x)'),
      btn(`MJ::JOB::upsample_v5_2x::1::${H}::SOLO`, 'Upscale (2x)'),
      ...panel().slice(2, 13),
    ];
    const rows = layoutButtons(mapButtons(v5));
    expect(kinds(rows)[0]).toEqual(['upscale-2x', 'upscale-4x']);
    expect(rows).toHaveLength(4);
    expectDiscordSafe(rows);
  });

  it('with 4 rows (one left for the bot) the panel merges Upscale + Vary and keeps every button', () => {
    const mapped = mapButtons(panel());
    const rows = layoutButtons(mapped, 4);
    expect(kinds(rows)).toEqual([
      ['upscale-subtle', 'upscale-creative', 'vary-subtle', 'vary-strong', 'vary-region'],
      ['zoom-out-2x', 'zoom-out-1.5x', 'custom-zoom', 'make-square'],
      ['pan-left', 'pan-right', 'pan-up', 'pan-down'],
      ['animate-high', 'animate-low'],
    ]);
    expect(rows.flat()).toHaveLength(mapped.length);
    expectDiscordSafe(rows, 4);
  });

  it('drops overflow from the end when nothing can merge', () => {
    const rows = layoutButtons(mapButtons(panel()), 3);
    expect(kinds(rows)).toEqual([
      ['upscale-subtle', 'upscale-creative', 'vary-subtle', 'vary-strong', 'vary-region'],
      ['zoom-out-2x', 'zoom-out-1.5x', 'custom-zoom', 'make-square'],
      ['pan-left', 'pan-right', 'pan-up', 'pan-down'],
    ]);
    expect(layoutButtons(mapButtons(grid()), 1)).toHaveLength(1);
    expect(layoutButtons(mapButtons(grid()), 0)).toEqual([]);
  });

  it('spills a large group into rows of 5 and caps at maxRows', () => {
    const many = Array.from({ length: 32 }, (_, i) => btn(`MJ::Thing::${i}`, `T${i}`));
    const rows = layoutButtons(mapButtons(many));
    expect(rows.map((r) => r.length)).toEqual([5, 5, 5, 5, 5]);
    expect(rows[0]![0]!.label).toBe('T0'); // unknown buttons keep input order
    expect(rows[4]![4]!.label).toBe('T24');
    expectDiscordSafe(rows);
  });

  it('describe: 1 2 3 4 🔄 / 🎉 Imagine all', () => {
    const describeButtons = [
      btn('MJ::Job::PicReader::all', '🎉 Imagine all'),
      btn('MJ::Picread::Retry', '', '🔄'),
      ...[4, 3, 2, 1].map((n) => btn(`MJ::Job::PicReader::${n}`, '', `${n}️⃣`)),
    ];
    const rows = layoutButtons(mapButtons(describeButtons));
    expect(kinds(rows)).toEqual([['describe-pick1', 'describe-pick2', 'describe-pick3', 'describe-pick4', 'describe-retry'], ['describe-all']]);
    expect(rows[0]!.map((b) => b.label)).toEqual(['1', '2', '3', '4', '']);
    expect(rows[0]!.slice(0, 4).every((b) => b.emoji === undefined)).toBe(true);
  });

  it('shorten: 1..5 / Show Details', () => {
    const shortenButtons = [
      btn('MJ::Job::ShowDetails::x', 'Show Details'),
      ...[5, 4, 3, 2, 1].map((n) => btn(`MJ::Job::PromptAnalyzer::abc::${n}`, '', `${n}️⃣`)),
    ];
    const rows = layoutButtons(mapButtons(shortenButtons));
    expect(rows.map((r) => r.map((b) => b.label))).toEqual([['1', '2', '3', '4', '5'], ['Show Details']]);
  });

  it('does not mutate its input', () => {
    const mapped = mapButtons(shuffle(grid()));
    const copy = structuredClone(mapped);
    layoutButtons(mapped);
    expect(mapped).toEqual(copy);
  });
});

describe('grid customIds from the job hash (§3.8)', () => {
  it('builds U1–U4, 🔄, V1–V4 that round-trip through mapButton', () => {
    const bs = gridButtonsFromHash(H);
    expect(bs.map((b) => b.customId)).toEqual([
      `MJ::JOB::upsample::1::${H}`,
      `MJ::JOB::upsample::2::${H}`,
      `MJ::JOB::upsample::3::${H}`,
      `MJ::JOB::upsample::4::${H}`,
      `MJ::JOB::reroll::0::${H}::SOLO`,
      `MJ::JOB::variation::1::${H}`,
      `MJ::JOB::variation::2::${H}`,
      `MJ::JOB::variation::3::${H}`,
      `MJ::JOB::variation::4::${H}`,
    ]);
    const mapped = bs.map((b) => mapButton(b));
    expect(mapped.map((m) => (m?.index ? `${m.kind}${m.index}` : m?.kind))).toEqual([
      'upscale1',
      'upscale2',
      'upscale3',
      'upscale4',
      'reroll',
      'variation1',
      'variation2',
      'variation3',
      'variation4',
    ]);
    const rows = layoutButtons(mapButtons(bs, { flavor: 'novicezk' }));
    expect(rows.map((r) => r.length)).toEqual([5, 4]);
  });

  it('refuses an empty or malformed hash', () => {
    expect(gridButtonsFromHash('')).toEqual([]);
    expect(gridButtonsFromHash('a b')).toEqual([]);
    expect(gridButtonsFromHash('a::b')).toEqual([]);
  });

  it('hashFromTask: messageHash first, else the UUID in the image file name', () => {
    expect(hashFromTask({ properties: { messageHash: H }, imageUrl: 'https://x/y.png' })).toBe(H);
    const other = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
    expect(
      hashFromTask({ properties: {}, imageUrl: `https://cdn.discordapp.com/attachments/1/2/user_a_lighthouse_at_dusk_${other}.png?ex=65f&is=65e&hm=abc&` }),
    ).toBe(other);
    expect(hashFromTask({ properties: { messageHash: '' }, imageUrl: `https://cdn.midjourney.com/${other}/0_0.png` })).toBe(other);
    expect(hashFromTask({ properties: null, imageUrl: `/relative/${other}_grid_0.webp` })).toBe(other);
    expect(hashFromTask({ imageUrl: 'https://cdn.discordapp.com/attachments/1/2/image.png' })).toBeNull();
    expect(hashFromTask({ imageUrl: null })).toBeNull();
    expect(hashFromTask({})).toBeNull();
    // round trip: the hash from the file name gives the same buttons as the messageHash
    const fromUrl = hashFromTask({ imageUrl: `https://cdn.discordapp.com/attachments/1/2/cat_${H}.png` });
    expect(gridButtonsFromHash(fromUrl!)).toEqual(gridButtonsFromHash(H));
  });
});
