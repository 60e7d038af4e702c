// Deterministic texts for DESCRIBE and SHORTEN results (contract §9).
import { createHash } from 'node:crypto';
import { KEYCAPS } from './buttons.js';

const SUBJECTS = [
  'a red fox in snow',
  'an old lighthouse at dusk',
  'a bowl of ramen on a wooden table',
  'a cyberpunk street market',
  'a knight in silver armour',
  'a watercolor map of an island',
  'a cat sleeping on a windowsill',
  'a steam train crossing a bridge',
];
const STYLES = [
  'in the style of studio photography',
  'soft pastel colors',
  'highly detailed digital painting',
  'cinematic lighting, 35mm film',
  'flat vector illustration',
  'dreamy, ethereal atmosphere',
];

function gcd(a: number, b: number): number {
  let x = Math.abs(Math.round(a));
  let y = Math.abs(Math.round(b));
  for (let i = 0; i < 64 && y !== 0; i++) [x, y] = [y, x % y];
  return x || 1;
}

/** `W:H` reduced, e.g. 1024×768 → `4:3`. */
export function ratio(width: number, height: number): string {
  const g = gcd(width, height);
  return `${Math.round(width / g)}:${Math.round(height / g)}`;
}

/** Four distinct describe prompts, chosen by `seedText`, each ending in `--ar W:H`. */
export function describePrompts(seedText: string, ar: string): string[] {
  const digest = createHash('sha256').update(seedText).digest();
  const start = (digest[0] ?? 0) % SUBJECTS.length;
  const style = (digest[1] ?? 0) % STYLES.length;
  return [0, 1, 2, 3].map((i) => `${SUBJECTS[(start + i) % SUBJECTS.length]}, ${STYLES[(style + i) % STYLES.length]} --ar ${ar}`);
}

/** `1️⃣ p1\n\n2️⃣ p2\n\n3️⃣ p3\n\n4️⃣ p4` */
export function keycapList(prompts: string[]): string {
  return prompts.map((p, i) => `${KEYCAPS[i] ?? `${i + 1}.`} ${p}`).join('\n\n');
}

const STOP = new Set(['a', 'an', 'the', 'of', 'in', 'on', 'at', 'and', 'with', 'very', 'to', 'by', 'for', 'is', 'some']);

function splitPrompt(prompt: string): { words: string[]; params: string } {
  const idx = prompt.search(/\s--[a-z]/i);
  const text = idx >= 0 ? prompt.slice(0, idx) : prompt;
  const params = idx >= 0 ? prompt.slice(idx).trim() : '';
  return { words: text.split(/[\s,]+/).filter(Boolean), params };
}

/** The five shortened candidates for a prompt (distinct, params kept). */
export function shortenCandidates(prompt: string): string[] {
  const { words, params } = splitPrompt(prompt);
  const important = words.filter((w) => !STOP.has(w.toLowerCase()));
  const core = (important.length > 0 ? important : words).join(' ') || 'image';
  const extra = ['', ', highly detailed', ', soft light', ', cinematic', ', minimal'];
  return extra.map((e) => `${core}${e}${params ? ` ${params}` : ''}`);
}

/** SHORTEN `finalPrompt`: bold important tokens, then "Shortened prompts" with five keycap candidates. */
export function shortenMarkdown(prompt: string): { markdown: string; candidates: string[] } {
  const { words } = splitPrompt(prompt);
  const marked = words.map((w) => (STOP.has(w.toLowerCase()) ? `~~${w}~~` : `**${w}**`)).join(' ');
  const candidates = shortenCandidates(prompt);
  const list = candidates.map((c, i) => `${KEYCAPS[i] ?? `${i + 1}.`} ${c}`).join('\n');
  return { markdown: `## Important tokens\n${marked}\n\n## Shortened prompts\n${list}`, candidates };
}

/** "Show Details": per-token weights. */
export function tokenWeights(prompt: string): string {
  const { words } = splitPrompt(prompt);
  const important = words.filter((w) => !STOP.has(w.toLowerCase()));
  const lines = important.map((w, i) => `**${w}**: ${(1 / (i + 1)).toFixed(2)}`);
  return `## Token weights\n${lines.join('\n') || '(none)'}`;
}
