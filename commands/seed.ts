import { ApplicationCommandOptionType, ApplicationCommandType, type ChatInputCommandInteraction } from 'discord.js';
import { UserError, type Command } from '../src/discord/interactions/interactionKit.js';
import { seedMessage } from '../src/discord/flows/seed.js';

/** /seed [job] → the seed of a finished job (default: your latest finished image job), via the proxy's image-seed. */
export const seed: Command<ChatInputCommandInteraction> = {
  name: 'seed',
  defer: 'ephemeral',
  data: (loc) => ({
    type: ApplicationCommandType.ChatInput,
    ...loc.both('commands.seed', 'seed'),
    contexts: [0, 1],
    integration_types: [0],
    options: [{ type: ApplicationCommandOptionType.String, ...loc.both('commands.seed.options.job', 'job'), required: false, max_length: 40 }],
  }),

  async run(interaction, ctx) {
    let id = interaction.options.getString('job')?.trim();
    if (!id) {
      const recent = await ctx.services.repos.jobs.recentForUser(interaction.user.id, 25);
      id = recent.find((j) => j.provider === 'mj' && j.status === 'succeeded' && j.result?.imageUrl && j.kind !== 'describe')?.id;
      if (!id) throw new UserError('seed.noRecent');
    }
    await interaction.editReply({ content: await seedMessage(interaction, id, ctx), allowedMentions: { parse: [] } });
  },
};
