import type { ChatInputCommandInteraction, MessageContextMenuCommandInteraction } from 'discord.js';
import type { Job } from '../../jobs/model.js';
import { videoPrompt } from '../../upstream/mjProxy.js';
import type { Ctx } from '../interactions/interactionKit.js';
import type { CheckedImage } from './attachments.js';
import { acceptedReply } from './jobOptions.js';
import { jobChoices, startMjJob } from './mjJobs.js';

/** What a member asked of a video: the start frame, and how it should move. */
export interface VideoAsk {
  start: CheckedImage;
  end?: CheckedImage | undefined;
  prompt: string;
  loop: boolean;
  motion: 'low' | 'high';
  batchSize?: 1 | 2 | 4 | undefined;
  hd: boolean;
}

/**
 * Start a video job (the one Midjourney job path, so admission and limits apply) and tell the member it is on
 * its way. The frames go as data URLs of the bytes that were checked; an end frame also as its attachment URL,
 * which a proxy without the video route needs inside the prompt (`--end <url>`; Midjourney fetches it at once).
 * The job shows the prompt as Midjourney will run it.
 */
export async function startVideo(i: ChatInputCommandInteraction | MessageContextMenuCommandInteraction, ctx: Ctx, ask: VideoAsk): Promise<Job> {
  const { services } = ctx;
  const choices = await jobChoices(i, ctx);
  const shown = videoPrompt({ ...ask, endImageUrl: ask.end ? ask.end.name : undefined });
  const job = await startMjJob(i, ctx, { kind: 'imagine', prompt: shown, ...choices, botType: 'MID_JOURNEY' }, (j) =>
    services.mj.video({
      prompt: ask.prompt,
      image: ask.start.dataUrl,
      endImage: ask.end?.dataUrl,
      endImageUrl: ask.end?.url,
      loop: ask.loop || undefined,
      motion: ask.motion,
      batchSize: ask.batchSize,
      hd: ask.hd || undefined,
      mode: choices.mode,
      state: j.id,
    }),
  );
  await i.editReply({ content: acceptedReply(job, ctx), allowedMentions: { parse: [] } });
  return job;
}
