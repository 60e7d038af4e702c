import type { Interaction } from 'discord.js';
import { commandRuling, componentRuling, type ReachSettings, type Ruling } from '../../community/reach.js';
import type { GuildRules } from '../../community/rules.js';
import type { Msg } from '../../jobs/model.js';
import { resolveLocale } from '../../i18n/index.js';
import type { Services } from '../../services.js';
import { AckFirst } from './ackFirst.js';
import { originGuildOf } from './componentOrigin.js';
import { DiscordCodes, discordCode } from '../messages/messenger.js';
import { requesterFacts } from './requesterFacts.js';
import { parse as parseCustomId, ROUTES, type RouteName } from './customId.js';
import {
  UserError,
  accepts,
  deferEphemeral,
  replyEphemeral,
  type Ack,
  type AnyComponent,
  type Command,
  type CommandInteraction,
  type ComponentInteraction,
  type Ctx,
} from './interactionKit.js';

export interface DispatcherStats {
  /** ms from the interaction's creation (snowflake time) to our acknowledgement, last N */
  ackLatencies: number[];
  handled: number;
  failed: number;
}

/** How an interaction ended, for metrics. */
export type InteractionOutcome = 'ok' | 'user_error' | 'error' | 'expired' | 'refused';

/** Optional observers (metrics); they must not throw. */
export interface DispatcherHooks {
  /** every interaction, once, when its handling ends; `name` is a known command or `component:<prefix>` (else `unknown`) */
  handled?(name: string, outcome: InteractionOutcome): void;
  /** every acknowledgement latency recorded, in ms */
  ack?(ms: number): void;
}

/**
 * The one entry point for interactions: commands by name, components (buttons, modals, selects) by custom_id route.
 * Acknowledges first (a burst is acknowledged before any of its work starts), records the acknowledgement latency,
 * runs the handler, and turns every error into a clear ephemeral message; the process always lives on.
 */
export class Dispatcher {
  private commands = new Map<string, Command>();
  private components = new Map<RouteName, AnyComponent>();
  readonly stats: DispatcherStats = { ackLatencies: [], handled: 0, failed: 0 };
  private draining = false;
  /** a burst of commands is acknowledged before any of them starts its work */
  private readonly ackFirst = new AckFirst();

  private readonly reach: ReachSettings;

  constructor(
    private services: Services,
    commands: Command[],
    components: AnyComponent[],
    private hooks: DispatcherHooks = {},
  ) {
    for (const c of commands) this.commands.set(c.name, c);
    for (const c of components) this.components.set(c.route, c);
    const d = services.config.discord;
    this.reach = { allowedGuilds: d.allowedGuilds, homeGuildId: d.homeGuildId, dmCommands: d.dmCommands };
  }

  /** Stop taking new work (shutdown): new interactions get a polite refusal. */
  drain(): void {
    this.draining = true;
  }

  /** Reply language: the server's override (/admin rules language), else the member's client, else the server's. */
  ctxFor(interaction: Interaction, rules?: GuildRules, guildId?: string): Ctx {
    const locale = resolveLocale(rules?.locale, interaction.locale, interaction.guildLocale);
    const i18n = this.services.i18n;
    return { services: this.services, locale, rules, guildId, t: (key, params) => i18n.t(locale, key, params) };
  }

  /**
   * Whose rules apply: the interaction's server (refused outright if the bot does not serve it); in DMs, the server
   * a button's job came from, or the home server for a command (DM commands are refused unless turned on).
   */
  private async ruling(interaction: Interaction): Promise<Ruling> {
    if (interaction.isMessageComponent() || interaction.isModalSubmit()) {
      const parsed = interaction.guildId ? null : parseCustomId(interaction.customId);
      const origin = parsed ? await originGuildOf(parsed.route, parsed.rest, this.services.repos) : undefined;
      return componentRuling(this.reach, interaction.guildId, origin);
    }
    const name = interaction.isCommand() || interaction.isAutocomplete() ? interaction.commandName : '';
    return commandRuling(this.reach, interaction.guildId, this.commands.get(name)?.guildOnly === true);
  }

  async handle(interaction: Interaction): Promise<void> {
    if (!interaction.isRepliable() && !interaction.isAutocomplete()) return;
    const ruling = await this.ruling(interaction).catch((err): Ruling => {
      this.services.logger.warn({ err, interactionId: interaction.id }, "could not tell whose rules apply; using the interaction's server");
      return { guildId: interaction.guildId ?? undefined };
    });
    const rules = ruling.guildId ? await this.services.community.rules(ruling.guildId).catch(() => undefined) : undefined;
    const ctx = this.ctxFor(interaction, rules, ruling.guildId);
    const log = this.services.logger;
    this.stats.handled++;
    let outcome: InteractionOutcome = 'ok';
    try {
      if (this.draining && interaction.isRepliable()) {
        outcome = 'refused';
        await replyEphemeral(interaction, ctx.t('errors.shuttingDown'));
        return;
      }
      if (ruling.refusal) {
        outcome = 'refused';
        if (interaction.isAutocomplete()) await interaction.respond([]);
        else await replyEphemeral(interaction, ctx.t(ruling.refusal.key, ruling.refusal.params));
        return;
      }
      if (interaction.isChatInputCommand() || interaction.isMessageContextMenuCommand()) {
        this.checkRules(interaction, ctx, interaction.commandName);
        await this.runCommand(interaction, ctx);
      } else if (interaction.isButton() || interaction.isModalSubmit() || interaction.isStringSelectMenu()) {
        await this.runComponent(interaction, ctx);
      } else if (interaction.isAutocomplete()) {
        await interaction.respond([]);
      }
    } catch (thrown) {
      this.stats.failed++;
      const userMessage = (thrown as { userMessage?: Msg } | null)?.userMessage;
      const err = !(thrown instanceof UserError) && userMessage ? UserError.from(userMessage) : thrown; // refused by a limit or by the upstream
      outcome = err instanceof UserError ? 'user_error' : 'error';
      if (!(err instanceof UserError)) {
        const code = discordCode(err);
        if (code === DiscordCodes.unknownInteraction || code === DiscordCodes.invalidWebhookToken) {
          outcome = 'expired';
          log.warn({ code, interactionId: interaction.id }, 'interaction expired before we could answer');
          return;
        }
        log.error({ err, interactionId: interaction.id, kind: interaction.type }, 'interaction handler failed');
      }
      if (!interaction.isRepliable()) return;
      const text = err instanceof UserError ? ctx.t(err.key, err.params) : ctx.t('errors.internal');
      await replyEphemeral(interaction, text).catch((e) => log.debug({ err: e }, 'could not tell the user about an error'));
    } finally {
      this.observe(() => this.hooks.handled?.(this.metricName(interaction), outcome));
    }
  }

  /** A bounded label for metrics: known command names and route prefixes only. */
  private metricName(interaction: Interaction): string {
    if (interaction.isCommand() || interaction.isAutocomplete()) {
      const name = this.commands.has(interaction.commandName) ? interaction.commandName : 'unknown';
      return interaction.isAutocomplete() ? `autocomplete:${name}` : name;
    }
    if (interaction.isMessageComponent() || interaction.isModalSubmit()) {
      const route = parseCustomId(interaction.customId)?.route;
      return route && this.components.has(route) ? `component:${ROUTES[route].prefix}` : 'component:unknown';
    }
    return 'unknown';
  }

  private observe(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.services.logger.debug({ err }, 'metrics hook failed');
    }
  }

  /** The server's rules (bans, channels, roles, NSFW) apply to commands and buttons alike, before any answer. */
  private checkRules(interaction: Interaction, ctx: Ctx, command: string | undefined): void {
    const refusal = this.services.community.entryRefusal(requesterFacts(interaction), ctx.rules, command);
    if (refusal) throw UserError.from(refusal);
  }

  private async runCommand(interaction: CommandInteraction, ctx: Ctx): Promise<void> {
    const command = this.commands.get(interaction.commandName);
    if (!command) throw new UserError('errors.commandUnknown');
    if (command.guildOnly && !interaction.inGuild()) throw new UserError('errors.guildOnly');
    if (command.defer !== 'none') {
      await this.acknowledge(interaction, () => (command.defer === 'ephemeral' ? deferEphemeral(interaction) : interaction.deferReply().then(() => undefined)));
      await this.ackFirst.turn();
    }
    await command.run(interaction as never, ctx);
  }

  /**
   * A button, modal or select: its piece by route, then its acknowledgement as early as the piece allows. An `ack`
   * the route alone decides is sent before `parse` reads anything (a refusal then edits the deferred reply, or follows
   * an update ephemerally); an `ack` that depends on `parse`'s data (a press that may open a modal) waits for it, and
   * such a `parse` reads only what decides it. Then `run`.
   */
  private async runComponent(interaction: ComponentInteraction, ctx: Ctx): Promise<void> {
    const parsed = parseCustomId(interaction.customId);
    const piece = parsed ? this.components.get(parsed.route) : undefined;
    if (!parsed || !piece) throw new UserError('errors.buttonUnknown');
    this.checkRules(interaction, ctx, undefined);
    if (!accepts(piece, interaction)) throw new UserError('errors.buttonUnknown');
    const early = ackBeforeParse(piece.ack);
    if (early) {
      await this.acknowledge(interaction, () => sendComponentAck(interaction, early));
      await this.ackFirst.turn();
      await piece.run(interaction, await piece.parse(parsed.rest, interaction, ctx), ctx);
      return;
    }
    // counted from before `parse` (it may read the store): in a burst of presses, no press's work starts while
    // another is still being read and acknowledged
    const acknowledged = this.ackFirst.arrived();
    let data: unknown;
    let ack: Ack;
    try {
      data = await piece.parse(parsed.rest, interaction, ctx);
      ack = typeof piece.ack === 'function' ? piece.ack(data) : piece.ack;
      // 'none': run answers at once itself (opens a modal, updates the message), and that answer is the acknowledgement
      if (ack === 'none') await piece.run(interaction, data, ctx);
      else await sendComponentAck(interaction, ack);
    } finally {
      acknowledged();
    }
    this.recordAck(interaction.createdTimestamp);
    if (ack === 'none') return;
    await this.ackFirst.turn();
    await piece.run(interaction, data, ctx);
  }

  /** Send an acknowledgement, counted by AckFirst while outstanding, and record its latency once sent. */
  private async acknowledge(interaction: Interaction, send: () => Promise<void>): Promise<void> {
    const acknowledged = this.ackFirst.arrived();
    try {
      await send();
    } finally {
      acknowledged();
    }
    this.recordAck(interaction.createdTimestamp);
  }

  /** Record one acknowledgement latency (for metrics and the benchmark). */
  private recordAck(createdTimestamp: number): void {
    const ms = this.services.now() - createdTimestamp;
    this.stats.ackLatencies.push(ms);
    this.observe(() => this.hooks.ack?.(ms));
    if (this.stats.ackLatencies.length > 1000) this.stats.ackLatencies.shift();
  }
}

/** The acknowledgement a piece declares without its data (a deferral), sent before `parse`; undefined when `parse` must come first. */
export function ackBeforeParse(ack: AnyComponent['ack']): Exclude<Ack, 'none'> | undefined {
  return ack === 'update' || ack === 'ephemeral' ? ack : undefined;
}

/** Defer as `ack` says: a reply only the presser sees, or an update of the message the component is on. */
async function sendComponentAck(interaction: ComponentInteraction, ack: Exclude<Ack, 'none'>): Promise<void> {
  if (ack === 'ephemeral') await deferEphemeral(interaction);
  else await deferUpdate(interaction);
}

/** Defer an update of the message the component is on (a modal submit only when it was opened from a message). */
async function deferUpdate(interaction: ComponentInteraction): Promise<void> {
  if (interaction.isModalSubmit()) {
    if (!interaction.isFromMessage()) throw new Error('a modal opened from a command has no message to update');
    await interaction.deferUpdate();
  } else {
    await interaction.deferUpdate();
  }
}
