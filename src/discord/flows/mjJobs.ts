import { type ButtonInteraction, type ChatInputCommandInteraction, type MessageContextMenuCommandInteraction, type ModalSubmitInteraction } from 'discord.js';
import type { Job } from '../../jobs/model.js';
import type { JobDraft, RunOptions, SubmitResult } from '../../jobs/service.js';
import type { MjSubmitOutcome } from '../../upstream/mjTypes.js';
import type { Ctx } from '../interactions/interactionKit.js';
import { budgetedSpeed, jobOwner, pickBot, pickDelivery, pickSpeed } from './jobOptions.js';

export type JobInteraction = ChatInputCommandInteraction | MessageContextMenuCommandInteraction | ButtonInteraction | ModalSubmitInteraction;

/** What a command decides about a Midjourney job; who, where and the interaction come from the interaction. */
export type MjJobDraft = Omit<JobDraft, 'provider' | 'owner' | 'interaction' | 'attachmentLimit'>;

/**
 * Start a Midjourney Proxy job through the one job path (JobService.run), owned by whoever interacted.
 * A refusal (a limit, the upstream) carries its message to the dispatcher, the one place that reports it.
 */
export async function startMjJob(
  i: JobInteraction,
  ctx: Ctx,
  draft: MjJobDraft,
  submit: (job: Job) => Promise<MjSubmitOutcome>,
  opts: RunOptions = {},
): Promise<Job> {
  return await ctx.services.jobs.run(
    {
      ...draft,
      provider: 'mj',
      owner: jobOwner(i, ctx.locale, ctx.guildId),
      interaction: { id: i.id, applicationId: i.applicationId, token: i.token, issuedAt: i.createdTimestamp },
      attachmentLimit: i.attachmentSizeLimit,
    },
    async (job) => submitResult(await submit(job)),
    opts,
  );
}

/** The proxy's outcome as the job service wants it. */
export function submitResult(out: MjSubmitOutcome): SubmitResult {
  if (out.kind === 'modal') return { kind: 'modal', upstreamId: out.modalTaskId, prefill: out.prefill };
  return { kind: 'accepted', upstreamId: out.taskId, queuePosition: out.kind === 'accepted' ? out.queuePosition : undefined };
}

/** The user's choices of those options, else their settings, else the server's default. */
export async function jobChoices(i: ChatInputCommandInteraction | MessageContextMenuCommandInteraction, ctx: Ctx) {
  const settings = await ctx.services.repos.users.settings(i.user.id);
  const opt = (name: string) => (i.isChatInputCommand() ? i.options.getString(name) : null);
  return {
    botType: pickBot(opt('bot'), settings),
    mode: await budgetedSpeed(i, ctx, pickSpeed(opt('speed'), settings, ctx.services.config.mj.mode)),
    delivery: pickDelivery(opt('delivery'), settings, ctx.rules),
  };
}
