import type { Job, SpeedMode } from '../jobs/model.js';
import type { MjTask } from '../upstream/mjTypes.js';

/**
 * How many fast GPU minutes a finished job cost, estimated from what its task reported. Midjourney bills fast time
 * (FAST and TURBO); RELAX costs none. The figures are estimates for sharing a budget fairly, not Midjourney's bill.
 *
 *   minutes = (reported GPU time, else NOMINAL_MINUTES × the action's weight) × SPEED_FACTOR[mode]
 *
 * - Reported time: the task's `useTime` (ms; some proxies add it, the contract does not name it), else
 *   `finishTime − startTime` (contract §5.1: start = sent to Discord, finish = SUCCESS). A measured time already
 *   reflects how heavy the action was, so the weights below apply only when nothing was measured.
 * - Mode: the one the task reports (`task.mode`, carried as the result's speed), else the one asked for, else FAST
 *   (what the proxy assumes without a mode, contract §1.2).
 */

/** An average image grid costs about one fast GPU minute (Midjourney's Basic plan: 3.3 fast hours ≈ 200 image jobs). */
export const NOMINAL_MINUTES = 1;

/** Fast-time cost of each mode relative to FAST (Midjourney: a Turbo job uses twice the fast minutes). */
export const SPEED_FACTOR: Record<SpeedMode, number> = { fast: 1, turbo: 2, relax: 0 };

/**
 * Relative cost of an action, in image grids, used when the task reports no time. Video ≈ 8 image jobs and the
 * Subtle/Creative upscalers ≈ 2 grids (Midjourney's documentation); `--hd` (V8 HD renders) and HD video are our
 * estimate of 2× their plain counterpart; a grid's U1–U4 only crops (a tenth); the proxy's face swap and text
 * results (describe, shorten) use no Midjourney GPU in this estimate.
 */
export const ACTION_WEIGHTS = {
  grid: 1, // imagine, blend, variations, reroll, vary, pan, zoom, inpaint (vary region)
  pick: 0.1, // U1–U4 on a grid
  upscaleSubtleCreative: 2,
  upscale2x4x: 2,
  video: 8,
  hdFactor: 2,
  text: 0,
  faceswap: 0,
} as const;

/** The longest a single task is believed to have worked (a broken clock on the proxy must not spend a day's budget). */
export const MAX_TASK_MINUTES = 60;

/** What a task reported about its own timing (contract §5.1, plus `useTime` where a proxy adds it). */
export interface TaskTimes {
  useTimeMs?: number | undefined;
  startTime?: number | undefined;
  finishTime?: number | undefined;
}

/** The timing fields of a task, as far as they are numbers. */
export function taskTimesOf(task: Pick<MjTask, 'startTime' | 'finishTime'> & { useTime?: unknown }): TaskTimes {
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  return { useTimeMs: num(task.useTime), startTime: num(task.startTime), finishTime: num(task.finishTime) };
}

/** Minutes the task says it worked, if it says. */
export function measuredMinutes(times: TaskTimes | undefined): number | undefined {
  if (!times) return undefined;
  let ms: number | undefined;
  if (times.useTimeMs !== undefined && times.useTimeMs > 0) ms = times.useTimeMs;
  else if (times.startTime !== undefined && times.finishTime !== undefined && times.finishTime > times.startTime) ms = times.finishTime - times.startTime;
  return ms === undefined ? undefined : Math.min(ms / 60_000, MAX_TASK_MINUTES);
}

/** The speed a finished job ran at: what the upstream reported, else what was asked, else FAST. */
export function speedOf(job: Pick<Job, 'mode' | 'result'>): SpeedMode {
  return job.result?.mode ?? job.mode ?? 'fast';
}

/** The action's weight in image grids (see ACTION_WEIGHTS). */
export function actionWeight(job: Pick<Job, 'kind' | 'action' | 'prompt' | 'result'>): number {
  const w = ACTION_WEIGHTS;
  const hd = /(^|\s)--hd(\s|$)/.test(job.result?.finalPrompt ?? job.prompt) ? w.hdFactor : 1;
  if (job.result?.video || job.action?.kind.startsWith('animate')) return w.video * hd;
  if (job.kind === 'describe' || job.kind === 'shorten') return w.text;
  if (job.kind === 'faceswap') return w.faceswap;
  const kind = job.action?.kind;
  if (kind === 'upscale') return w.pick;
  if (kind === 'upscale-subtle' || kind === 'upscale-creative') return w.upscaleSubtleCreative * hd;
  if (kind === 'upscale-2x' || kind === 'upscale-4x') return w.upscale2x4x * hd;
  return w.grid * hd;
}

/** Fast GPU minutes a finished Midjourney job used (0 for relax, failures and other providers). */
export function fastMinutesOf(job: Pick<Job, 'provider' | 'status' | 'kind' | 'action' | 'prompt' | 'result' | 'mode'>, times?: TaskTimes): number {
  if (job.provider !== 'mj' || job.status !== 'succeeded') return 0;
  const factor = SPEED_FACTOR[speedOf(job)];
  if (factor === 0) return 0;
  const weight = actionWeight(job);
  if (weight === 0) return 0;
  const measured = measuredMinutes(times);
  return (measured ?? NOMINAL_MINUTES * weight) * factor;
}
