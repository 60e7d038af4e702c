import type { Job } from '../../jobs/model.js';
import { DiscordCodes, discordCode, type InteractionHook } from './messenger.js';

/** An interaction token lets its webhook post and edit for 15 minutes (Discord's documented lifetime). */
export const TOKEN_LIFETIME_MS = 15 * 60_000;
/** Follow-ups stop this long before the token dies, so that no write in flight outlives it (clocks differ a little too). */
export const TOKEN_MARGIN_MS = 60_000;

/**
 * The job's interaction webhook, if a message to `channelId` can go through it now: the token is young enough, Discord
 * has not refused it, and the message goes to the interaction's own channel (a follow-up cannot go anywhere else).
 */
export function liveHook(job: Job, channelId: string, now: number): InteractionHook | undefined {
  const ix = job.interaction;
  if (!ix || ix.ended || channelId !== job.owner.channelId) return undefined;
  if (now >= ix.issuedAt + TOKEN_LIFETIME_MS - TOKEN_MARGIN_MS) return undefined;
  return { applicationId: ix.applicationId, token: ix.token };
}

/** Discord no longer takes this interaction's token (it expired, or the interaction is unknown to its webhook). */
export function tokenEnded(err: unknown): boolean {
  const code = discordCode(err);
  if (code === DiscordCodes.invalidWebhookToken || code === DiscordCodes.unknownWebhook) return true;
  return code === undefined && (err as { status?: unknown } | null)?.status === 401;
}

const DISCORD_EPOCH = 1_420_070_400_000n;

/** The smallest snowflake of a moment: "messages after this time" in a channel history query. */
export function snowflakeAt(ms: number): string {
  const t = BigInt(Math.max(0, Math.floor(ms))) - DISCORD_EPOCH;
  return (t > 0n ? t << 22n : 0n).toString();
}
