import type { Interaction } from 'discord.js';
import type { DeliveryMode, Job, SpeedMode } from '../jobs/model.js';
import type { UserSettings } from '../store/repositories.js';
import type { GuildRules } from '../community/rules.js';
import { memberRoleIds, type Ctx } from './interactionKit.js';

/** Options shared by every job-starting command: explicit choice, else the user's settings, else the server default. */

export function pickDelivery(option: string | null, settings: UserSettings, rules?: Pick<GuildRules, 'defaultDelivery'>): DeliveryMode {
  if (option === 'channel' || option === 'dm' || option === 'both') return option;
  return settings.delivery ?? rules?.defaultDelivery ?? 'channel';
}

export function pickSpeed(option: string | null, settings: UserSettings, serverDefault: SpeedMode | undefined): SpeedMode | undefined {
  if (option === 'fast' || option === 'relax' || option === 'turbo') return option;
  return settings.speed ?? serverDefault;
}

export function pickBot(option: string | null, settings: UserSettings): 'MID_JOURNEY' | 'NIJI_JOURNEY' {
  if (option === 'MID_JOURNEY' || option === 'NIJI_JOURNEY') return option;
  return settings.botType ?? 'MID_JOURNEY';
}

export function jobOwner(interaction: Interaction, locale: string): Job['owner'] {
  return {
    userId: interaction.user.id,
    guildId: interaction.guildId ?? undefined,
    channelId: interaction.channelId ?? interaction.user.id,
    locale,
    roles: memberRoleIds(interaction),
  };
}

/** The ephemeral "accepted" line a user sees after submitting. */
export function acceptedReply(job: Job, ctx: Ctx): string {
  if (job.status === 'modal') return ctx.t('jobs.waitingForModal', { id: job.id });
  const where = ctx.t(`jobs.where.${job.delivery}`);
  if (job.queuePosition && job.queuePosition > 0) return ctx.t('jobs.acceptedQueued', { id: job.id, position: job.queuePosition, where });
  return ctx.t('jobs.accepted', { id: job.id, where });
}
