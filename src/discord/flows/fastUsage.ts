import { relativeTime } from '../../community/community.js';
import type { UsageReport } from '../../community/fastBudget.js';
import { usageChartPng } from '../../community/fastBudgetChart.js';
import { nextUtcMidnight, type GuildRules } from '../../community/rules.js';
import type { Ctx } from '../interactions/interactionKit.js';

/** How many members /admin usage lists (and draws). */
export const USAGE_TOP = 10;
export const USAGE_CHART_NAME = 'fast-usage.png';

/** Minutes as shown: one decimal, without a trailing ".0". */
export const minutesText = (m: number) => String(Math.round(m * 10) / 10);

/** /admin usage: the day's fast minutes by member and for the server, as text and as a small bar chart. */
export async function fastUsageReply(ctx: Ctx, guildId: string): Promise<{ content: string; files: { attachment: Buffer; name: string }[] }> {
  const report = await ctx.services.fastBudget.report(guildId, USAGE_TOP);
  return { content: usageText(report, ctx), files: [{ attachment: usageChart(report), name: USAGE_CHART_NAME }] };
}

export function usageText(r: UsageReport, ctx: Ctx): string {
  const used = minutesText(r.total);
  const lines = [
    `**${ctx.t('fastBudget.usage.title', { day: r.day })}**`,
    r.serverBudget > 0 ? ctx.t('fastBudget.usage.server', { used, budget: minutesText(r.serverBudget) }) : ctx.t('fastBudget.usage.serverUnlimited', { used }),
    r.memberBudget > 0 ? ctx.t('fastBudget.usage.memberBudget', { budget: minutesText(r.memberBudget) }) : ctx.t('fastBudget.usage.memberUnlimited'),
    '',
  ];
  if (r.top.length === 0) lines.push(ctx.t('fastBudget.usage.none'));
  r.top.forEach((m, i) => lines.push(ctx.t('fastBudget.usage.line', { rank: i + 1, user: `<@${m.userId}>`, minutes: minutesText(m.minutes) })));
  if (r.members > r.top.length) lines.push(ctx.t('fastBudget.usage.more', { count: r.members - r.top.length }));
  lines.push('', ctx.t('fastBudget.usage.resets', { when: relativeTime(nextUtcMidnight(ctx.services.now())) }), ctx.t('fastBudget.usage.chart'));
  return lines.join('\n');
}

export function usageChart(r: UsageReport): Buffer {
  return usageChartPng(
    { minutes: r.total, budget: r.serverBudget },
    r.top.map((m) => ({ minutes: m.minutes, budget: r.memberBudget })),
    USAGE_TOP,
  );
}

/** The fast-time budgets in /admin limits: the server's line, and one per role that sets its own. */
export function fastBudgetLimitLines(rules: GuildRules, ctx: Ctx): string[] {
  const n = (v: number | undefined) => (v ? minutesText(v) : ctx.t('community.admin.unlimited'));
  const lines = [ctx.t('fastBudget.limits.line', { member: n(rules.limits.fastMinutes), server: n(rules.serverFastMinutes) })];
  for (const [role, l] of Object.entries(rules.roleLimits)) {
    if (l.fastMinutes !== undefined) lines.push(`<@&${role}>: ${ctx.t('fastBudget.limits.role', { member: n(l.fastMinutes) })}`);
  }
  return lines;
}
