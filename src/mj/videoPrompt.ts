/**
 * The prompt an Animate or Extend press runs, as Midjourney's own "Animate manually" shows it: the parent's prompt
 * with `--video 1 --motion high|low` (earlier `--video` / `--motion` replaced). Pure.
 */
export function withMotion(prompt: string, motion: 'high' | 'low'): string {
  const bare = prompt
    .replace(/(^|\s)--video\s+\S+/gi, ' ')
    .replace(/(^|\s)--motion\s+\S+/gi, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return `${bare} --video 1 --motion ${motion}`.trim();
}

/** The motion a button kind animates with, for the Animate / Extend buttons; undefined for any other. */
export function motionOf(kind: string): 'high' | 'low' | undefined {
  return kind === 'animate-high' ? 'high' : kind === 'animate-low' ? 'low' : undefined;
}
