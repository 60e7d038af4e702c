import {
  ApplicationCommandType,
  PermissionsBitField,
  type APIEmbed,
  type ChatInputCommandInteraction,
  type RESTPostAPIApplicationCommandsJSONBody,
} from 'discord.js';
import type { Command, Ctx } from '../src/discord/interactions/interactionKit.js';
import { CommandLocalizer } from '../src/discord/interactions/registry.js';
import { DEFAULT_MJ_VERSION } from '../src/discord/flows/versionCheck.js';
import { offeredCommands } from './index.js';

const EMBED_COLOR = 0x5865f2;
const DESCRIPTION_MAX = 4096;

/** /help → what this server's bot offers (only what is configured), how buttons work, and the parameters of today's models. */
export const help: Command<ChatInputCommandInteraction> = {
  name: 'help',
  defer: 'ephemeral',
  data: (loc) => ({
    type: ApplicationCommandType.ChatInput,
    ...loc.both('commands.help', 'help'),
    contexts: [0, 1],
    integration_types: [0],
  }),

  async run(interaction, ctx) {
    const embeds: APIEmbed[] = [
      { title: ctx.t('help.titles.commands'), description: clamp(commandLines(interaction, ctx).join('\n')), color: EMBED_COLOR },
      { title: ctx.t('help.titles.buttons'), description: clamp(ctx.t('help.buttons')), color: EMBED_COLOR },
      {
        title: ctx.t('help.titles.parameters'),
        description: clamp(ctx.t('help.parameters', { version: ctx.services.config.mj.defaultVersion ?? DEFAULT_MJ_VERSION })),
        color: EMBED_COLOR,
      },
    ];
    await interaction.editReply({ embeds, allowedMentions: { parse: [] } });
  },
};

/** One line per command this bot registers here, as the member sees it (their language), menus last. */
function commandLines(interaction: ChatInputCommandInteraction, ctx: Ctx): string[] {
  const loc = new CommandLocalizer(ctx.services.i18n);
  const shown = offeredCommands(ctx.services)
    .map((c) => c.data(loc, ctx.services))
    .filter((d) => mayUse(d, interaction));
  const slash = shown.filter((d) => (d.type ?? ApplicationCommandType.ChatInput) === ApplicationCommandType.ChatInput);
  const menus = shown.filter((d) => d.type === ApplicationCommandType.Message);
  return [
    ...slash.map(
      (d) =>
        `**/${localized(d.name, d.name_localizations, ctx.locale)}** — ${localized(('description' in d ? d.description : undefined) ?? '', descriptionsOf(d), ctx.locale)}`,
    ),
    ...menus.map((d) => ctx.t('help.menuItem', { name: localized(d.name, d.name_localizations, ctx.locale) })),
  ];
}

/** Commands Discord shows only to members with a permission (e.g. /admin) are listed only for them. */
function mayUse(d: RESTPostAPIApplicationCommandsJSONBody, interaction: ChatInputCommandInteraction): boolean {
  const needed = d.default_member_permissions;
  if (needed === undefined || needed === null) return true;
  const has = interaction.memberPermissions;
  return has ? has.has(new PermissionsBitField(BigInt(needed))) : false;
}

function descriptionsOf(d: RESTPostAPIApplicationCommandsJSONBody): Record<string, string | null> | null | undefined {
  return 'description_localizations' in d ? d.description_localizations : undefined;
}

function localized(base: string, localizations: Record<string, string | null> | null | undefined, locale: string): string {
  return localizations?.[locale] ?? base;
}

function clamp(text: string): string {
  return text.length > DESCRIPTION_MAX ? `${text.slice(0, DESCRIPTION_MAX - 1)}…` : text;
}
