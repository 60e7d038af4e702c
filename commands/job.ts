import { ApplicationCommandOptionType, ApplicationCommandType, type ChatInputCommandInteraction } from 'discord.js';
import { isFinal } from '../src/jobs/model.js';
import { findJob, mayView } from '../src/discord/interactions/jobAccess.js';
import { jobLine, messageLink } from '../src/discord/messages/jobLines.js';
import { UserError, type Command } from '../src/discord/interactions/interactionKit.js';
import { discordCode } from '../src/discord/messages/messenger.js';

const LIST = 10;

/** /job [id]: post a finished job again with its live buttons (like Midjourney's /show); without id, your recent jobs. */
export const job: Command<ChatInputCommandInteraction> = {
  name: 'job',
  defer: 'ephemeral',
  data: (loc) => ({
    type: ApplicationCommandType.ChatInput,
    ...loc.both('commands.job', 'job'),
    contexts: [0, 1],
    integration_types: [0],
    options: [{ type: ApplicationCommandOptionType.String, ...loc.both('commands.job.options.id', 'id'), required: false, max_length: 40 }],
  }),

  async run(interaction, ctx) {
    const { services } = ctx;
    const id = interaction.options.getString('id')?.trim();
    if (!id) {
      const recent = await services.repos.jobs.recentForUser(interaction.user.id, LIST);
      const lines = await Promise.all(recent.map(async (j) => jobLine((await services.jobs.get(j.id)) ?? j, ctx)));
      const content = lines.length ? [`**${ctx.t('job.recentTitle')}**`, ...lines, '', ctx.t('job.recentHint')].join('\n') : ctx.t('job.none');
      await interaction.editReply({ content: content.slice(0, 2000), allowedMentions: { parse: [] } });
      return;
    }

    const found = await findJob(id, ctx);
    if (!found) throw new UserError('job.notFound', { id: id.slice(0, 40) });
    if (!mayView(interaction, found)) throw new UserError('job.notAllowed');
    if (!isFinal(found)) throw new UserError('job.notFinished', { line: jobLine(found, ctx) });
    if (found.status !== 'succeeded') {
      const reason = found.error ? services.i18n.msg(ctx.locale, found.error) : ctx.t('errors.unknown');
      throw new UserError('job.failed', { id: found.id, reason });
    }
    const channelId = interaction.channelId;
    if (!channelId) throw new UserError('job.cannotPost');
    const ref = await services.delivery.repost(found, channelId).catch((err: unknown) => {
      services.logger.info({ err, jobId: found.id, code: discordCode(err) }, 're-post failed');
      throw new UserError('job.cannotPost');
    });
    await interaction.editReply({
      content: ctx.t('job.reposted', { id: found.id, link: messageLink(interaction.guildId, ref.channelId, ref.messageId) }),
      allowedMentions: { parse: [] },
    });
  },
};
