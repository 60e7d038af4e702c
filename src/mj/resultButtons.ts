import type { Job } from '../jobs/model.js';
import { GROUP, layoutButtons, mapButton, mapButtons, type MapButtonsOptions, type MappedButton } from './buttons.js';
import { parseShorten, splitDescribePrompts } from './prompts.js';

/**
 * Which buttons a finished Midjourney job shows. Pure.
 *
 * Grids and upscales show the upstream's buttons (mapped, filtered). Describe and shorten results are
 * drawn from their text instead: the picks (1–4, 1–5) and "Imagine all" are handled by the bot itself
 * (a fresh imagine with the chosen prompt), so they appear on every flavour, also where the upstream has
 * no such buttons or rejects them (trueai v11 refuses PromptAnalyzer customIds). Their customIds only
 * identify the kind; the prompt rides along in `data`.
 */

export const SEED_ROUTE = 's';
export const SEED_CUSTOM_ID = 'relay:seed';
const DESCRIBE_ALL = 'MJ::Job::PicReader::all';

export interface PlanOptions extends MapButtonsOptions {
  /** offer the ✉️ seed button on single-image results (the proxy has `image-seed`) */
  seed?: boolean | undefined;
}

export function planMjButtons(job: Job, opts: PlanOptions = {}): MappedButton[][] {
  const upstream = mapButtons(job.result?.buttons, opts);
  switch (job.kind) {
    case 'describe':
      return layoutButtons(describeButtons(job.result?.text ?? '', upstream));
    case 'shorten':
      return layoutButtons(shortenButtons(job.result?.text ?? '', upstream));
    default: {
      // a single image made by a button (upscale): Midjourney's ✉️ gives its seed
      const single = job.kind === 'action' && Boolean(job.result?.imageUrl) && !upstream.some((b) => b.kind === 'upscale');
      return layoutButtons(single && opts.seed ? [...upstream, seedButton()] : upstream);
    }
  }
}

/** 1–4 (each carrying its prompt), the upstream's 🔄 when it has one, and "Imagine all". */
export function describeButtons(text: string, upstream: MappedButton[]): MappedButton[] {
  const prompts = splitDescribePrompts(text).slice(0, 4);
  const out: MappedButton[] = prompts.map((prompt, i) => withData(mapButton({ customId: `MJ::Job::PicReader::${i + 1}` }), { prompt }));
  const retry = upstream.find((b) => b.kind === 'describe-retry');
  if (retry) out.push(retry);
  if (prompts.length > 1) out.push(withData(mapButton({ customId: DESCRIBE_ALL, label: 'Imagine all' }), {}));
  return out;
}

/** 1–5 (each carrying its candidate) and the upstream's "Show Details" when it offers it. */
export function shortenButtons(text: string, upstream: MappedButton[]): MappedButton[] {
  const { candidates } = parseShorten(text);
  const out: MappedButton[] = candidates.map((prompt, i) => withData(mapButton({ customId: `MJ::Job::PromptAnalyzer::relay::${i + 1}` }), { prompt }));
  const details = upstream.find((b) => b.kind === 'shorten-details');
  if (details) out.push(details);
  return out;
}

/** ✉️: the seed of this job (the bot's own route, no upstream customId). */
export function seedButton(): MappedButton {
  return {
    customId: SEED_CUSTOM_ID,
    kind: 'unknown',
    labelKey: null,
    label: '',
    emoji: '✉️',
    style: 2,
    modal: 'never',
    group: GROUP.unknown,
    route: SEED_ROUTE,
  };
}

/** Whether "Imagine all" can be pressed upstream (trueai answers with four task ids), rather than done as four imagines. */
export function imagineAllUpstream(job: Job, flavor: string | undefined): boolean {
  return flavor === 'trueai' && (job.result?.buttons ?? []).some((b) => b.customId === DESCRIBE_ALL);
}

function withData(b: MappedButton | null, data: Record<string, string>): MappedButton {
  if (!b) throw new Error('unmapped built-in button'); // the customIds above are all in the catalogue
  return Object.keys(data).length > 0 ? { ...b, data } : b;
}
