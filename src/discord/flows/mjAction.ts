import type { ButtonInteraction, ModalSubmitInteraction } from 'discord.js';
import type { Job } from '../../jobs/model.js';
import { mapButton, type MappedButton } from '../../mj/buttons.js';
import type { MjSubmitOutcome } from '../../upstream/mjTypes.js';
import { UserError, type Ctx } from '../interactions/interactionKit.js';
import { acceptedReply, budgetedSpeed, pickDelivery } from './jobOptions.js';
import { startMjJob, submitResult } from './mjJobs.js';
import { afterPress, type Pressed } from '../interactions/pressedButton.js';
import { startPromptPick } from './promptPicks.js';

/** A pressed Midjourney button (an upstream one, or a describe/shorten pick the bot handles itself). */
export type MjPressed = Pressed<MappedButton>;

/** What the stored record of an `mj:b` / `mj:f` key stands for; undefined when it is no Midjourney button. */
export const readMjButton = (record: { customId: string }): MappedButton | undefined => mapButton({ customId: record.customId }) ?? undefined;

/** What the member typed or uploaded in the button's modal, if it opened one. */
export interface ActionInput {
  prompt?: string | undefined;
  maskBase64?: string | undefined;
  enableRemix?: boolean | undefined;
}

/**
 * Start what a pressed Midjourney button stands for as a new job owned by the presser: a describe/shorten pick or
 * "Imagine all" (the bot's own), else the upstream action on the parent's task with the button's exact customId.
 */
export async function startAction(i: ButtonInteraction | ModalSubmitInteraction, ctx: Ctx, p: MjPressed, input: ActionInput): Promise<Job> {
  const local = await startPromptPick(i, ctx, p, input);
  if (local) return local;
  const { services } = ctx;
  const { parent, record, spec: button } = p;
  const settings = await services.repos.users.settings(i.user.id);
  const hasInput = input.prompt !== undefined || input.maskBase64 !== undefined;
  const mode = await budgetedSpeed(i, ctx, parent.mode); // the parent's speed, unless a fast budget is spent
  const draft = {
    kind: button.kind === 'describe-retry' ? ('describe' as const) : button.kind === 'shorten-details' ? ('shorten' as const) : ('action' as const),
    parentJobId: parent.id,
    action: { customId: record.customId, kind: button.kind, index: button.index },
    prompt: input.prompt ?? parent.result?.finalPrompt ?? parent.prompt,
    delivery: i.user.id === parent.owner.userId ? parent.delivery : pickDelivery(null, settings, ctx.rules),
    mode,
    botType: parent.botType,
  };
  return startMjJob(i, ctx, draft, async (job) => {
    const out = await services.mj.action({
      taskId: record.upstreamTaskId,
      customId: record.customId,
      mode,
      botType: parent.botType,
      state: job.id,
      enableRemix: input.enableRemix,
    });
    if (out.kind === 'modal') {
      if (!hasInput) return out; // the upstream wants the prompt confirmed: the job waits in 'modal'
      const done = await services.mj.modal({ taskId: out.modalTaskId, prompt: input.prompt, maskBase64: input.maskBase64, mode });
      return submittedModal(done, out.modalTaskId);
    }
    if (hasInput && input.prompt !== undefined && button.kind !== 'custom-zoom' && button.kind !== 'vary-region') job.upstream.editNotApplied = true;
    return out;
  });
}

/**
 * Start a pressed button's action with what the member gave in its modal or in the mask editor, as the press's
 * follow-up step (not claimed against a double click: each submit is one deliberate edit). Returns the member's
 * "accepted" line.
 */
export async function startActionWithInput(i: ButtonInteraction | ModalSubmitInteraction, ctx: Ctx, p: MjPressed, input: ActionInput): Promise<string> {
  const job = await afterPress(i, p, ctx, { claim: false }, () => startAction(i, ctx, p, input));
  const note = job.upstream.editNotApplied ? `\n${ctx.t('remix.editNotApplied')}` : '';
  return acceptedReply(job, ctx) + note;
}

/** Pixel size of a job's result image (a Vary (Region) mask's size): from the upstream, else from our re-hosted attachment. */
export async function regionImageSize(job: Job, ctx: Ctx): Promise<{ width: number; height: number }> {
  if (job.result?.width && job.result.height) return { width: job.result.width, height: job.result.height };
  for (const ref of job.messages.results) {
    const msg = await ctx.services.messenger.fetch(ref.channelId, ref.messageId).catch(() => undefined);
    const att = msg?.attachments.find((a) => a.width && a.height);
    if (att?.width && att.height) return { width: att.width, height: att.height };
  }
  throw new UserError('errors.imageSizeUnknown');
}

/** What the proxy said to a submitted modal; a modal asking again counts as accepted under the modal's task id. */
export function submittedModal(out: MjSubmitOutcome, modalTaskId: string): MjSubmitOutcome {
  return out.kind === 'modal' ? { kind: 'accepted', taskId: modalTaskId } : out;
}

/** Submit the remix prompt for a job waiting in 'modal' (the proxy asked for it unannounced). */
export async function submitRemix(job: Job, prompt: string, ctx: Ctx): Promise<void> {
  const modalTaskId = String(job.upstream.modalTaskId ?? job.upstreamId);
  job.prompt = prompt;
  await ctx.services.jobs.resume(job, async () =>
    submitResult(submittedModal(await ctx.services.mj.modal({ taskId: modalTaskId, prompt, mode: job.mode }), modalTaskId)),
  );
}
