import { ApplicationCommandOptionType, type APIApplicationCommandBasicOption, type Attachment, type ChatInputCommandInteraction } from 'discord.js';
import { describeSubmitError } from '../../jobs/submitErrors.js';
import { MjError } from '../../upstream/mjTypes.js';
import type { References } from '../../mj/referencePrompt.js';
import { UserError, type Ctx } from '../interactions/interactionKit.js';
import type { CommandLocalizer } from '../interactions/registry.js';
import { readImages, type CheckedImage } from './attachments.js';

/** Midjourney's weight ranges: style weight `--sw` 0–1000 (default 100), omni weight `--ow` 1–1000 (default 100). */
export const STYLE_WEIGHT = { min: 0, max: 1000 } as const;
export const OMNI_WEIGHT = { min: 1, max: 1000 } as const;

/** The reference-image options of /imagine: a style reference and an omni reference, each with its weight. */
export function referenceOptionDefs(loc: CommandLocalizer): APIApplicationCommandBasicOption[] {
  return [
    { type: ApplicationCommandOptionType.Attachment, ...loc.both('commands.imagine.options.sref', 'sref'), required: false },
    {
      type: ApplicationCommandOptionType.Integer,
      ...loc.both('commands.imagine.options.sref_weight', 'sref_weight'),
      required: false,
      min_value: STYLE_WEIGHT.min,
      max_value: STYLE_WEIGHT.max,
    },
    { type: ApplicationCommandOptionType.Attachment, ...loc.both('commands.imagine.options.oref', 'oref'), required: false },
    {
      type: ApplicationCommandOptionType.Integer,
      ...loc.both('commands.imagine.options.oref_weight', 'oref_weight'),
      required: false,
      min_value: OMNI_WEIGHT.min,
      max_value: OMNI_WEIGHT.max,
    },
  ];
}

/** What the member attached and chose. */
export interface ReferenceChoices {
  style?: Attachment | undefined;
  styleWeight?: number | undefined;
  omni?: Attachment | undefined;
  omniWeight?: number | undefined;
}

export function referenceChoices(i: ChatInputCommandInteraction): ReferenceChoices {
  return {
    style: i.options.getAttachment('sref') ?? undefined,
    styleWeight: i.options.getInteger('sref_weight') ?? undefined,
    omni: i.options.getAttachment('oref') ?? undefined,
    omniWeight: i.options.getInteger('oref_weight') ?? undefined,
  };
}

export function hasReferences(c: ReferenceChoices): boolean {
  return c.style !== undefined || c.omni !== undefined || c.styleWeight !== undefined || c.omniWeight !== undefined;
}

/**
 * The attached references as URLs Midjourney can fetch: each is downloaded and checked like any upload (size
 * first, type and pixels from its bytes, the outbound address policy), then hosted on the proxy's Discord channel
 * (`upload-discord-images`) where the proxy has that route, else given as the attachment's own signed URL
 * (valid about a day, long enough for the job).
 */
export async function resolveReferences(c: ReferenceChoices, ctx: Ctx): Promise<Pick<References, 'style' | 'omni'>> {
  const wanted = [c.style, c.omni].filter((a): a is Attachment => a !== undefined);
  if (wanted.length === 0) return { style: weightOnly(c.styleWeight), omni: weightOnly(c.omniWeight) };
  const images = await readImages(wanted, ctx);
  const urls = await hostedUrls(images, ctx);
  const urlOf = (a: Attachment | undefined) => (a ? urls[wanted.indexOf(a)] : undefined);
  return {
    style: referenceOf(urlOf(c.style), c.styleWeight),
    omni: referenceOf(urlOf(c.omni), c.omniWeight),
  };
}

async function hostedUrls(images: CheckedImage[], ctx: Ctx): Promise<string[]> {
  try {
    const hosted = await ctx.services.mj.uploadImages(images.map((i) => i.dataUrl));
    if (hosted) return hosted;
  } catch (err) {
    // uploads switched off on the proxy (code 4): the signed URL still works; anything else is the member's answer
    if (!(err instanceof MjError && err.kind === 'validation')) throw UserError.from(describeSubmitError(err, ctx.services.config.secrets));
    ctx.services.logger.warn({ err }, 'the proxy refused to host reference images; passing the attachment URLs instead');
  }
  return images.map((i) => i.url);
}

function referenceOf(url: string | undefined, weight: number | undefined): References['style'] {
  if (url === undefined && weight === undefined) return undefined;
  return { url, weight };
}

function weightOnly(weight: number | undefined): References['style'] {
  return weight === undefined ? undefined : { weight };
}

/** The same choices with stand-in URLs: what the prompt will look like, to refuse before anything is downloaded. */
export function plannedReferences(c: ReferenceChoices): Pick<References, 'style' | 'omni'> {
  return {
    style: referenceOf(c.style ? 'attachment://sref' : undefined, c.styleWeight),
    omni: referenceOf(c.omni ? 'attachment://oref' : undefined, c.omniWeight),
  };
}
