import { ApplicationCommandOptionType, ApplicationCommandType, type ChatInputCommandInteraction } from 'discord.js';
import { UserError, type Command } from '../src/discord/interactions/interactionKit.js';
import { acceptedReply } from '../src/discord/flows/jobOptions.js';
import { jobOptionDefs } from '../src/discord/flows/jobOptions.js';
import { jobChoices, startMjJob } from '../src/discord/flows/mjJobs.js';
import { validatePrompt } from '../src/mj/prompts.js';

const PROMPT_MAX = 6000;

/** /shorten prompt → the analysis and five shorter candidates, each a button that starts an imagine. */
export const shorten: Command<ChatInputCommandInteraction> = {
  name: 'shorten',
  defer: 'ephemeral',
  // only where the proxy has the route (plus, trueai); it also drops out at runtime after a 404
  enabled: (services) => services.mj.capabilities().shorten,
  data: (loc) => ({
    type: ApplicationCommandType.ChatInput,
    ...loc.both('commands.shorten', 'shorten'),
    contexts: [0, 1],
    integration_types: [0],
    options: [
      { type: ApplicationCommandOptionType.String, ...loc.both('commands.shorten.options.prompt', 'prompt'), required: true, max_length: PROMPT_MAX },
      ...jobOptionDefs(loc),
    ],
  }),

  async run(interaction, ctx) {
    const checked = validatePrompt(interaction.options.getString('prompt', true), { maxLength: PROMPT_MAX });
    if (!checked.ok) throw new UserError(checked.key, checked.params);
    if (!ctx.services.mj.capabilities().shorten) throw new UserError('errors.unsupported');
    const choices = await jobChoices(interaction, ctx);
    const job = await startMjJob(
      interaction,
      ctx,
      { kind: 'shorten', prompt: checked.prompt, ...choices },
      (j) => ctx.services.mj.shorten({ prompt: checked.prompt, botType: choices.botType, mode: choices.mode, state: j.id }),
      { canWait: true },
    );
    await interaction.editReply({ content: acceptedReply(job, ctx), allowedMentions: { parse: [] } });
  },
};
