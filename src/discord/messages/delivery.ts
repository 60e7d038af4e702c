import type { Logger } from '../../log.js';
import type { I18n } from '../../i18n/index.js';
import type { Job, MessageRef } from '../../jobs/model.js';
import { KeyedMutex, type Repositories } from '../../store/repositories.js';
import { DeliveryTargets, type Target } from './deliveryTargets.js';
import { drawButtons, type ButtonPlanner } from './drawnButtons.js';
import { EditCoalescer } from './editCoalescer.js';
import { DiscordCodes, discordCode, isTransient, type MessagePayload, type Messenger } from './messenger.js';
import { formatBytes, type DrawnButton, type Renderer } from './renderer.js';
import { imageFromOwnPost, loadResultImage, type ImageFetcher, type LoadedImage } from './resultImage.js';

export type { ButtonPlanner, ImageFetcher };

export interface DeliveryDeps {
  messenger: Messenger;
  repos: Repositories;
  renderer: Renderer;
  i18n: I18n;
  logger: Logger;
  fetchImage: ImageFetcher;
  planButtons: ButtonPlanner;
  progressIntervalMs: number;
  now?: () => number;
}

/**
 * Where a job shows up in Discord: one bot-owned progress message (edited through the coalescer),
 * then the result posted to the channel and/or DM. Never depends on the interaction token.
 */
export class Delivery {
  readonly coalescer: EditCoalescer;
  private now: () => number;
  private finishing = new Map<string, Promise<void>>();
  private beginning = new Map<string, Promise<void>>();
  private redraws = new KeyedMutex();
  private redrawQueued = new Set<string>();
  private targets: DeliveryTargets;

  constructor(private d: DeliveryDeps) {
    this.now = d.now ?? Date.now;
    this.targets = new DeliveryTargets(d);
    // progress edits take a channel slot only when one is free now, leaving one for results
    this.coalescer = new EditCoalescer({ minIntervalMs: d.progressIntervalMs, gate: (channel) => d.messenger.budget.tryReserveNow(channel, 1), now: this.now });
  }

  /** Post the job's progress message where the user will look for it. Mutates job.messages; caller saves. */
  async begin(job: Job): Promise<void> {
    const p = this.doBegin(job).finally(() => this.beginning.delete(job.id));
    this.beginning.set(job.id, p);
    return p;
  }

  private async doBegin(job: Job): Promise<void> {
    if (job.deliveredAt || job.messages.progress) return;
    const payload = this.d.renderer.progress(job);
    const target = await this.targets.primary(job);
    try {
      const msg = await this.d.messenger.send(target.channelId, payload);
      job.messages.progress = { channelId: target.channelId, messageId: msg.id };
    } catch (err) {
      if (target.dm && discordCode(err) === DiscordCodes.cannotDm) {
        await this.targets.markDmClosed(job);
        const msg = await this.d.messenger.send(job.owner.channelId, payload).catch((e) => this.logFail(job, 'progress post', e));
        if (msg) job.messages.progress = { channelId: job.owner.channelId, messageId: msg.id };
        return;
      }
      this.logFail(job, 'progress post', err);
    }
  }

  /** Offer a progress frame; the coalescer decides when (and whether) it is drawn. */
  progress(job: Job): void {
    const ref = job.messages.progress;
    if (!ref) return;
    const key = `${ref.channelId}:${ref.messageId}`;
    const snapshot = this.d.renderer.progress(job);
    this.coalescer.offer(key, ref.channelId, this.d.renderer.progressKey(job), async () => {
      try {
        await this.d.messenger.edit(ref.channelId, ref.messageId, snapshot, { reserved: true });
      } catch (err) {
        const code = discordCode(err);
        if (code === DiscordCodes.unknownMessage || code === DiscordCodes.unknownChannel || code === DiscordCodes.maxOldEdits) {
          // the user deleted it (or it can no longer be edited): stop editing; the result is still posted as a new message
          if (job.messages.progress?.messageId === ref.messageId) job.messages.progress = undefined;
          void this.coalescer.close(key);
          return;
        }
        this.d.logger.debug({ err, jobId: job.id }, 'progress edit failed');
      }
    });
  }

  /**
   * Post the final message (result or failure) exactly once. Safe to call again after a crash:
   * `deliveredAt` is stored after posting, and the post carries a nonce Discord de-duplicates.
   */
  async finish(job: Job): Promise<void> {
    const running = this.finishing.get(job.id);
    if (running) return running;
    const p = this.doFinish(job).finally(() => this.finishing.delete(job.id));
    this.finishing.set(job.id, p);
    return p;
  }

  private async doFinish(job: Job): Promise<void> {
    if (job.deliveredAt) return;
    await this.beginning.get(job.id); // a progress post still on its way must land before it is replaced
    const progress = job.messages.progress;
    if (progress) await this.coalescer.close(`${progress.channelId}:${progress.messageId}`);

    const targets = await this.targets.final(job);
    let imagePart: LoadedImage = {};
    let rows: DrawnButton[][] = [];
    if (job.status === 'succeeded') {
      imagePart = await loadResultImage(job, this.d);
      rows = await this.drawButtons(job);
    }

    for (const [i, target] of targets.entries()) {
      // an earlier attempt that failed later on (a Discord 5xx, the store) already posted here: not again
      if (job.messages.results.some((r) => r.channelId === target.channelId)) continue;
      // ping once: in the channel unless the result also goes to a DM (a DM notifies by itself)
      const mention = !target.dm && !targets.some((t) => t.dm);
      const note = target.note ? this.d.i18n.t(job.owner.locale, target.note) : undefined;
      const payload: MessagePayload =
        job.status === 'succeeded'
          ? this.d.renderer.result(job, { rows, ...imagePart, mention, ...(note ? { note: imagePart.note ? `${imagePart.note}\n${note}` : note } : {}) })
          : this.d.renderer.failure(job, { mention, ...(note ? { note } : {}) });
      payload.nonce = `${job.id}${i}`.slice(0, 25);
      const ref = await this.postFinal(job, target, payload);
      if (ref) job.messages.results.push(ref); // remembered at once, so that a retry after a later failure skips it
    }

    job.deliveredAt = this.now();
    try {
      await this.d.repos.jobs.save(job, this.now());
    } catch (err) {
      job.deliveredAt = undefined; // not recorded: the retry records it (posts already made are skipped)
      throw err;
    }

    if (progress && !job.messages.results.some((p) => p.messageId === progress.messageId)) {
      // the result was posted as a new message (so the user is notified); the progress message goes away
      await this.d.messenger.delete(progress.channelId, progress.messageId).catch(() => undefined);
      job.messages.progress = undefined;
    }
  }

  /**
   * Re-draw the buttons of a job's result messages (e.g. to show a pressed button as used).
   * Serialised per job and drawn from the latest stored state, so concurrent presses never leave a stale drawing.
   */
  async redrawButtons(jobId: string): Promise<void> {
    // one waiting redraw per job is enough: it reads the latest state when its turn comes
    if (this.redrawQueued.has(jobId)) return;
    this.redrawQueued.add(jobId);
    await this.redraws.run(jobId, async () => {
      this.redrawQueued.delete(jobId);
      const job = await this.d.repos.jobs.get(jobId);
      if (job) await this.redrawNow(job);
    });
  }

  private async redrawNow(job: Job): Promise<void> {
    if (job.status !== 'succeeded') return;
    const rows = await this.drawButtons(job);
    const components = this.d.renderer.rows(rows, job.owner.locale);
    for (const ref of job.messages.results) {
      await this.d.messenger.editComponents(ref.channelId, ref.messageId, components).catch((err) => {
        if (discordCode(err) !== DiscordCodes.unknownMessage) this.d.logger.debug({ err, jobId: job.id }, 'button redraw failed');
      });
    }
  }

  /**
   * Post a finished job again (`/job id`, like Midjourney's /show) with its live buttons. The image is taken
   * from the bot's own earlier post when it still exists (the upstream's URL may have expired), else from the upstream.
   */
  async repost(job: Job, channelId: string): Promise<MessageRef> {
    const rows = await this.drawButtons(job);
    const imagePart = job.result?.imageUrl ? ((await imageFromOwnPost(job, this.d)) ?? (await loadResultImage(job, this.d))) : {};
    const msg = await this.d.messenger.send(channelId, this.d.renderer.result(job, { rows, ...imagePart, mention: false }));
    const ref = { channelId, messageId: msg.id };
    // a result message like the first: later redraws (buttons marked used) reach it too
    await this.d.repos.jobs.update(
      job.id,
      (j) => {
        j.messages.results.push(ref);
      },
      this.now(),
    );
    return ref;
  }

  private async postFinal(job: Job, target: Target, payload: MessagePayload): Promise<MessageRef | undefined> {
    try {
      const msg = await this.d.messenger.send(target.channelId, payload);
      return { channelId: target.channelId, messageId: msg.id };
    } catch (err) {
      const code = discordCode(err);
      if (target.dm && code === DiscordCodes.cannotDm) {
        await this.targets.markDmClosed(job);
        if (job.delivery === 'both') return undefined; // the channel copy is posted anyway
        const note = this.d.i18n.t(job.owner.locale, 'delivery.dmClosedFallback');
        const fallback = { ...payload, mentionUsers: [job.owner.userId], content: `${payload.content ?? ''}\n${note}`.slice(0, 2000) };
        return this.postFinal(job, { channelId: job.owner.channelId, dm: false }, fallback);
      }
      if (code === DiscordCodes.tooLarge || code === DiscordCodes.fileTooLarge) {
        const url = job.result?.imageUrl;
        const bytes = payload.files?.[0]?.data.length ?? 0;
        const text = this.d.i18n.t(job.owner.locale, 'result.tooLargeForDiscord', { size: formatBytes(bytes), limit: formatBytes(job.attachmentLimit) });
        const { files: _files, ...rest } = payload;
        return this.postFinal(job, target, { ...rest, content: `${payload.content ?? ''}\n${text}${url ? `\n${url}` : ''}`.slice(0, 2000) });
      }
      if (isTransient(err)) {
        // Discord is having trouble (5xx, timeout, network): fail this attempt so the tracker retries it later;
        // what was posted so far is recorded, so that another process taking over does not post it twice
        await this.d.repos.jobs.save(job, this.now()).catch(() => undefined);
        throw err;
      }
      this.logFail(job, 'result post', err);
      return undefined;
    }
  }

  private drawButtons(job: Job): Promise<DrawnButton[][]> {
    return drawButtons(job, { planButtons: this.d.planButtons, repos: this.d.repos, now: this.now });
  }

  private logFail(job: Job, what: string, err: unknown): undefined {
    this.d.logger.warn({ err, jobId: job.id, code: discordCode(err) }, `${what} failed`);
    return undefined;
  }
}
