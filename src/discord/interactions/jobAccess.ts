import { PermissionFlagsBits, type Interaction } from 'discord.js';
import type { Job } from '../../jobs/model.js';
import type { ButtonRecord } from '../../store/repositories.js';
import { UserError, type Ctx } from './interactionKit.js';

/** Our job ids (model.newId) and the proxy's numeric task ids. */
const JOB_ID = /^[a-z2-9]{6,16}$/;
const TASK_ID = /^\d{10,20}$/;

/** A job by our id, or by the Midjourney Proxy task id; undefined for anything else. */
export async function findJob(id: string, ctx: Ctx): Promise<Job | undefined> {
  const text = id.trim();
  if (JOB_ID.test(text)) return ctx.services.jobs.get(text);
  if (TASK_ID.test(text)) return ctx.services.repos.jobs.findByUpstream('mj', text);
  return undefined;
}

/**
 * Whether this user may see (re-post, read the seed of) a job: their own, or any job of this server when
 * they can Manage Messages here (Discord's moderator permission).
 */
export function mayView(i: Interaction, job: Job): boolean {
  if (i.user.id === job.owner.userId) return true;
  if (!i.inGuild() || job.owner.guildId !== i.guildId) return false;
  return i.memberPermissions?.has(PermissionFlagsBits.ManageMessages) ?? false;
}

const DAY_MS = 24 * 3600_000;

/**
 * The record behind a pressed button (by its key), or a UserError saying why there is none: "this result has
 * expired" when the record — or, once the store dropped it, the message the button is on — is older than
 * JOB_RETENTION_DAYS; else "unknown or expired button". Nothing is asked of any upstream either way.
 */
export async function findButton(i: Interaction, key: string, ctx: Ctx): Promise<ButtonRecord> {
  const retentionMs = ctx.services.config.jobs.retentionMs;
  const record = await ctx.services.repos.buttons.get(key);
  const postedAt = record?.createdAt ?? ('message' in i && i.message ? i.message.createdTimestamp : undefined);
  if (postedAt !== undefined && ctx.services.now() - postedAt > retentionMs) {
    throw new UserError('retention.resultExpired', { days: Math.max(1, Math.round(retentionMs / DAY_MS)) });
  }
  if (!record) throw new UserError('errors.buttonExpired');
  return record;
}
