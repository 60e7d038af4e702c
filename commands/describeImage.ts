import { ApplicationCommandType, type MessageContextMenuCommandInteraction } from 'discord.js';
import { UserError, type Command } from '../src/discord/interactions/interactionKit.js';
import { startDescribe } from './describe.js';

/** Message context menu "Describe image": /describe on the first image attached to any message. */
export const describeImage: Command<MessageContextMenuCommandInteraction> = {
  name: 'Describe image',
  defer: 'ephemeral',
  data: (loc) => ({
    type: ApplicationCommandType.Message,
    ...loc.name('commands.describeImage', 'Describe image'),
    contexts: [0, 1],
    integration_types: [0],
  }),

  async run(interaction, ctx) {
    const attachments = [...interaction.targetMessage.attachments.values()];
    // the declared type only picks which file to try; the bytes decide whether it is an image
    const image = attachments.find((a) => a.contentType?.startsWith('image/')) ?? attachments[0];
    if (!image) throw new UserError('describe.noImage');
    await startDescribe(interaction, ctx, { image });
  },
};
