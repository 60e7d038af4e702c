import type { ButtonInteraction, ModalSubmitInteraction } from 'discord.js';
import type { Job } from '../../jobs/model.js';
import type { MappedButton } from '../../mj/buttons.js';
import { ROUTES } from '../interactions/customId.js';
import { UserError, type Ctx } from '../interactions/interactionKit.js';
import { pickDelivery } from './jobOptions.js';
import type { Pressed } from '../interactions/pressedButton.js';
import { isSwapEngine, type ImageTool, type JobOrigin, type SwapEngine } from './toolJobs.js';

/**
 * The bot's own buttons on face-swap, inpaint and image-tool results (their upstreams have none):
 * what is drawn (through the delivery's button planner, route `toolButton`) and what a press stands for. The
 * handlers are components/toolButton.ts and components/toolButtonModal.ts. A follow-up always works on the result
 * image, re-downloaded from the bot's own result message.
 */

/** pseudo customId of a bot-only button, stored in its ButtonRecord */
const RELAY = 'relay:';

export type ToolAction = 'swap' | 'inpaint' | 'face' | 'bg' | 'up';

const SPECS: Record<ToolAction, { labelKey: string; label: string; emoji: string }> = {
  swap: { labelKey: 'tools.buttons.swapAgain', label: 'Swap again', emoji: '🔁' },
  inpaint: { labelKey: 'tools.buttons.inpaintAgain', label: 'Inpaint again', emoji: '🖌️' },
  face: { labelKey: 'tools.buttons.restoreFace', label: 'Restore face', emoji: '✨' },
  bg: { labelKey: 'tools.buttons.removeBackground', label: 'Remove background', emoji: '✂️' },
  up: { labelKey: 'tools.buttons.upscale', label: 'Upscale', emoji: '⏫' },
};

const TOOL_OF: Record<'face' | 'bg' | 'up', ImageTool> = { face: 'restore-face', bg: 'remove-background', up: 'upscale' };

/** What this deployment can do (decides which buttons are drawn). */
export interface ToolCaps {
  engines: SwapEngine[];
  picwish: boolean;
}

export function isToolJob(job: Pick<Job, 'kind'>): boolean {
  return job.kind === 'faceswap' || job.kind === 'inpaint' || job.kind === 'tool';
}

/** The buttons of a tool job's result, in one row. */
export function planToolButtons(job: Job, caps: ToolCaps): MappedButton[][] {
  const actions: ToolAction[] = [];
  const engine = job.upstream.engine;
  if (job.kind === 'faceswap' && isSwapEngine(engine) && caps.engines.includes(engine)) actions.push('swap');
  if (caps.picwish) {
    if (job.kind === 'inpaint') actions.push('inpaint');
    const tool = job.upstream.tool;
    if (tool !== 'restore-face') actions.push('face');
    if (tool !== 'remove-background') actions.push('bg');
    if (tool !== 'upscale') actions.push('up');
  }
  if (actions.length === 0) return [];
  return [
    actions.map((a) => ({
      customId: `${RELAY}${a}`,
      kind: 'unknown',
      ...SPECS[a],
      style: 2,
      modal: a === 'swap' || a === 'inpaint' ? 'always' : 'never',
      group: 0,
      route: ROUTES.toolButton.prefix,
    })),
  ];
}

/** A pressed tool button: its record, the parent job and the action it stands for. */
export type ToolPressed = Pressed<ToolAction>;

/** What the stored record of an `mj:t` / `mj:tm` key stands for; undefined when it is no tool button. */
export function readToolAction(record: { customId: string }): ToolAction | undefined {
  if (!record.customId.startsWith(RELAY)) return undefined;
  const action = record.customId.slice(RELAY.length);
  return action in SPECS ? (action as ToolAction) : undefined;
}

/** Restore face, remove background, upscale: started at once; swap and inpaint open their modal first. */
export function imageToolOf(action: ToolAction): ImageTool | undefined {
  return action === 'face' || action === 'bg' || action === 'up' ? TOOL_OF[action] : undefined;
}

/** "0.7" → 0.7; empty → undefined; anything else outside 0..1 → a clear refusal. */
export function parseFidelity(text: string): number | undefined {
  if (!text) return undefined;
  const n = Number(text.replace(',', '.'));
  if (!/^\d*[.,]?\d+$/.test(text) || !Number.isFinite(n) || n < 0 || n > 1) throw new UserError('tools.errors.fidelityInvalid', { value: text.slice(0, 20) });
  return n;
}

/** "2" → 2 (1-based, left to right); empty → undefined. */
export function parseFaceIndex(text: string): number | undefined {
  if (!text) return undefined;
  if (!/^\d{1,2}$/.test(text) || Number(text) < 1) throw new UserError('tools.errors.faceIndexInvalid', { value: text.slice(0, 20) });
  return Number(text);
}

/** The presser owns the new job; it goes where the parent went when the owner pressed, else per their settings. */
export async function toolOrigin(i: ButtonInteraction | ModalSubmitInteraction, p: ToolPressed, ctx: Ctx): Promise<JobOrigin> {
  const settings = await ctx.services.repos.users.settings(i.user.id);
  const delivery = i.user.id === p.parent.owner.userId ? p.parent.delivery : pickDelivery(null, settings, ctx.rules);
  return { interaction: i, ctx, delivery, parentJobId: p.parent.id };
}
