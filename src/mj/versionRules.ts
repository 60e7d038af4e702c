/**
 * Which Midjourney parameters fit which model version, checked before anything is sent upstream. Pure.
 *
 * What Midjourney documents (2025–2026): the omni reference `--oref`/`--ow` exists from V7 on; the character
 * reference `--cref`/`--cw` is V6's (V7 and later replaced it with `--oref`); `--hd` is V8's; `--bs` (batch size)
 * belongs to videos (`--video`). A prompt whose version we cannot know (`--niji` without a number) is not refused
 * for its version: a guess must never stop a member.
 */
import { splitParams } from './prompts.js';

export interface ModelVersion {
  family: 'v' | 'niji';
  major: number;
  /** as written, e.g. "6.1", "8" */
  number: string;
}

/** A refusal: the message key (reference.json) and what it names. */
export interface VersionRefusal {
  key: string;
  params: { param: string; version: string };
}

/** `7`, `6.1`, `v 8.1`, `V7`, `niji 6` → a version; undefined when it is none of these. */
export function parseVersion(text: string | null | undefined, family: 'v' | 'niji' = 'v'): ModelVersion | undefined {
  const m = /^\s*(v|niji)?\s*(\d+(?:\.\d+)?)\s*$/i.exec(text ?? '');
  if (!m?.[2]) return undefined;
  const fam = m[1] ? (m[1].toLowerCase() as 'v' | 'niji') : family;
  return { family: fam, major: Math.floor(Number(m[2])), number: m[2] };
}

/** How a version is named to members: "V7", "V6.1", "Niji 6". */
export function versionLabel(v: ModelVersion): string {
  return v.family === 'niji' ? `Niji ${v.number}` : `V${v.number}`;
}

/**
 * The version a prompt runs on: its own `--v`/`--version`/`--niji`, else the Niji bot's default (unknown), else
 * the configured default (MJ_DEFAULT_VERSION, or the parent's version for a button's prompt).
 */
export function promptVersion(prompt: string, o: { botType?: string | undefined; defaultVersion: string }): ModelVersion | undefined {
  const { params } = splitParams(prompt);
  for (const p of [...params].reverse()) {
    if (p.name === 'v' || p.name === 'version') return parseVersion(firstWord(p.value), 'v');
    if (p.name === 'niji') return parseVersion(firstWord(p.value), 'niji');
  }
  if (o.botType === 'NIJI_JOURNEY') return undefined;
  return parseVersion(o.defaultVersion, 'v');
}

/**
 * The first parameter of `prompt` (plus `extraParams`: what attachment options will add) that its version does not
 * take, as a refusal; undefined when all fit.
 */
export function checkVersionRules(
  prompt: string,
  o: { botType?: string | undefined; defaultVersion: string; extraParams?: readonly string[] | undefined },
): VersionRefusal | undefined {
  const names = [...splitParams(prompt).params.map((p) => p.name), ...(o.extraParams ?? []).map((n) => n.replace(/^--/, '').toLowerCase())];
  const has = (n: string) => names.includes(n);
  const version = promptVersion(prompt, o);
  const label = version ? versionLabel(version) : '';
  if (version) {
    for (const n of ['oref', 'ow'])
      if (has(n) && version.major < 7) return { key: 'reference.refused.orefNeedsV7', params: { param: `--${n}`, version: label } };
    for (const n of ['cref', 'cw'])
      if (has(n) && version.major >= 7) return { key: 'reference.refused.crefBeforeV7', params: { param: `--${n}`, version: label } };
    if (has('hd') && version.major < 8) return { key: 'reference.refused.hdNeedsV8', params: { param: '--hd', version: label } };
  }
  if (has('bs') && !has('video')) return { key: 'reference.refused.bsNeedsVideo', params: { param: '--bs', version: label } };
  return undefined;
}

/**
 * Whether a single image (not a grid: a grid's U1–U4 lead to one) lacks upscale, zoom and pan because its version
 * has none (V8 on): `version` as the task reports it ("v 8.1"), `customIds` the buttons it carries.
 */
export function lacksUpscalePanel(version: string | undefined, customIds: readonly string[]): boolean {
  const v = parseVersion(version);
  if (!v || v.family !== 'v' || v.major < 8) return false;
  if (customIds.some((id) => GRID_PICK.test(id) || VIDEO.test(id))) return false;
  return !customIds.some((id) => UPSCALE_ZOOM_PAN.test(id));
}

const GRID_PICK = /^MJ::JOB::upsample::\d/;
const VIDEO = /^MJ::JOB::(animate_|video_)/;
const UPSCALE_ZOOM_PAN = /^MJ::(JOB::upsample_v|Outpaint::|CustomZoom::|JOB::pan_)/;

function firstWord(s: string): string {
  return s.trim().split(/\s+/)[0] ?? '';
}
