import { ApplicationCommandType, type ChatInputCommandInteraction } from 'discord.js';
import type { Command } from '../src/discord/interactions/interactionKit.js';
import { settingsPanel } from '../src/discord/flows/settingsPanel.js';

/** /settings → an ephemeral panel: default delivery, bot and speed, and remix editing; saved per user. */
export const settings: Command<ChatInputCommandInteraction> = {
  name: 'settings',
  defer: 'ephemeral',
  data: (loc) => ({
    type: ApplicationCommandType.ChatInput,
    ...loc.both('commands.settings', 'settings'),
    contexts: [0, 1],
    integration_types: [0],
  }),

  async run(interaction, ctx) {
    const panel = settingsPanel(await ctx.services.repos.users.settings(interaction.user.id), ctx);
    await interaction.editReply({ content: panel.content, components: panel.components as never, allowedMentions: { parse: [] } });
  },
};
