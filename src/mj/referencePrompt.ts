/**
 * Reference images placed where Midjourney reads them: image prompts first, then the text, then
 * `--sref <url> [--sw n]`, `--oref <url> [--ow n]`, then the member's other parameters. Pure.
 */
import { splitParams, type PromptParam } from './prompts.js';

export interface Reference {
  /** where Midjourney fetches the image; absent when only a weight was chosen (for a reference typed in the prompt) */
  url?: string | undefined;
  /** --sw (0–1000) for a style reference, --ow (1–1000) for an omni reference */
  weight?: number | undefined;
}

export interface References {
  /** URLs of image prompts (they lead the prompt) */
  imagePrompts?: readonly string[] | undefined;
  style?: Reference | undefined;
  omni?: Reference | undefined;
}

export type AssembledPrompt =
  { ok: true; prompt: string } | { ok: false; key: 'reference.refused.orefTwice' | 'reference.refused.weightAlone'; params?: Record<string, string> };

const REFERENCE_PARAMS = new Set(['sref', 'sw', 'oref', 'ow']);

/**
 * The prompt with its references in place. A style reference the prompt already names (`--sref <code>`) is kept
 * and the attachment joins it (Midjourney blends several); a weight chosen as an option replaces one typed in the
 * prompt; a weight without its reference (attached or typed) is refused, and so is an omni reference both typed
 * and attached (it takes one image).
 */
export function assembleReferencePrompt(prompt: string, refs: References): AssembledPrompt {
  const { text, params } = splitParams(prompt);
  const typed = (name: string) => params.find((p) => p.name === name)?.value || undefined;
  if (refs.omni?.url && typed('oref')) return { ok: false, key: 'reference.refused.orefTwice' };
  const sref = [typed('sref'), refs.style?.url].filter((v): v is string => Boolean(v)).join(' ');
  const oref = refs.omni?.url ?? typed('oref');
  if (refs.style?.weight !== undefined && !sref) return { ok: false, key: 'reference.refused.weightAlone', params: { param: '--sw', reference: '--sref' } };
  if (refs.omni?.weight !== undefined && !oref) return { ok: false, key: 'reference.refused.weightAlone', params: { param: '--ow', reference: '--oref' } };

  const references: PromptParam[] = [];
  const add = (name: string, value: string | number | undefined) => {
    if (value !== undefined && value !== '') references.push({ name, value: String(value) });
  };
  add('sref', sref);
  add('sw', refs.style?.weight ?? typed('sw'));
  add('oref', oref);
  add('ow', refs.omni?.weight ?? typed('ow'));

  const others = params.filter((p) => !REFERENCE_PARAMS.has(p.name));
  const parts = [...(refs.imagePrompts ?? []), text, ...[...references, ...others].map((p) => (p.value ? `--${p.name} ${p.value}` : `--${p.name}`))];
  return { ok: true, prompt: parts.filter((s) => s !== '').join(' ') };
}
