import { ApplicationCommandOptionType, ApplicationCommandType, type APIApplicationCommandBasicOption, type ChatInputCommandInteraction } from 'discord.js';
import { UserError, type Command } from '../src/discord/interactions/interactionKit.js';
import { acceptedReply, jobOptionDefs, pickDelivery } from '../src/discord/flows/jobOptions.js';
import type { CommandLocalizer } from '../src/discord/interactions/registry.js';
import { admitBeforeDownload } from '../src/discord/interactions/admission.js';
import { limitsFor, PICWISH_LIMITS, readToolImages } from '../src/discord/flows/toolInputs.js';
import { startTool, type ImageTool } from '../src/discord/flows/toolJobs.js';

/**
 * /tools remove-background | upscale | restore-face — one-click image tools (PicWish), as subcommands of one
 * command so they sit together in Discord's command picker (which lists them as "/tools remove-background").
 */
const SUBCOMMANDS: { name: ImageTool; key: string }[] = [
  { name: 'remove-background', key: 'removeBackground' },
  { name: 'upscale', key: 'upscale' },
  { name: 'restore-face', key: 'restoreFace' },
];

function scaleOption(loc: CommandLocalizer): APIApplicationCommandBasicOption {
  return {
    type: ApplicationCommandOptionType.Integer,
    ...loc.both('commands.tools.options.scale', 'scale'),
    required: false,
    choices: [loc.choice('commands.tools.choices.scale.x2', 2), loc.choice('commands.tools.choices.scale.x4', 4)],
  };
}

export const tools: Command<ChatInputCommandInteraction> = {
  name: 'tools',
  defer: 'ephemeral',
  enabled: (services) => Boolean(services.picwish),
  data: (loc) => ({
    type: ApplicationCommandType.ChatInput,
    ...loc.both('commands.tools', 'tools'),
    contexts: [0, 1],
    integration_types: [0],
    options: SUBCOMMANDS.map((s) => ({
      type: ApplicationCommandOptionType.Subcommand,
      ...loc.both(`commands.tools.sub.${s.key}`, s.name),
      options: [
        { type: ApplicationCommandOptionType.Attachment, ...loc.both('commands.tools.options.image', 'image'), required: true },
        ...(s.name === 'upscale' ? [scaleOption(loc)] : []),
        ...jobOptionDefs(loc, ['delivery']),
      ],
    })),
  }),

  async run(interaction, ctx) {
    const o = interaction.options;
    const tool = SUBCOMMANDS.find((s) => s.name === o.getSubcommand())?.name;
    if (!tool) throw new UserError('errors.commandUnknown');
    const scale = o.getInteger('scale');
    await admitBeforeDownload(interaction, ctx); // a refused member costs no download
    const [image] = await readToolImages([o.getAttachment('image', true)], ctx, limitsFor(PICWISH_LIMITS, interaction.attachmentSizeLimit));
    if (!image) throw new UserError('errors.commandUnknown');
    const settings = await ctx.services.repos.users.settings(interaction.user.id);
    const job = await startTool(
      { interaction, ctx, delivery: pickDelivery(o.getString('delivery'), settings, ctx.rules) },
      { tool, image, scale: scale === 2 || scale === 4 ? scale : undefined },
    );
    await interaction.editReply({ content: acceptedReply(job, ctx), allowedMentions: { parse: [] } });
  },
};
