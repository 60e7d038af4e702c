import { defuseLinks, escapePromptMarkdown } from './content.js';
import { clampText, parseShorten, splitDescribePrompts } from './prompts.js';

/**
 * How describe and shorten results read in a message (four or five keycap-numbered prompts in finalPrompt). Pure. The upstream's text echoes what a
 * member typed, so prompts are escaped (escapePromptMarkdown) and the analysis keeps its emphasis but no links.
 */

const ANALYSIS_MAX = 900;
const PROMPT_MAX = 450;

export function keycap(n: number): string {
  return n >= 0 && n <= 9 ? `${n}\uFE0F\u20E3` : `${n}.`;
}

/** `1️⃣ prompt\n\n2️⃣ prompt…`; null when the text holds no prompt. */
export function describeText(text: string): string | null {
  const prompts = splitDescribePrompts(text);
  if (prompts.length === 0) return null;
  return prompts.map((p, i) => `${keycap(i + 1)} ${escapePromptMarkdown(clampText(p, PROMPT_MAX))}`).join('\n\n');
}

/** The analysis (its markdown kept but links defused, shortened), a heading, then the numbered candidates (escaped); null without candidates. */
export function shortenText(text: string, heading: string): string | null {
  const { analysis, candidates } = parseShorten(text);
  if (candidates.length === 0) return null;
  const list = candidates.map((c, i) => `${keycap(i + 1)} ${escapePromptMarkdown(clampText(c, PROMPT_MAX))}`).join('\n');
  return [defuseLinks(clampText(analysis, ANALYSIS_MAX)), `**${heading}**`, list].filter(Boolean).join('\n');
}
