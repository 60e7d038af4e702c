import { ApplicationCommandOptionType, type APIApplicationCommandBasicOption, type Interaction } from 'discord.js';
import type { DeliveryMode, Job, SpeedMode } from '../../jobs/model.js';
import type { UserSettings } from '../../store/repositories.js';
import type { FastFallback } from '../../community/fastBudget.js';
import { nextUtcMidnight, type GuildRules } from '../../community/rules.js';
import { relativeTime } from '../../community/community.js';
import { memberRoleIds, type Ctx } from '../interactions/interactionKit.js';
import type { CommandLocalizer } from '../interactions/registry.js';

/** Options shared by every job-starting command: explicit choice, else the user's settings, else the server default. */

export function pickDelivery(option: string | null, settings: UserSettings, rules?: Pick<GuildRules, 'defaultDelivery'>): DeliveryMode {
  if (option === 'channel' || option === 'dm' || option === 'both') return option;
  return settings.delivery ?? rules?.defaultDelivery ?? 'channel';
}

export function pickSpeed(option: string | null, settings: UserSettings, serverDefault: SpeedMode | undefined): SpeedMode | undefined {
  if (option === 'fast' || option === 'relax' || option === 'turbo') return option;
  return settings.speed ?? serverDefault;
}

/** Interactions whose job runs in relax because a fast budget is spent (their accepted line says so). */
const relaxedBy = new WeakMap<Ctx, FastFallback>();

/**
 * The speed a job runs at once the fast-time budgets are applied: the picked speed, or relax when the member's (or
 * the server's) fast minutes for the day are spent. Relax asked for is relax; budgets apply in servers only.
 */
export async function budgetedSpeed(interaction: Interaction, ctx: Ctx, picked: SpeedMode | undefined): Promise<SpeedMode | undefined> {
  if (picked === 'relax' || !ctx.guildId) return picked;
  const fallback = await ctx.services.fastBudget.fallback({ userId: interaction.user.id, guildId: ctx.guildId, roles: memberRoleIds(interaction) });
  if (!fallback) return picked;
  relaxedBy.set(ctx, fallback);
  return 'relax';
}

export function pickBot(option: string | null, settings: UserSettings): 'MID_JOURNEY' | 'NIJI_JOURNEY' {
  if (option === 'MID_JOURNEY' || option === 'NIJI_JOURNEY') return option;
  return settings.botType ?? 'MID_JOURNEY';
}

/** Who started a job, and where; `rulingGuildId` (Ctx.guildId) is the server whose quotas it counts against from a DM. */
export function jobOwner(interaction: Interaction, locale: string, rulingGuildId?: string): Job['owner'] {
  return {
    userId: interaction.user.id,
    guildId: interaction.guildId ?? rulingGuildId ?? undefined,
    channelId: interaction.channelId ?? interaction.user.id,
    locale,
    roles: memberRoleIds(interaction),
  };
}

/** The ephemeral "accepted" line a user sees after submitting. */
export function acceptedReply(job: Job, ctx: Ctx): string {
  if (job.status === 'modal') return ctx.t('jobs.waitingForModal', { id: job.id });
  const where = ctx.t(`jobs.where.${job.delivery}`);
  const relaxed = relaxedBy.get(ctx);
  const note =
    relaxed && job.mode === 'relax' ? `\n${ctx.t(`fastBudget.relaxed.${relaxed}`, { when: relativeTime(nextUtcMidnight(ctx.services.now())) })}` : '';
  if (job.status === 'waiting') return ctx.t('queue.accepted', { id: job.id, position: job.queuePosition ?? 1, where }) + note;
  if (job.queuePosition && job.queuePosition > 0) return ctx.t('jobs.acceptedQueued', { id: job.id, position: job.queuePosition, where }) + note;
  return ctx.t('jobs.accepted', { id: job.id, where }) + note;
}

/** The `bot`, `speed` and `delivery` options job commands share (keys from core.json); tools take only `delivery`. */
export function jobOptionDefs(loc: CommandLocalizer, only?: readonly ('bot' | 'speed' | 'delivery')[]): APIApplicationCommandBasicOption[] {
  const all: APIApplicationCommandBasicOption[] = [
    {
      type: ApplicationCommandOptionType.String,
      ...loc.both('commands.options.bot', 'bot'),
      required: false,
      choices: [loc.choice('commands.choices.bot.midjourney', 'MID_JOURNEY'), loc.choice('commands.choices.bot.niji', 'NIJI_JOURNEY')],
    },
    {
      type: ApplicationCommandOptionType.String,
      ...loc.both('commands.options.speed', 'speed'),
      required: false,
      choices: [
        loc.choice('commands.choices.speed.fast', 'fast'),
        loc.choice('commands.choices.speed.relax', 'relax'),
        loc.choice('commands.choices.speed.turbo', 'turbo'),
      ],
    },
    {
      type: ApplicationCommandOptionType.String,
      ...loc.both('commands.options.delivery', 'delivery'),
      required: false,
      choices: [
        loc.choice('commands.choices.delivery.channel', 'channel'),
        loc.choice('commands.choices.delivery.dm', 'dm'),
        loc.choice('commands.choices.delivery.both', 'both'),
      ],
    },
  ];
  return only ? all.filter((o) => (only as readonly string[]).includes(o.name)) : all;
}
