import { ApplicationCommandOptionType, ApplicationCommandType, type ChatInputCommandInteraction } from 'discord.js';
import { admitBeforeDownload } from '../src/discord/interactions/admission.js';
import { readImages } from '../src/discord/flows/attachments.js';
import { UserError, type Command } from '../src/discord/interactions/interactionKit.js';
import { startMjJob } from '../src/discord/flows/mjJobs.js';
import { hasReferences, plannedReferences, referenceChoices, referenceOptionDefs, resolveReferences } from '../src/discord/flows/referenceImages.js';
import { refuseUnfitParams } from '../src/discord/flows/versionCheck.js';
import { validatePrompt } from '../src/mj/prompts.js';
import { assembleReferencePrompt, type References } from '../src/mj/referencePrompt.js';
import { jobOptionDefs, pickDelivery, pickSpeed, pickBot, acceptedReply, budgetedSpeed } from '../src/discord/flows/jobOptions.js';

const PROMPT_MAX = 6000;

/** /imagine prompt [image] [image2] [bot] [speed] [delivery] [sref] [sref_weight] [oref] [oref_weight] */
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
      ...referenceOptionDefs(loc),
    ],
  }),

  async run(interaction, ctx) {
    const { services } = ctx;
    const checked = validatePrompt(interaction.options.getString('prompt', true), { maxLength: PROMPT_MAX });
    if (!checked.ok) throw new UserError(checked.key, checked.params);
    const settings = await services.repos.users.settings(interaction.user.id);
    const botType = pickBot(interaction.options.getString('bot'), settings);
    const mode = await budgetedSpeed(interaction, ctx, pickSpeed(interaction.options.getString('speed'), settings, services.config.mj.mode));
    const delivery = pickDelivery(interaction.options.getString('delivery'), settings, ctx.rules);

    // what the prompt will be is checked before anything is downloaded or sent: version rules, references
    const refs = referenceChoices(interaction);
    const planned = hasReferences(refs) ? assembleReferencePrompt(checked.prompt, plannedReferences(refs)) : { ok: true as const, prompt: checked.prompt };
    if (!planned.ok) throw new UserError(planned.key, planned.params);
    refuseUnfitParams(planned.prompt, ctx, { botType });

    const attachments = [interaction.options.getAttachment('image'), interaction.options.getAttachment('image2'), refs.style, refs.omni];
    if (attachments.some(Boolean)) await admitBeforeDownload(interaction, ctx, { mayWait: true }); // a refused member costs no download
    const images = await readImages(attachments.slice(0, 2), ctx);
    const prompt = hasReferences(refs) ? withReferences(checked.prompt, await resolveReferences(refs, ctx)) : checked.prompt;

    const job = await startMjJob(
      interaction,
      ctx,
      { kind: 'imagine', prompt, delivery, mode, botType },
      (job) => services.mj.imagine({ prompt, images: images.map((i) => i.dataUrl), botType, mode, state: job.id }),
      { canWait: true }, // over a limit, it waits its turn in the server's queue
    );
    await interaction.editReply({ content: acceptedReply(job, ctx), allowedMentions: { parse: [] } });
  },
};

/** Image prompts travel as `base64Array` (the proxy hosts them and puts their URLs first); references go in the prompt. */
function withReferences(prompt: string, refs: Pick<References, 'style' | 'omni'>): string {
  const assembled = assembleReferencePrompt(prompt, refs);
  if (!assembled.ok) throw new UserError(assembled.key, assembled.params);
  return assembled.prompt;
}
