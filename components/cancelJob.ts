import { PermissionFlagsBits } from 'discord.js';
import { component, UserError } from '../src/discord/interactions/interactionKit.js';
import { replyEphemeral } from '../src/discord/interactions/interactionKit.js';

/**
 * Cancel on a job waiting in its server's queue (`mj:q:<jobId>`): its member — or a moderator — takes it out before it
 * starts. Acknowledged before anything is read; the answer is ephemeral, the job's message says "cancelled".
 */
export const cancelJob = component({
  route: 'cancelJob',
  accepts: 'button',
  parse: async (rest) => rest,
  ack: 'ephemeral',
  async run(i, jobId, ctx) {
    const job = await ctx.services.jobs.get(jobId);
    if (!job || job.status !== 'waiting') throw new UserError('queue.notWaiting');
    const moderator = i.memberPermissions?.has(PermissionFlagsBits.ManageMessages) === true;
    if (job.owner.userId !== i.user.id && !moderator) throw new UserError('errors.notYourJob', { user: `<@${job.owner.userId}>` });
    const outcome = await ctx.services.jobs.cancelWaiting(jobId);
    if (outcome === 'started') throw new UserError('queue.alreadyStarted', { id: jobId });
    if (outcome === 'not-waiting') throw new UserError('queue.notWaiting');
    await replyEphemeral(i, ctx.t('queue.cancelledReply', { id: jobId }));
  },
});
