import { ApplicationCommandOptionType, ApplicationCommandType, type ChatInputCommandInteraction } from 'discord.js';
import { UserError, type Command } from '../src/discord/interactions/interactionKit.js';
import { acceptedReply, jobOptionDefs, pickDelivery } from '../src/discord/flows/jobOptions.js';
import { admitBeforeDownload } from '../src/discord/interactions/admission.js';
import { checkRectanglesText, limitsFor, PICWISH_LIMITS, readRegion, readToolImages } from '../src/discord/flows/toolInputs.js';
import { startInpaint } from '../src/discord/flows/toolJobs.js';
import { editorAvailable, offerEditor } from '../src/discord/flows/maskEditor.js';

/**
 * /inpaint image [mask] [rectangles] [delivery] — object removal (PicWish). The area to remove is a black/white
 * mask of the image's size (white = remove) or rectangles `x,y,w,h; …` (up to 50); with neither, and PUBLIC_URL set,
 * the member draws it in the browser mask editor. Everything is checked before anything is sent.
 */
export const inpaint: Command<ChatInputCommandInteraction> = {
  name: 'inpaint',
  defer: 'ephemeral',
  enabled: (services) => Boolean(services.picwish),
  data: (loc) => ({
    type: ApplicationCommandType.ChatInput,
    ...loc.both('commands.inpaint', 'inpaint'),
    contexts: [0, 1],
    integration_types: [0],
    options: [
      { type: ApplicationCommandOptionType.Attachment, ...loc.both('commands.inpaint.options.image', 'image'), required: true },
      { type: ApplicationCommandOptionType.Attachment, ...loc.both('commands.inpaint.options.mask', 'mask'), required: false },
      { type: ApplicationCommandOptionType.String, ...loc.both('commands.inpaint.options.rectangles', 'rectangles'), required: false, max_length: 2000 },
      ...jobOptionDefs(loc, ['delivery']),
    ],
  }),

  async run(interaction, ctx) {
    const o = interaction.options;
    const mask = o.getAttachment('mask');
    const rects = (o.getString('rectangles') ?? '').trim();
    if (mask && rects) throw new UserError('tools.errors.maskAndRectangles');
    const drawIt = !mask && !rects; // neither: the area is drawn in the mask editor (PUBLIC_URL), else it is missing
    if (drawIt && !editorAvailable(ctx.services)) throw new UserError('errors.maskMissing');
    checkRectanglesText(rects); // count and syntax before any download

    await admitBeforeDownload(interaction, ctx); // a refused member costs no download and no decode
    const limits = limitsFor(PICWISH_LIMITS, interaction.attachmentSizeLimit);
    const [image] = await readToolImages([o.getAttachment('image', true)], ctx, limits);
    if (!image) throw new UserError('errors.maskMissing');
    const settings = await ctx.services.repos.users.settings(interaction.user.id);
    const delivery = pickDelivery(o.getString('delivery'), settings, ctx.rules);
    if (drawIt) {
      const { url, name, width, height } = image;
      await offerEditor(interaction, ctx, { flow: 'inpaint', image: { url, name }, delivery, width, height, command: 'inpaint' });
      return;
    }
    const region = await readRegion(image, mask, rects, ctx, limits);
    const job = await startInpaint({ interaction, ctx, delivery }, { image, ...region });
    await interaction.editReply({ content: acceptedReply(job, ctx), allowedMentions: { parse: [] } });
  },
};
