import { ApplicationCommandOptionType, ApplicationCommandType, type APIApplicationCommandBasicOption, type ChatInputCommandInteraction } from 'discord.js';
import { UserError, type Command } from '../src/discord/interactions/interactionKit.js';
import { acceptedReply, jobOptionDefs, pickDelivery } from '../src/discord/flows/jobOptions.js';
import { admitBeforeDownload } from '../src/discord/interactions/admission.js';
import { IMGOPEN_LIMITS, limitsFor, PROXY_LIMITS, readToolImages } from '../src/discord/flows/toolInputs.js';
import { isSwapEngine, startFaceSwap, SWAP_ENGINES, swapEngines, type SwapEngine } from '../src/discord/flows/toolJobs.js';
import type { Services } from '../src/services.js';

/**
 * /faceswap source target [engine] [fidelity] [face] [source2] [delivery]
 * Engines: Img Open V2 (default when configured), V1, multi-face, and the proxy's InsightFace. Only configured
 * engines are offered; the V2 and multi-face options appear only when Img Open is configured.
 */
export const faceswap: Command<ChatInputCommandInteraction> = {
  name: 'faceswap',
  defer: 'ephemeral',
  enabled: (services) => swapEngines(services).length > 0,
  data: (loc, services) => {
    const engines = services ? swapEngines(services) : [...SWAP_ENGINES];
    const v2: APIApplicationCommandBasicOption[] = [
      { type: ApplicationCommandOptionType.Number, ...loc.both('commands.faceswap.options.fidelity', 'fidelity'), required: false, min_value: 0, max_value: 1 },
    ];
    const multi: APIApplicationCommandBasicOption[] = [
      { type: ApplicationCommandOptionType.Integer, ...loc.both('commands.faceswap.options.face', 'face'), required: false, min_value: 1, max_value: 20 },
      { type: ApplicationCommandOptionType.Attachment, ...loc.both('commands.faceswap.options.source2', 'source2'), required: false },
    ];
    return {
      type: ApplicationCommandType.ChatInput,
      ...loc.both('commands.faceswap', 'faceswap'),
      contexts: [0, 1],
      integration_types: [0],
      options: [
        { type: ApplicationCommandOptionType.Attachment, ...loc.both('commands.faceswap.options.source', 'source'), required: true },
        { type: ApplicationCommandOptionType.Attachment, ...loc.both('commands.faceswap.options.target', 'target'), required: true },
        {
          type: ApplicationCommandOptionType.String,
          ...loc.both('commands.faceswap.options.engine', 'engine'),
          required: false,
          choices: engines.map((e) => loc.choice(`commands.faceswap.choices.engine.${e}`, e)),
        },
        ...(engines.includes('v2') ? v2 : []),
        ...(engines.includes('multi') ? multi : []),
        ...jobOptionDefs(loc, ['delivery']),
      ],
    };
  },

  async run(interaction, ctx) {
    const { services } = ctx;
    const o = interaction.options;
    const fidelity = o.getNumber('fidelity') ?? undefined;
    const faceIdx = o.getInteger('face') ?? undefined;
    const source2Att = o.getAttachment('source2');
    const engine = pickEngine(o.getString('engine'), { fidelity, faceIdx, source2: Boolean(source2Att) }, services);

    // options that belong to another engine are refused, not silently dropped
    if (fidelity !== undefined && engine !== 'v2') throw new UserError('tools.errors.fidelityNeedsV2');
    if ((faceIdx !== undefined || source2Att) && engine !== 'multi') throw new UserError('tools.errors.facesNeedMulti');
    if (fidelity !== undefined && !(fidelity >= 0 && fidelity <= 1)) throw new UserError('tools.errors.fidelityInvalid', { value: String(fidelity) });
    if (faceIdx !== undefined && !(Number.isInteger(faceIdx) && faceIdx >= 1)) throw new UserError('tools.errors.faceIndexInvalid', { value: String(faceIdx) });

    const limits = limitsFor(engine === 'proxy' ? PROXY_LIMITS : IMGOPEN_LIMITS, interaction.attachmentSizeLimit);
    await admitBeforeDownload(interaction, ctx); // a refused member costs no download
    const [source, target, source2] = await readToolImages([o.getAttachment('source', true), o.getAttachment('target', true), source2Att], ctx, limits);
    if (!source || !target) throw new UserError('tools.errors.faceMissing');
    if (source.bytes.equals(target.bytes)) throw new UserError('tools.errors.sameImages');

    const settings = await services.repos.users.settings(interaction.user.id);
    const job = await startFaceSwap(
      { interaction, ctx, delivery: pickDelivery(o.getString('delivery'), settings, ctx.rules) },
      { engine, source, target, source2, faceIdx, fidelity },
    );
    await interaction.editReply({ content: acceptedReply(job, ctx), allowedMentions: { parse: [] } });
  },
};

/** The chosen engine, else the one the other options imply, else the best configured one. */
function pickEngine(
  option: string | null,
  implied: { fidelity?: number | undefined; faceIdx?: number | undefined; source2: boolean },
  services: Services,
): SwapEngine {
  const available = swapEngines(services);
  if (option !== null) {
    if (!isSwapEngine(option) || !available.includes(option)) throw new UserError('tools.errors.engineUnavailable');
    return option;
  }
  const wanted: SwapEngine | undefined = implied.faceIdx !== undefined || implied.source2 ? 'multi' : implied.fidelity !== undefined ? 'v2' : undefined;
  if (wanted && available.includes(wanted)) return wanted;
  const best = available[0];
  if (!best) throw new UserError('tools.errors.engineUnavailable');
  return best;
}
