import { ApplicationCommandType, PermissionFlagsBits, type MessageContextMenuCommandInteraction } from 'discord.js';
import type { Job } from '../src/jobs/model.js';
import type { Command, Ctx } from '../src/discord/interactions/interactionKit.js';
import { parse as parseCustomId } from '../src/discord/interactions/customId.js';
import { UserError } from '../src/discord/interactions/interactionKit.js';

/** Message menu "Delete result": the job's owner, or a moderator (Manage Messages), removes a result the bot posted. */
export const deleteResult: Command<MessageContextMenuCommandInteraction> = {
  name: 'Delete result',
  defer: 'ephemeral',
  data: (loc) => ({ type: ApplicationCommandType.Message, ...loc.name('commands.deleteResult', 'Delete result'), contexts: [0, 1], integration_types: [0] }),

  async run(interaction, ctx) {
    const message = interaction.targetMessage;
    if (message.author.id !== interaction.client.user.id) throw new UserError('community.delete.notOurs');
    const job = await jobOf(message.components as unknown as { components?: { customId?: string | null }[] }[], ctx);
    const moderator = interaction.memberPermissions?.has(PermissionFlagsBits.ManageMessages) === true;
    if (!moderator && job?.owner.userId !== interaction.user.id) throw new UserError('community.delete.notYours');
    await ctx.services.messenger.delete(message.channelId, message.id).catch((err: { code?: number }) => {
      if (err.code !== 10008) throw err;
    });
    if (job)
      await ctx.services.repos.jobs.update(
        job.id,
        (j) => void (j.messages.results = j.messages.results.filter((r) => r.messageId !== message.id)),
        ctx.services.now(),
      );
    await ctx.services.community.log(interaction.guildId ?? undefined, 'community.log.deleted', {
      id: job?.id ?? '—',
      by: `<@${interaction.user.id}>`,
      owner: job ? `<@${job.owner.userId}>` : '—',
    });
    await interaction.editReply({ content: ctx.t('community.delete.done') });
  },
};

/** The job behind a result message, from the keys its buttons carry. */
async function jobOf(rows: { components?: { customId?: string | null }[] }[], ctx: Ctx): Promise<Job | undefined> {
  for (const row of rows) {
    for (const c of row.components ?? []) {
      const parsed = c.customId ? parseCustomId(c.customId) : undefined;
      const key = parsed?.rest.split(':')[0];
      const record = key ? await ctx.services.repos.buttons.get(key) : undefined;
      if (record) return ctx.services.jobs.get(record.jobId);
    }
  }
  return undefined;
}
