import { ApplicationCommandOptionType, ApplicationCommandType, type Attachment, type ChatInputCommandInteraction } from 'discord.js';
import { admitBeforeDownload } from '../src/discord/interactions/admission.js';
import { readImages } from '../src/discord/flows/attachments.js';
import { UserError, type Command } from '../src/discord/interactions/interactionKit.js';
import { acceptedReply } from '../src/discord/flows/jobOptions.js';
import { jobOptionDefs } from '../src/discord/flows/jobOptions.js';
import { jobChoices, startMjJob } from '../src/discord/flows/mjJobs.js';

/** Aspect ratio of each blend shape the proxy takes as `dimensions`. */
const DIMENSIONS = { PORTRAIT: '2:3', SQUARE: '1:1', LANDSCAPE: '3:2' } as const;
type Dimensions = keyof typeof DIMENSIONS;

const IMAGE_OPTIONS = ['image1', 'image2', 'image3', 'image4', 'image5'] as const;
export const BLEND_MIN = 2;
/**
 * All images together, before base64: the proxy receives them as one JSON body, and ASP.NET Core (trueai) refuses
 * request bodies over ~28.6 MiB by default — 20 MiB of images is ~26.7 MiB once base64-encoded.
 */
export const BLEND_MAX_TOTAL_BYTES = 20 * 1024 * 1024;

/** /blend image1 image2 [image3…image5] [dimensions] [bot] [speed] [delivery] */
export const blend: Command<ChatInputCommandInteraction> = {
  name: 'blend',
  defer: 'ephemeral',
  // without mode paths only /imagine can carry a speed (as a prompt flag): blend has no prompt
  data: (loc, services) => ({
    type: ApplicationCommandType.ChatInput,
    ...loc.both('commands.blend', 'blend'),
    contexts: [0, 1],
    integration_types: [0],
    options: [
      ...IMAGE_OPTIONS.map((name, i) => ({
        type: ApplicationCommandOptionType.Attachment as const,
        ...loc.both(`commands.blend.options.${name}`, name),
        required: i < BLEND_MIN,
      })),
      {
        type: ApplicationCommandOptionType.String,
        ...loc.both('commands.blend.options.dimensions', 'dimensions'),
        required: false,
        choices: [
          loc.choice('commands.blend.choices.portrait', 'PORTRAIT'),
          loc.choice('commands.blend.choices.square', 'SQUARE'),
          loc.choice('commands.blend.choices.landscape', 'LANDSCAPE'),
        ],
      },
      ...jobOptionDefs(loc, (services?.mj.capabilities().modePaths ?? true) ? undefined : ['bot', 'delivery']),
    ],
  }),

  async run(interaction, ctx) {
    const attachments = IMAGE_OPTIONS.map((n) => interaction.options.getAttachment(n)).filter((a): a is Attachment => a !== null);
    if (attachments.length < BLEND_MIN) throw new UserError('blend.tooFew', { count: attachments.length, min: BLEND_MIN });
    const total = attachments.reduce((sum, a) => sum + a.size, 0);
    if (total > BLEND_MAX_TOTAL_BYTES) throw new UserError('blend.tooLargeTotal', { size: mib(total), max: mib(BLEND_MAX_TOTAL_BYTES) });
    const dimensions = parseDimensions(interaction.options.getString('dimensions'));
    await admitBeforeDownload(interaction, ctx, { mayWait: true }); // a refused member costs no download
    const images = await readImages(attachments, ctx);
    const choices = await jobChoices(interaction, ctx);

    const names = images.map((img) => img.name.slice(0, 40)).join(' ');
    const job = await startMjJob(
      interaction,
      ctx,
      { kind: 'blend', prompt: `${names} --ar ${DIMENSIONS[dimensions]}`, ...choices },
      (j) => ctx.services.mj.blend({ images: images.map((img) => img.dataUrl), dimensions, botType: choices.botType, mode: choices.mode, state: j.id }),
      { canWait: true },
    );
    await interaction.editReply({ content: acceptedReply(job, ctx), allowedMentions: { parse: [] } });
  },
};

function parseDimensions(value: string | null): Dimensions {
  if (value === null) return 'SQUARE';
  if (value in DIMENSIONS) return value as Dimensions;
  throw new UserError('blend.badDimensions');
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
