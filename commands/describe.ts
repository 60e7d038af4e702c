import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  type Attachment,
  type ChatInputCommandInteraction,
  type MessageContextMenuCommandInteraction,
} from 'discord.js';
import { admitBeforeDownload } from '../src/discord/interactions/admission.js';
import { readImages } from '../src/discord/flows/attachments.js';
import { UserError, type Command, type Ctx } from '../src/discord/interactions/interactionKit.js';
import { acceptedReply } from '../src/discord/flows/jobOptions.js';
import { jobOptionDefs } from '../src/discord/flows/jobOptions.js';
import { jobChoices, startMjJob } from '../src/discord/flows/mjJobs.js';
import { checkImageLink } from '../src/mj/links.js';

/** /describe image | link [speed] [delivery] → the four prompts with buttons 1 2 3 4, 🔄 and Imagine all. */
export const describe: Command<ChatInputCommandInteraction> = {
  name: 'describe',
  defer: 'ephemeral',
  // without mode paths only /imagine can carry a speed (as a prompt flag): describe has no prompt
  data: (loc, services) => ({
    type: ApplicationCommandType.ChatInput,
    ...loc.both('commands.describe', 'describe'),
    contexts: [0, 1],
    integration_types: [0],
    options: [
      { type: ApplicationCommandOptionType.Attachment, ...loc.both('commands.describe.options.image', 'image'), required: false },
      { type: ApplicationCommandOptionType.String, ...loc.both('commands.describe.options.link', 'link'), required: false, max_length: 2000 },
      ...jobOptionDefs(loc, (services?.mj.capabilities().modePaths ?? true) ? ['speed', 'delivery'] : ['delivery']),
    ],
  }),

  async run(interaction, ctx) {
    await startDescribe(interaction, ctx, { image: interaction.options.getAttachment('image'), link: interaction.options.getString('link') });
  },
};

/** Validate the image (by its bytes) or the link, submit the describe job, and tell the user it is on its way. */
export async function startDescribe(
  interaction: ChatInputCommandInteraction | MessageContextMenuCommandInteraction,
  ctx: Ctx,
  source: { image?: Attachment | null; link?: string | null },
): Promise<void> {
  const { services } = ctx;
  const link = source.link?.trim() || undefined;
  if (source.image && link) throw new UserError('describe.both');
  if (!source.image && !link) throw new UserError('describe.nothing');

  let request: { image?: string; link?: string };
  let label: string;
  if (source.image) {
    await admitBeforeDownload(interaction, ctx, { mayWait: true }); // a refused member costs no download
    const [img] = await readImages([source.image], ctx);
    request = { image: img!.dataUrl };
    label = img!.name;
  } else {
    const checked = checkImageLink(link!);
    if (!checked.ok) throw new UserError(checked.key);
    if (!services.mj.capabilities().describeLink) throw new UserError('describe.linkUnsupported');
    // the proxy will fetch it from inside our network: its host must resolve to public addresses only
    const target = await services.outbound.checkLink(checked.url);
    if (!target.ok)
      throw new UserError(target.why === 'unresolvable' ? 'describe.linkUnresolvable' : target.why === 'scheme' ? 'describe.badLink' : 'describe.privateLink');
    request = { link: checked.url };
    label = checked.url;
  }

  const choices = await jobChoices(interaction, ctx);
  const job = await startMjJob(
    interaction,
    ctx,
    { kind: 'describe', prompt: label, ...choices },
    (j) => services.mj.describe({ ...request, botType: choices.botType, mode: choices.mode, state: j.id }),
    { canWait: true },
  );
  await interaction.editReply({ content: acceptedReply(job, ctx), allowedMentions: { parse: [] } });
}
