import { ApplicationCommandOptionType, ApplicationCommandType, type ChatInputCommandInteraction } from 'discord.js';
import { admitBeforeDownload } from '../src/discord/interactions/admission.js';
import { readImages } from '../src/discord/flows/attachments.js';
import { UserError, type Command } from '../src/discord/interactions/interactionKit.js';
import { startMjJob } from '../src/discord/flows/mjJobs.js';
import { validatePrompt } from '../src/mj/prompts.js';
import { jobOptionDefs, pickDelivery, pickSpeed, pickBot, acceptedReply } from '../src/discord/flows/jobOptions.js';

const PROMPT_MAX = 6000;

/** /imagine prompt [image] [image2] [bot] [speed] [delivery] */
export const imagine: Command<ChatInputCommandInteraction> = {
  name: 'imagine',
  defer: 'ephemeral',
  data: (loc) => ({
    type: ApplicationCommandType.ChatInput,
    ...loc.both('commands.imagine', 'imagine'),
    contexts: [0, 1],
    integration_types: [0],
    options: [
      { type: ApplicationCommandOptionType.String, ...loc.both('commands.imagine.options.prompt', 'prompt'), required: true, max_length: PROMPT_MAX },
      { type: ApplicationCommandOptionType.Attachment, ...loc.both('commands.imagine.options.image', 'image'), required: false },
      { type: ApplicationCommandOptionType.Attachment, ...loc.both('commands.imagine.options.image2', 'image2'), required: false },
      ...jobOptionDefs(loc),
    ],
  }),

  async run(interaction, ctx) {
    const { services } = ctx;
    const checked = validatePrompt(interaction.options.getString('prompt', true), { maxLength: PROMPT_MAX });
    if (!checked.ok) throw new UserError(checked.key, checked.params);
    const attachments = [interaction.options.getAttachment('image'), interaction.options.getAttachment('image2')];
    if (attachments.some(Boolean)) await admitBeforeDownload(interaction, ctx); // a refused member costs no download
    const images = await readImages(attachments, ctx);
    const settings = await services.repos.users.settings(interaction.user.id);
    const botType = pickBot(interaction.options.getString('bot'), settings);
    const mode = pickSpeed(interaction.options.getString('speed'), settings, services.config.mj.mode);
    const delivery = pickDelivery(interaction.options.getString('delivery'), settings, ctx.rules);

    const job = await startMjJob(interaction, ctx, { kind: 'imagine', prompt: checked.prompt, delivery, mode, botType }, (job) =>
      services.mj.imagine({ prompt: checked.prompt, images: images.map((i) => i.dataUrl), botType, mode, state: job.id }),
    );
    await interaction.editReply({ content: acceptedReply(job, ctx), allowedMentions: { parse: [] } });
  },
};
