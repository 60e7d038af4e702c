import type { FakeDiscord, FakeMessage } from '../fakes/discord/index.js';

export interface DrawnButton {
  customId: string;
  label: string | undefined;
  emoji: string | undefined;
  style: number;
}

/** The buttons of a message, row by row. */
export function buttonRows(m: FakeMessage): DrawnButton[][] {
  return (m.components as { components?: Record<string, unknown>[] }[]).map((row) =>
    (row.components ?? []).map((c) => ({
      customId: String(c.custom_id),
      label: c.label as string | undefined,
      emoji: (c.emoji as { name?: string } | undefined)?.name,
      style: Number(c.style),
    })),
  );
}

export function buttons(m: FakeMessage): DrawnButton[] {
  return buttonRows(m).flat();
}

/** Find a button by its label or emoji. */
export function button(m: FakeMessage, labelOrEmoji: string): DrawnButton {
  const b = buttons(m).find((x) => x.label === labelOrEmoji || x.emoji === labelOrEmoji);
  if (!b)
    throw new Error(
      `no button "${labelOrEmoji}" on message ${m.id}: ${buttons(m)
        .map((x) => x.label ?? x.emoji)
        .join(', ')}`,
    );
  return b;
}

/** A message the bot posts for a job: a channel message, or a public follow-up of the job's interaction. */
export function isJobMessage(m: FakeMessage): boolean {
  return m.source === 'channel' || (m.source === 'followup' && !m.ephemeral);
}

/** The job messages the bot posted in a channel (not interaction responses), oldest first. */
export function botMessages(discord: FakeDiscord, channelId: string, opts: { includeDeleted?: boolean } = {}): FakeMessage[] {
  return discord
    .allMessages()
    .filter((m) => m.channel_id === channelId && m.author.id === discord.botUser.id && isJobMessage(m) && (opts.includeDeleted || !m.deleted));
}

/** Wait for a bot message in the channel carrying an image attachment (a delivered result), newer than `after`. */
export async function waitForResult(
  discord: FakeDiscord,
  channelId: string,
  opts: { after?: number; timeoutMs?: number; match?: (m: FakeMessage) => boolean } = {},
): Promise<FakeMessage> {
  return discord.waitFor(
    () =>
      botMessages(discord, channelId).find(
        (m) => m.createdAt > (opts.after ?? 0) && (m.attachments.length > 0 || m.content.includes('❌')) && (opts.match ? opts.match(m) : true),
      ),
    { timeoutMs: opts.timeoutMs ?? 15_000 },
  );
}

/** Gaps between consecutive edits of a message (ms). */
export function editGaps(m: FakeMessage): number[] {
  const times = m.edits.map((e) => e.at);
  return times.slice(1).map((t, i) => t - times[i]!);
}
