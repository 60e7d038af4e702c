import {
  MessageFlags,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Interaction,
  type MessageContextMenuCommandInteraction,
  type ModalSubmitInteraction,
  type RESTPostAPIApplicationCommandsJSONBody,
  type RepliableInteraction,
  type StringSelectMenuInteraction,
} from 'discord.js';
import type { GuildRules } from '../../community/rules.js';
import type { Msg } from '../../jobs/model.js';
import type { Services } from '../../services.js';
import type { MessagePayload } from '../messages/messenger.js';
import type { CommandLocalizer } from './registry.js';
import type { RouteName } from './customId.js';
import { toApiBody } from '../messages/messenger.js';

/** A refusal the user should read: a message key, shown ephemerally. Never a bug. */
export class UserError extends Error {
  constructor(
    readonly key: string,
    readonly params?: Record<string, string | number>,
  ) {
    super(key);
    this.name = 'UserError';
  }

  static from(m: Msg): UserError {
    return new UserError(m.key, m.params);
  }
}

/** Per-interaction context handed to every handler: the services, the reply language, the server's rules. */
export interface Ctx {
  services: Services;
  locale: string;
  /** the rules of the server the interaction came from (undefined in DMs) */
  rules?: GuildRules | undefined;
  /**
   * the server whose rules apply (and whose quotas a job counts against): the interaction's; in DMs the server a
   * pressed button's job came from, or the home server for a DM command (see community/reach.ts)
   */
  guildId?: string | undefined;
  t(key: string, params?: Record<string, string | number>): string;
}

export type CommandInteraction = ChatInputCommandInteraction | MessageContextMenuCommandInteraction;

/** A slash or context-menu command: its JSON definition and its handler, in one file under commands/. */
export interface Command<I extends CommandInteraction = CommandInteraction> {
  /**
   * the JSON Discord registers; names and descriptions come from the locale files through the localizer.
   * `services` (given at registration) lets a command offer only what is configured, e.g. engine choices.
   */
  data(loc: CommandLocalizer, services?: Services): RESTPostAPIApplicationCommandsJSONBody;
  /** the base (English, ASCII) name Discord routes on */
  name: string;
  /**
   * How the dispatcher acknowledges before `run` (inside Discord's 3 s window):
   * 'ephemeral' / 'public' defer; 'none' means the handler answers at once itself (e.g. opens a modal).
   */
  defer: 'ephemeral' | 'public' | 'none';
  /** refuse in DMs (the command needs a server) */
  guildOnly?: boolean;
  /** registered only when this returns true (e.g. its upstream is configured) */
  enabled?(services: Services): boolean;
  run(interaction: I, ctx: Ctx): Promise<void>;
}

export type ComponentInteraction = ButtonInteraction | ModalSubmitInteraction | StringSelectMenuInteraction;

/** How the dispatcher acknowledges a component before `run`. */
export type Ack =
  /** defer an update of the message the component is on (the press shows no reply of its own) */
  | 'update'
  /** defer a reply only the presser sees */
  | 'ephemeral'
  /** `run` answers at once itself, as its first step (opens a modal, or updates the message in place) */
  | 'none';

interface Accepted {
  button: ButtonInteraction;
  modal: ModalSubmitInteraction;
  select: StringSelectMenuInteraction;
}
export type AcceptedKind = keyof Accepted;

/**
 * A button, modal or select handler: one file under components/ per custom_id route. The dispatcher checks the
 * interaction's kind, `parse`s the rest of its custom_id (cheap; refuses with a UserError when expired or not the
 * presser's), acknowledges as `ack` says, then calls `run` with what was parsed. A fixed 'update' / 'ephemeral' is
 * sent before `parse` (no store read delays it); an `ack` that needs `parse`'s data (a press that may open a modal)
 * waits for it, so such a `parse` reads only what decides the acknowledgement and leaves the rest to `run`.
 */
export interface Component<D, K extends AcceptedKind = AcceptedKind> {
  route: RouteName;
  accepts: K;
  parse(rest: string, interaction: Accepted[K], ctx: Ctx): Promise<D>;
  ack: Ack | ((data: D) => Ack);
  run(interaction: Accepted[K], data: D, ctx: Ctx): Promise<void>;
}

/** A component as the dispatcher holds it: its data type erased (it only ever passes parse's result to run). */
export type AnyComponent = Component<unknown, AcceptedKind>;

/** Declare a component piece (typed), listed in components/index.ts (erased). */
export function component<D, K extends AcceptedKind>(piece: Component<D, K>): AnyComponent {
  return piece as unknown as AnyComponent;
}

/** Whether an interaction is of the kind a component accepts. */
export function accepts(piece: AnyComponent, i: ComponentInteraction): boolean {
  if (piece.accepts === 'button') return i.isButton();
  if (piece.accepts === 'modal') return i.isModalSubmit();
  return i.isStringSelectMenu();
}

/** The member's role ids (empty in DMs), whether discord.js cached the member or not. */
export function memberRoleIds(interaction: Interaction): string[] {
  const m = interaction.member as { roles?: string[] | { cache?: Map<string, unknown> } } | null;
  if (!m?.roles) return [];
  if (Array.isArray(m.roles)) return m.roles;
  return m.roles.cache ? [...m.roles.cache.keys()] : [];
}

/** Reply ephemerally whatever state the interaction is in (not yet answered, deferred, or answered). */
export async function replyEphemeral(interaction: RepliableInteraction, content: string, extra: Omit<MessagePayload, 'content' | 'flags'> = {}): Promise<void> {
  const { body, files } = toApiBody({ ...extra, content });
  const options = {
    content,
    components: body.components as never,
    embeds: body.embeds as never,
    allowedMentions: { parse: [] },
    ...(files ? { files: files.map((f) => ({ attachment: f.data as Buffer, name: f.name })) } : {}),
  };
  if (interaction.deferred && !interaction.replied && isEphemeralDefer(interaction)) {
    await interaction.editReply(options);
  } else if (interaction.deferred || interaction.replied) {
    await interaction.followUp({ ...options, flags: MessageFlags.Ephemeral });
  } else {
    await interaction.reply({ ...options, flags: MessageFlags.Ephemeral });
  }
}

const ephemeralDefers = new WeakSet<object>();

/** Defer so that the later editReply is seen only by the user. */
export async function deferEphemeral(interaction: RepliableInteraction): Promise<void> {
  ephemeralDefers.add(interaction);
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
}

export function isEphemeralDefer(interaction: Interaction): boolean {
  return ephemeralDefers.has(interaction);
}
