/**
 * Prompt text helpers: describe/shorten result parsing (keycap-numbered prompts), Custom Zoom validation,
 * parameter handling and user-input validation. Pure.
 */

type Params = Record<string, string | number>;

/** A keycap number: `1️⃣` (also without the variation selector). Global: use with matchAll only. */
const KEYCAP = /([1-9])\uFE0F?\u20E3/gu;

function normalizeNewlines(s: string): string {
  return s.replace(/\r\n?/g, '\n');
}

/** `[text](url)` / `[text](<url>)` → `text` (describe results may link words). */
export function stripMarkdownLinks(s: string): string {
  return s.replace(/\[([^\]\n]+)\]\(<?https?:\/\/[^)\s>]+>?\)/g, '$1');
}

interface Numbered {
  n: number;
  text: string;
  /** where the marker starts */
  at: number;
}

/** Text after each keycap marker, up to the next marker; ordered by number (stable). */
function numberedParts(text: string): { before: string; parts: Numbered[] } {
  const marks = [...text.matchAll(KEYCAP)];
  const first = marks[0];
  if (!first) return { before: text, parts: [] };
  const parts: Numbered[] = marks.map((m, i) => {
    const start = (m.index ?? 0) + m[0].length;
    const end = marks[i + 1]?.index ?? text.length;
    return { n: Number(m[1]), text: text.slice(start, end), at: m.index ?? 0 };
  });
  parts.sort((a, b) => a.n - b.n || a.at - b.at);
  return { before: text.slice(0, first.index ?? 0), parts };
}

function cleanPrompt(s: string): string {
  return stripMarkdownLinks(s)
    .replace(/\s*\n\s*/g, ' ')
    .replace(/[ \t]{2,}/g, ' ')
    .trim();
}

/**
 * The four prompts of a DESCRIBE result (`"1️⃣ a fox --ar 5:4\n\n2️⃣ …"`), split on the keycap markers
 * (not on lines), trimmed, in number order. Text without any marker is returned as one prompt.
 */
export function splitDescribePrompts(finalPrompt: string): string[] {
  const text = normalizeNewlines(finalPrompt ?? '');
  const { parts } = numberedParts(text);
  if (parts.length === 0) {
    const whole = cleanPrompt(text);
    return whole ? [whole] : [];
  }
  return parts.map((p) => cleanPrompt(p.text)).filter((p) => p.length > 0);
}

/**
 * A SHORTEN result: the "important tokens" analysis (markdown kept, the "Shortened prompts" heading
 * removed) and the keycap-numbered candidates (at most 5).
 */
export function parseShorten(finalPrompt: string): { analysis: string; candidates: string[] } {
  const text = normalizeNewlines(finalPrompt ?? '');
  const { before, parts } = numberedParts(text);
  const lines = before.trim().split('\n');
  const last = lines[lines.length - 1] ?? '';
  if (/^shortened prompts?:?$/i.test(last.replace(/[*_#>`]/g, '').trim())) lines.pop();
  const analysis = lines.join('\n').trim();
  const candidates = parts
    .map((p) => cleanPrompt(p.text))
    .filter((p) => p.length > 0)
    .slice(0, 5);
  return { analysis, candidates };
}

// ---------------------------------------------------------------------------------------------
// Parameters

/** `--name` (also `—name` / `–name`, which phones type for `--`) at a word start */
const PARAM_START = /(^|\s)(?:--|—|–)([a-z][\w-]*)/gi;

export interface PromptParam {
  name: string;
  /** the raw value text ('' for flags such as `--tile`) */
  value: string;
}

/** Split a prompt into its text and its `--param value` list (Midjourney: params come last). */
export function splitParams(prompt: string): { text: string; params: PromptParam[] } {
  const marks = [...prompt.matchAll(PARAM_START)];
  const first = marks[0];
  if (!first) return { text: prompt.trim(), params: [] };
  const params = marks.map((m, i) => {
    const start = (m.index ?? 0) + (m[1] ?? '').length;
    const end = marks[i + 1]?.index ?? prompt.length;
    const raw = prompt.slice(start, end);
    const value = raw.replace(/^(?:--|—|–)[a-z][\w-]*/i, '').trim();
    return { name: (m[2] ?? '').toLowerCase(), value };
  });
  return { text: prompt.slice(0, first.index ?? 0).trim(), params };
}

/** Remove parameters from a prompt: all of them, or only the named ones (`['zoom', 'fast']`). */
export function stripParams(prompt: string, names?: readonly string[]): string {
  const { text, params } = splitParams(prompt);
  if (!names) return text;
  const drop = new Set(names.map((n) => n.replace(/^--/, '').toLowerCase()));
  const kept = params.filter((p) => !drop.has(p.name)).map((p) => (p.value ? `--${p.name} ${p.value}` : `--${p.name}`));
  return [text, ...kept].filter(Boolean).join(' ');
}

export type ZoomResult =
  { ok: true; prompt: string; zoom: number } | { ok: false; key: 'errors.zoomOutOfRange' | 'errors.zoomTwice' | 'errors.zoomInvalid'; params?: Params };

export const ZOOM_MIN = 1;
export const ZOOM_MAX = 2;

const ZOOM_PARAM = /(^|\s)(?:--|—|–)zoom(?=\s|=|$)(?:\s*=?\s*([^\s]+))?/gi;

/**
 * Custom Zoom: the prompt must carry exactly one `--zoom v` with 1 ≤ v ≤ 2 (decimals allowed; plus documents the range).
 * Missing → `--zoom <defaultZoom>` is appended. A dash variant (`—zoom`) is normalised to `--zoom`.
 */
export function applyZoom(prompt: string, defaultZoom = 2): ZoomResult {
  const text = prompt.trim();
  const found = [...text.matchAll(ZOOM_PARAM)];
  if (found.length > 1) return { ok: false, key: 'errors.zoomTwice', params: { count: found.length } };
  const m = found[0];
  if (!m) {
    if (!(defaultZoom >= ZOOM_MIN && defaultZoom <= ZOOM_MAX)) {
      return { ok: false, key: 'errors.zoomOutOfRange', params: { value: defaultZoom, min: ZOOM_MIN, max: ZOOM_MAX } };
    }
    return { ok: true, prompt: text ? `${text} --zoom ${defaultZoom}` : `--zoom ${defaultZoom}`, zoom: defaultZoom };
  }
  const raw = m[2];
  // the value must be a plain decimal; `--zoom --ar 2:3` means no value
  if (!raw || !/^(?:\d+(?:\.\d*)?|\.\d+)$/.test(raw)) {
    return { ok: false, key: 'errors.zoomInvalid', params: { value: raw ?? '', min: ZOOM_MIN, max: ZOOM_MAX } };
  }
  const zoom = Number(raw);
  if (!(zoom >= ZOOM_MIN && zoom <= ZOOM_MAX)) {
    return { ok: false, key: 'errors.zoomOutOfRange', params: { value: raw, min: ZOOM_MIN, max: ZOOM_MAX } };
  }
  const at = (m.index ?? 0) + (m[1] ?? '').length;
  const normalized = `${text.slice(0, at)}--zoom ${raw}${text.slice(at + m[0].length - (m[1] ?? '').length)}`;
  return { ok: true, prompt: normalized, zoom };
}

// ---------------------------------------------------------------------------------------------
// Display and validation

/** Leading image URLs the proxy prepends (`<https://…> <https://…> prompt`). */
const LEADING_URLS = /^(?:\s*<?https?:\/\/[^\s>]+>?)+\s*/i;

/** Prompt for display: proxy-prepended image URLs removed, whitespace tidied, clamped to `max` chars with `…`. */
export function promptForDisplay(prompt: string, max = 1500): string {
  const trimmed = (prompt ?? '').trim();
  const stripped = trimmed.replace(LEADING_URLS, '').trim() || trimmed;
  return clampText(stripped, max);
}

/** Clamp to `max` code points with a trailing `…` (never splits a surrogate pair). */
export function clampText(text: string, max: number): string {
  if (text.length <= max) return text;
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

export type PromptCheck = { ok: true; prompt: string } | { ok: false; key: 'errors.promptEmpty' | 'errors.promptTooLong'; params?: Params };

/** Trim and check a user prompt: whitespace-only is empty; longer than `maxLength` (UTF-16 units) is refused. */
export function validatePrompt(text: string | null | undefined, opts: { maxLength?: number } = {}): PromptCheck {
  const maxLength = opts.maxLength ?? 6000;
  const prompt = normalizeNewlines(text ?? '').trim();
  if (!prompt) return { ok: false, key: 'errors.promptEmpty' };
  if (prompt.length > maxLength) return { ok: false, key: 'errors.promptTooLong', params: { length: prompt.length, max: maxLength } };
  return { ok: true, prompt };
}
