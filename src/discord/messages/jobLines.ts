import type { Job } from '../../jobs/model.js';
import { escapePromptMarkdown } from '../../mj/content.js';
import { clampText, promptForDisplay } from '../../mj/prompts.js';
import type { Ctx } from '../interactions/interactionKit.js';

/** One job as a line for /job and /info: id, what, status (queue position, progress), when, prompt. */

export function jobStatus(job: Job, ctx: Ctx): string {
  switch (job.status) {
    case 'waiting':
      return job.queuePosition && job.queuePosition > 0 ? ctx.t('queue.status', { position: job.queuePosition }) : ctx.t('queue.statusNext');
    case 'queued':
      return job.queuePosition && job.queuePosition > 0 ? ctx.t('info.status.queuedAt', { position: job.queuePosition }) : ctx.t('info.status.queued');
    case 'running':
      return ctx.t('info.status.running', { progress: Math.round(job.progress) });
    default:
      return ctx.t(`info.status.${job.status}`);
  }
}

export function jobLine(job: Job, ctx: Ctx): string {
  const prompt = escapePromptMarkdown(clampText(promptForDisplay(job.prompt).replace(/\s+/g, ' '), 60));
  const when = `<t:${Math.floor(job.createdAt / 1000)}:R>`;
  return [`\`${job.id}\``, ctx.t(`info.kind.${job.kind}`), jobStatus(job, ctx), when, prompt].filter(Boolean).join(' · ');
}

/** A message link Discord clients open. */
export function messageLink(guildId: string | undefined | null, channelId: string, messageId: string): string {
  return `https://discord.com/channels/${guildId ?? '@me'}/${channelId}/${messageId}`;
}
