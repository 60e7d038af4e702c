import { ApplicationCommandType, type ChatInputCommandInteraction } from 'discord.js';
import { isFinal } from '../src/jobs/model.js';
import { relativeTime } from '../src/community/community.js';
import type { Command, Ctx } from '../src/discord/interactions/interactionKit.js';
import { requesterFacts } from '../src/discord/interactions/requesterFacts.js';
import { jobLine } from '../src/discord/messages/jobLines.js';
import { settingsSummary } from '../src/discord/flows/settingsPanel.js';

const SHOWN = 10;

/** The member's limits in this server and how much of them is used (and any ban), from the server's rules. */
async function limitLines(i: ChatInputCommandInteraction, ctx: Ctx): Promise<string[]> {
  const who = requesterFacts(i);
  const u = await ctx.services.community.usage(who.userId, who.guildId, who.roleIds);
  // i18next context: `…_unlimited` where the server sets no limit ("Running now: 2 (no limit)", not "2 of no limit")
  const limit = (max: number) => ({ max, context: max === 0 ? 'unlimited' : '' });
  const lines = ['', `**${ctx.t('community.info.limitsTitle')}**`];
  if (u.ban) lines.push(ctx.t('community.info.banned', { reason: u.ban.reason, context: u.ban.reason ? 'reason' : '' }));
  lines.push(ctx.t('community.info.running', { running: u.running, ...limit(u.limits.concurrent) }));
  lines.push(ctx.t('community.info.today', { today: u.today, ...limit(u.limits.dailyPerUser), when: relativeTime(u.resetAt) }));
  if (u.cooldownUntil && u.cooldownUntil > ctx.services.now()) lines.push(ctx.t('community.info.cooldown', { when: relativeTime(u.cooldownUntil) }));
  if (u.dailyServer > 0) lines.push(ctx.t('community.info.server', { today: u.serverToday, max: u.dailyServer }));
  return lines;
}

/** /info → your jobs in progress (status, queue position), how many jobs you started today, your settings. */
export const info: Command<ChatInputCommandInteraction> = {
  name: 'info',
  defer: 'ephemeral',
  data: (loc) => ({
    type: ApplicationCommandType.ChatInput,
    ...loc.both('commands.info', 'info'),
    contexts: [0, 1],
    integration_types: [0],
  }),

  async run(interaction, ctx) {
    const { services } = ctx;
    const userId = interaction.user.id;
    const recent = await services.repos.jobs.recentForUser(userId, 25);
    // the tracker holds the live copy (progress, queue position); the store has the rest
    const live = await Promise.all(recent.filter((j) => !isFinal(j)).map(async (j) => (await services.jobs.get(j.id)) ?? j));
    // a job waiting in its server's queue: its place now
    for (const j of live) if (j.status === 'waiting') j.queuePosition = await services.jobs.place(j);
    const inFlight = live.filter((j) => !isFinal(j));
    const today = await services.repos.jobs.countToday(userId, services.now());
    const settings = await services.repos.users.settings(userId);

    const lines = [`**${ctx.t('info.inFlightTitle', { count: inFlight.length })}**`];
    if (inFlight.length === 0) lines.push(ctx.t('info.nothingInFlight'));
    lines.push(...inFlight.slice(0, SHOWN).map((j) => jobLine(j, ctx)));
    if (inFlight.length > SHOWN) lines.push(ctx.t('info.more', { count: inFlight.length - SHOWN }));
    lines.push(
      '',
      `**${ctx.t('info.today', { count: today })}**`,
      ...(await limitLines(interaction, ctx)),
      '',
      `**${ctx.t('info.settingsTitle')}**`,
      settingsSummary(settings, ctx),
    );
    await interaction.editReply({ content: lines.join('\n').slice(0, 2000), allowedMentions: { parse: [] } });
  },
};
