import type { Interaction } from 'discord.js';
import { describeMjError, sanitizeReason } from '../../jobs/mjProvider.js';
import { MjError } from '../../upstream/mjTypes.js';
import { findJob, mayView } from '../interactions/jobAccess.js';
import { UserError, type Ctx } from '../interactions/interactionKit.js';

/** The seed of a finished job, through the proxy's `image-seed` endpoint: the ✉️ button (components/seed.ts) and /seed. */

/** The text telling the seed of job `id`; throws UserError with the reason when there is none to tell. */
export async function seedMessage(i: Interaction, id: string, ctx: Ctx): Promise<string> {
  const job = await findJob(id, ctx);
  if (!job) throw new UserError('job.notFound', { id: id.slice(0, 40) });
  if (!mayView(i, job)) throw new UserError('job.notAllowed');
  if (job.provider !== 'mj' || !job.upstreamId || job.kind === 'describe' || job.kind === 'shorten') throw new UserError('seed.noImage', { id: job.id });
  if (job.status !== 'succeeded') throw new UserError('seed.notFinished', { id: job.id });
  let seed = job.result?.seed;
  if (!seed) {
    try {
      seed = await ctx.services.mj.imageSeed(job.upstreamId);
    } catch (err) {
      throw seedError(err);
    }
    const found = seed;
    await ctx.services.repos.jobs.update(
      job.id,
      (j) => {
        if (j.result) j.result.seed = found; // asked once, then told from the store
      },
      ctx.services.now(),
    );
  }
  return ctx.t('seed.value', { id: job.id, seed });
}

/** Upstream refusals → what the user reads. */
export function seedError(err: unknown): UserError {
  if (err instanceof MjError) {
    if (err.kind === 'not-found') return new UserError('seed.unknownTask');
    if (err.kind === 'unsupported') return new UserError('seed.unsupported');
    // TA: code 4 when the account has no DM channel configured, or the task has no message hash
    if (err.kind === 'validation') return new UserError('seed.unavailable', { reason: sanitizeReason(err.details.description ?? err.message) });
  }
  return UserError.from(describeMjError(err));
}
