import { ApplicationCommandType, type MessageContextMenuCommandInteraction } from 'discord.js';
import type { Job } from '../src/jobs/model.js';
import { readImages } from '../src/discord/flows/attachments.js';
import { startVideo } from '../src/discord/flows/videoJobs.js';
import { admitBeforeDownload } from '../src/discord/interactions/admission.js';
import { parse as parseCustomId } from '../src/discord/interactions/customId.js';
import { UserError, type Command, type Ctx } from '../src/discord/interactions/interactionKit.js';

/**
 * Message menu "Animate": /video with low motion on a finished image result of the member's, the start frame
 * being the image the bot posted (its own attachment, checked like any upload). Offered where /video is.
 */
export const animate: Command<MessageContextMenuCommandInteraction> = {
  name: 'Animate',
  defer: 'ephemeral',
  enabled: (services) => services.mj.capabilities().video !== false,
  data: (loc) => ({ type: ApplicationCommandType.Message, ...loc.name('commands.animate', 'Animate'), contexts: [0, 1], integration_types: [0] }),

  async run(interaction, ctx) {
    const message = interaction.targetMessage;
    if (message.author.id !== interaction.client.user.id) throw new UserError('videoCommand.notOurs');
    const job = await resultJob(message.components as unknown as Row[], ctx);
    if (!job) throw new UserError('videoCommand.notOurs');
    if (job.owner.userId !== interaction.user.id) throw new UserError('videoCommand.notYours');
    if (job.status !== 'succeeded') throw new UserError('videoCommand.notFinished');
    const image = [...message.attachments.values()].find((a) => a.contentType?.startsWith('image/'));
    if (!image) throw new UserError('videoCommand.noImage');
    await admitBeforeDownload(interaction, ctx);
    const [start] = await readImages([image], ctx);
    await startVideo(interaction, ctx, { start: start!, prompt: '', loop: false, motion: 'low', hd: false });
  },
};

type Row = { components?: { customId?: string | null }[] };

/** The job behind a result message, from the keys its buttons carry. */
async function resultJob(rows: Row[], ctx: Ctx): Promise<Job | undefined> {
  for (const row of rows) {
    for (const c of row.components ?? []) {
      const key = c.customId ? parseCustomId(c.customId)?.rest.split(':')[0] : undefined;
      const record = key ? await ctx.services.repos.buttons.get(key) : undefined;
      if (record) return ctx.services.jobs.get(record.jobId);
    }
  }
  return undefined;
}
