import { PermissionFlagsBits } from 'discord.js';
import { component, UserError } from '../src/discord/interactions/interactionKit.js';
import { replyEphemeral } from '../src/discord/interactions/interactionKit.js';

/**
 * Cancel on a job's progress message (`cancelJob:<jobId>`): its member — or a moderator — takes a job waiting in its
 * server's queue out before it starts, or, where the upstream can stop a task (Midjourney Proxy plus), stops a job the
 * upstream has accepted. Acknowledged before anything is read; the answer is ephemeral, the job's message says
 * "cancelled", and a cancelled job uses no quota.
 */
export const cancelJob = component({
  route: 'cancelJob',
  accepts: 'button',
  parse: async (rest) => rest,
  ack: 'ephemeral',
  async run(i, jobId, ctx) {
    const job = await ctx.services.jobs.get(jobId);
    if (!job) throw new UserError('queue.notWaiting');
    const moderator = i.memberPermissions?.has(PermissionFlagsBits.ManageMessages) === true;
    if (job.owner.userId !== i.user.id && !moderator) throw new UserError('errors.notYourJob', { user: `<@${job.owner.userId}>` });
    if (job.status === 'waiting') {
      const outcome = await ctx.services.jobs.cancelWaiting(jobId);
      if (outcome === 'cancelled') return void (await replyEphemeral(i, ctx.t('queue.cancelledReply', { id: jobId })));
      if (outcome === 'not-waiting') throw new UserError('queue.notWaiting');
      // its turn came first: it runs now, and is stopped like any running job where the upstream allows it
    }
    const now = (await ctx.services.jobs.get(jobId)) ?? job;
    const outcome = await ctx.services.cancelRunning(now);
    if (outcome === 'stopping') return void (await replyEphemeral(i, ctx.t('queue.stoppingReply', { id: jobId })));
    if (outcome === 'unsupported') throw new UserError('queue.alreadyStarted', { id: jobId });
    if (outcome === 'failed') throw new UserError('queue.cancelFailed', { id: jobId });
    throw new UserError(now.status === 'submitting' ? 'queue.alreadyStarted' : 'queue.alreadyOver', { id: jobId });
  },
});
