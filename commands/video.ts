import { ApplicationCommandOptionType, ApplicationCommandType, type ChatInputCommandInteraction } from 'discord.js';
import { readImages } from '../src/discord/flows/attachments.js';
import { jobOptionDefs } from '../src/discord/flows/jobOptions.js';
import { startVideo } from '../src/discord/flows/videoJobs.js';
import { admitBeforeDownload } from '../src/discord/interactions/admission.js';
import { UserError, type Command } from '../src/discord/interactions/interactionKit.js';
import { validatePrompt } from '../src/mj/prompts.js';
import type { Services } from '../src/services.js';

const PROMPT_MAX = 4000;

/**
 * /video image [prompt] [end_image | loop] [motion] [batch] [hd] [speed] [delivery]: Midjourney's image-to-video.
 * Offered only where a video can start (the proxy's video route, or `--video 1` on an imagine); `hd` only where
 * the proxy has the route (its `videoType`).
 */
export const video: Command<ChatInputCommandInteraction> = {
  name: 'video',
  defer: 'ephemeral',
  enabled: (services) => videoWay(services) !== false,
  data: (loc, services) => ({
    type: ApplicationCommandType.ChatInput,
    ...loc.both('commands.video', 'video'),
    contexts: [0, 1],
    integration_types: [0],
    options: [
      { type: ApplicationCommandOptionType.Attachment, ...loc.both('commands.video.options.image', 'image'), required: true },
      { type: ApplicationCommandOptionType.String, ...loc.both('commands.video.options.prompt', 'prompt'), required: false, max_length: PROMPT_MAX },
      { type: ApplicationCommandOptionType.Attachment, ...loc.both('commands.video.options.end_image', 'end_image'), required: false },
      { type: ApplicationCommandOptionType.Boolean, ...loc.both('commands.video.options.loop', 'loop'), required: false },
      {
        type: ApplicationCommandOptionType.String,
        ...loc.both('commands.video.options.motion', 'motion'),
        required: false,
        choices: [loc.choice('commands.video.choices.low', 'low'), loc.choice('commands.video.choices.high', 'high')],
      },
      {
        type: ApplicationCommandOptionType.Integer,
        ...loc.both('commands.video.options.batch', 'batch'),
        required: false,
        choices: [
          loc.choice('commands.video.choices.batch1', 1),
          loc.choice('commands.video.choices.batch2', 2),
          loc.choice('commands.video.choices.batch4', 4),
        ],
      },
      ...(services === undefined || videoWay(services) === 'route'
        ? [{ type: ApplicationCommandOptionType.Boolean as const, ...loc.both('commands.video.options.hd', 'hd'), required: false }]
        : []),
      ...jobOptionDefs(loc, (services?.mj.capabilities().modePaths ?? true) ? ['speed', 'delivery'] : ['delivery']),
    ],
  }),

  async run(interaction, ctx) {
    const o = interaction.options;
    const text = o.getString('prompt')?.trim() ?? '';
    let prompt = '';
    if (text) {
      const checked = validatePrompt(text, { maxLength: PROMPT_MAX });
      if (!checked.ok) throw new UserError(checked.key, checked.params);
      prompt = checked.prompt;
    }
    const endAttachment = o.getAttachment('end_image');
    const loop = o.getBoolean('loop') === true;
    if (endAttachment && loop) throw new UserError('videoCommand.endAndLoop');
    await admitBeforeDownload(interaction, ctx); // a refused member costs no download
    const [start, end] = await readImages([o.getAttachment('image', true), endAttachment], ctx);
    const batch = o.getInteger('batch');
    await startVideo(interaction, ctx, {
      start: start!,
      end,
      prompt,
      loop,
      motion: o.getString('motion') === 'high' ? 'high' : 'low',
      batchSize: batch === 1 || batch === 2 || batch === 4 ? batch : undefined,
      hd: o.getBoolean('hd') === true && videoWay(ctx.services) !== 'prompt', // the option is registered only where the route is
    });
  },
};

/** How this proxy starts a video (see MjCapabilities.video). */
function videoWay(services: Services) {
  return services.mj.capabilities().video;
}
