import { component, UserError } from '../src/discord/interactions/interactionKit.js';
import { seedMessage } from '../src/discord/flows/seed.js';

/** ✉️ on a result (`mj:s:<key>`): the seed of its job, told only to the presser (who must be allowed to see it); acknowledged before its record is read. */
export const seed = component({
  route: 'seed',
  accepts: 'button',
  async parse(key, _i, ctx): Promise<{ jobId: string }> {
    const record = await ctx.services.repos.buttons.get(key);
    if (!record) throw new UserError('errors.buttonExpired');
    return { jobId: record.jobId };
  },
  ack: 'ephemeral',
  async run(i, { jobId }, ctx) {
    await i.editReply({ content: await seedMessage(i, jobId, ctx), allowedMentions: { parse: [] } });
  },
});
