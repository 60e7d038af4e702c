/**
 * Message text in Midjourney's manner: `**<prompt>** - <@user> (fast)`. Pure.
 */

export const CONTENT_LIMIT = 2000;
const MODES: ReadonlySet<string> = new Set(['fast', 'relax', 'turbo']);

/**
 * Show text a member or an upstream wrote (a prompt, a describe/shorten result) inside the bot's own message
 * without it posing as the bot's links or layout: every character still shows, but escaped so that
 * - inline markdown cannot break (or leak out of) a surrounding `**…**`: backslash, `*`, `_`, `~`, `` ` ``, `|`;
 * - no masked link `[text](url)` and no autolink `<url>` renders (`[`, `]`, `<` escaped; the address shows as
 *   written, and mentions, channels and emoji in `<…>` stay plain text);
 * - nothing line-level renders at a line start: `>` quotes, `#` headings, `-#` subtext, `-`/`+`/`*`/`1.` lists.
 */
export function escapePromptMarkdown(text: string): string {
  return defuseLineStarts(text.replace(/[\\*_~`|[\]<]/g, (c) => `\\${c}`));
}

/**
 * Only what lets upstream markdown pose as the bot's links: masked links and autolinks (for texts whose own
 * emphasis is meant to show, like shorten's analysis with its bold tokens).
 */
export function defuseLinks(text: string): string {
  return text.replace(/(?<!\\)[[\]<]/g, (c) => `\\${c}`);
}

function defuseLineStarts(text: string): string {
  return text.replace(/^([ \t]*)(>|#{1,3}(?=\s)|-#(?=\s)|[-+](?=\s))/gm, '$1\\$2').replace(/^([ \t]*\d+)\.(?=\s)/gm, '$1\\.');
}

export interface ResultContentInput {
  prompt: string;
  userId: string;
  /** upstream mode (FAST/relax/…); anything but fast/relax/turbo is omitted */
  mode?: string | null | undefined;
  /** the model version the upstream reports ("v 8.1"), shown before the mode: `(v 8.1 · fast)` */
  version?: string | undefined;
  /** before the mention, as Midjourney writes "Image #2" / "Variations (Strong) by" (not escaped) */
  label?: string | undefined;
  /** appended after the byline as is, e.g. `' (46%)'` or `'\n▰▰▱… 20%'` */
  suffix?: string | undefined;
}

/**
 * `**<prompt>** - <label> <@userId> (mode)<suffix>`, at most 2000 chars: the prompt is shortened
 * with `…` to make room; only if the rest alone is too long is the whole clamped.
 */
export function formatResultContent(input: ResultContentInput): string {
  const mode = typeof input.mode === 'string' ? input.mode.trim().toLowerCase() : '';
  const label = input.label?.trim();
  const model = [input.version?.trim(), MODES.has(mode) ? mode : ''].filter(Boolean).join(' · ');
  const tail = ` - ${label ? `${label} ` : ''}<@${input.userId}>${model ? ` (${model})` : ''}${input.suffix ?? ''}`;
  const prompt = (input.prompt ?? '').trim();
  const build = (p: string) => `**${escapePromptMarkdown(p)}**${tail}`;

  const full = build(prompt);
  if (full.length <= CONTENT_LIMIT) return full;

  const budget = CONTENT_LIMIT - tail.length - 4; // the two `**`
  if (budget >= 2) {
    // the longest prefix (in code points) whose escaped form fits: binary search, escaping only grows
    const chars = Array.from(prompt);
    const shortened = (n: number) => build(`${chars.slice(0, n).join('').trimEnd()}…`);
    let lo = 0;
    let hi = Math.min(chars.length, budget - 1);
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (shortened(mid).length <= CONTENT_LIMIT) lo = mid;
      else hi = mid - 1;
    }
    if (lo > 0) return shortened(lo);
  }
  // the tail alone does not fit: clamp the whole text
  return clampUtf16(build('…'), CONTENT_LIMIT);
}

/** Clamp to `max` UTF-16 units (Discord's count) with `…`, never splitting a surrogate pair. */
function clampUtf16(s: string, max: number): string {
  if (s.length <= max) return s;
  let cut = max - 1;
  const code = s.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--;
  return `${s.slice(0, cut)}…`;
}

/** `▰▰▰▰▱▱▱▱▱▱ 40%` (percent clamped to 0–100 and rounded; NaN counts as 0). */
export function progressBar(percent: number, width = 10): string {
  const w = Math.max(1, Math.floor(width));
  const p = Number.isFinite(percent) ? Math.max(0, Math.min(100, Math.round(percent))) : 0;
  const filled = Math.round((p / 100) * w);
  return `${'▰'.repeat(filled)}${'▱'.repeat(w - filled)} ${p}%`;
}
