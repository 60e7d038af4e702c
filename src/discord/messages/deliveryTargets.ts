import type { Job } from '../../jobs/model.js';
import type { Logger } from '../../log.js';
import type { Repositories } from '../../store/repositories.js';
import { DiscordCodes, discordCode, type Messenger } from './messenger.js';

const DM_RETRIES = 3;
const DM_BACKOFF_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A channel a job's message goes to; `note` is an i18n key added to the message there. */
export interface Target {
  channelId: string;
  dm: boolean;
  note?: string;
}

/**
 * Where a job's messages go: the channel, the member's DMs, or both, per the job's delivery mode. A member whose
 * DMs are closed is remembered (their settings), and their results come to the channel instead.
 */
export class DeliveryTargets {
  constructor(private d: { messenger: Messenger; repos: Repositories; logger: Logger }) {}

  /** Where the progress message goes: the DM when the job asks for one and it can be opened, else the channel. */
  async primary(job: Job): Promise<Target> {
    if (job.delivery === 'dm' && !(await this.dmKnownClosed(job))) {
      const dm = await this.openDm(job);
      if (dm) return dm;
    }
    return { channelId: job.owner.channelId, dm: false };
  }

  /** Where the result goes: one or two targets; a DM that cannot be opened falls back to the channel with a note. */
  async final(job: Job): Promise<Target[]> {
    const channel: Target = { channelId: job.owner.channelId, dm: false };
    if (job.delivery === 'channel') return [channel];
    const closed = job.dmFallback || (await this.dmKnownClosed(job));
    const dm = closed ? undefined : await this.openDm(job);
    if (job.delivery === 'both') return dm && dm.channelId !== channel.channelId ? [channel, dm] : [channel];
    if (dm) return [dm];
    return [{ ...channel, note: 'delivery.dmClosedFallback' }];
  }

  /** Discord refused a DM (50007): this job falls back, and later jobs do not try again. */
  async markDmClosed(job: Job): Promise<void> {
    job.dmFallback = true;
    await this.d.repos.users.updateSettings(job.owner.userId, { dmClosed: true });
  }

  /** The user's DM channel. "Opening DMs too fast" (40003) is transient: back off and retry a few times. */
  private async openDm(job: Job): Promise<Target | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        const id = await this.d.messenger.dmChannel(job.owner.userId);
        return { channelId: id, dm: id !== job.owner.channelId };
      } catch (err) {
        if (discordCode(err) === DiscordCodes.dmTooFast && attempt < DM_RETRIES) {
          await sleep(DM_BACKOFF_MS * 2 ** attempt);
          continue;
        }
        this.d.logger.info({ jobId: job.id, code: discordCode(err) }, 'could not open a DM channel; delivering in the channel');
        job.dmFallback = true;
        return undefined;
      }
    }
  }

  private async dmKnownClosed(job: Job): Promise<boolean> {
    return (await this.d.repos.users.settings(job.owner.userId)).dmClosed === true;
  }
}
