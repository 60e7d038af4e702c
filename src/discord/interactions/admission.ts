import type { Interaction } from 'discord.js';
import { UserError, type Ctx } from './interactionKit.js';
import { jobOwner } from '../flows/jobOptions.js';

/**
 * The server's limits (concurrency, cooldown, daily quotas), asked before an attachment is downloaded or anything
 * is decoded, so a member they refuse costs the bot nothing. JobService asks again under the member's lock when it
 * stores the job (two quick submits cannot both slip under a limit); this early answer only saves the work.
 */
export async function admitBeforeDownload(i: Interaction, ctx: Ctx, opts: { mayWait?: boolean } = {}): Promise<void> {
  // a job that may wait in its server's queue is not refused for the member's running jobs: it waits its turn
  const queued = opts.mayWait === true && ctx.guildId !== undefined;
  const refusal = await ctx.services.community.admissionRefusal(jobOwner(i, ctx.locale, ctx.guildId), undefined, { queued });
  if (refusal) throw UserError.from(refusal);
}
