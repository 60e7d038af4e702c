import type { Logger } from '../../log.js';
import type { I18n } from '../../i18n/index.js';
import type { Job, MessageRef } from '../../jobs/model.js';
import { KeyedMutex, type Repositories } from '../../store/repositories.js';
import { DeliveryTargets, type Target } from './deliveryTargets.js';
import { drawButtons, type ButtonPlanner } from './drawnButtons.js';
import { EditCoalescer } from './editCoalescer.js';
import { liveHook, snowflakeAt, tokenEnded } from './followUps.js';
import { DiscordCodes, discordCode, hookLane, isTransient, type InteractionHook, type MessagePayload, type Messenger } from './messenger.js';
import { OpenReplies } from './openReplies.js';
import { formatBytes, type DrawnButton, type Renderer } from './renderer.js';
import { imageFromOwnPost, loadResultImage, type ImageFetcher, type LoadedImage } from './resultImage.js';
import { clipLinkText, loadResultVideo, newVideoGate, type ByteGate, type LoadedVideo, type VideoFetcher } from './resultMedia.js';

export type { ButtonPlanner, ImageFetcher };

export interface DeliveryDeps {
  messenger: Messenger;
  repos: Repositories;
  renderer: Renderer;
  i18n: I18n;
  logger: Logger;
  fetchImage: ImageFetcher;
  /** downloads a video result's clips (guarded, capped); without it, clips are posted as links */
  fetchVideo?: VideoFetcher;
  /** video bytes in flight in this process (default: one gate of VIDEO_BYTES_IN_FLIGHT per Delivery) */
  videoGate?: ByteGate;
  planButtons: ButtonPlanner;
  progressIntervalMs: number;
  /** deferred replies still loading (a follow-up waits for them); none when the job service runs without Discord */
  openReplies?: OpenReplies;
  now?: () => number;
}

/** Added to the progress edit interval: request latency varies, and Discord counts edits as they arrive. */
const EDIT_LATENCY_MARGIN_MS = 100;

/**
 * How long a job's first follow-up waits for its interaction's deferred reply to be answered (a burst of commands
 * can keep the REST client's global queue busy for many seconds); the wait ends at once when the job finishes.
 */
const REPLY_WAIT_MS = 60_000;

/**
 * Where a job shows up in Discord: one progress message (edited through the coalescer), then the result posted to the
 * channel and/or DM, exactly once.
 *
 * Two routes, so that a busy channel never makes a member wait: while the job's interaction token lives, its messages in
 * the interaction's channel are follow-ups through the interaction's own webhook (a rate bucket per token, beside the
 * channel's); afterwards, or when Discord refuses the token, bot-owned channel messages take over (restart- and
 * expiry-proof, and still editable: a follow-up is the bot's own message). Channel writes share the channel's budget:
 * results first, progress only with capacity no result needs; a progress post still waiting when its job finishes is
 * never sent.
 */
export class Delivery {
  readonly coalescer: EditCoalescer;
  private now: () => number;
  private finishing = new Map<string, Promise<void>>();
  private beginning = new Map<string, Promise<void>>();
  private beginAborts = new Map<string, AbortController>();
  private redraws = new KeyedMutex();
  private redrawQueued = new Set<string>();
  private targets: DeliveryTargets;
  private openReplies: OpenReplies;
  private videoGate: ByteGate;

  constructor(private d: DeliveryDeps) {
    this.now = d.now ?? Date.now;
    this.videoGate = d.videoGate ?? newVideoGate();
    this.targets = new DeliveryTargets(d);
    this.openReplies = d.openReplies ?? new OpenReplies();
    // progress edits take a slot only when one is free now: in a channel leaving one for results, in a token's bucket any
    this.coalescer = new EditCoalescer({
      // a margin for request latency: two edits sent an interval apart must not arrive closer than that
      minIntervalMs: d.progressIntervalMs + EDIT_LATENCY_MARGIN_MS,
      gate: (lane) => (lane.startsWith('hook:') ? d.messenger.hookBudget.tryReserveNow(lane, 0) : d.messenger.budget.tryReserveNow(lane)),
      now: this.now,
    });
  }

  /** Post the job's progress message where the user will look for it. Mutates job.messages; caller saves. */
  async begin(job: Job): Promise<void> {
    const abort = new AbortController();
    this.beginAborts.set(job.id, abort);
    const p = this.doBegin(job, abort.signal).finally(() => {
      this.beginning.delete(job.id);
      this.beginAborts.delete(job.id);
    });
    this.beginning.set(job.id, p);
    return p;
  }

  private async doBegin(job: Job, finished: AbortSignal): Promise<void> {
    if (job.deliveredAt || job.messages.progress) return;
    const payload = this.d.renderer.progress(job);
    const target = await this.targets.primary(job);
    const hook = this.hookFor(job, target.channelId);
    if (hook && (await this.openReplies.answered(hook.token, REPLY_WAIT_MS, finished)) && !finished.aborted) {
      try {
        const msg = await this.d.messenger.followUp(hook, payload);
        job.messages.progress = { channelId: target.channelId, messageId: msg.id, via: 'followup' };
        return;
      } catch (err) {
        if (!tokenEnded(err)) return void this.logFail(job, 'progress follow-up', err);
        this.tokenEnded(job); // the channel takes over
      }
    }
    if (finished.aborted) return;
    try {
      const msg = await this.d.messenger.send(target.channelId, payload, { priority: 'progress', signal: finished });
      job.messages.progress = { channelId: target.channelId, messageId: msg.id };
    } catch (err) {
      if (finished.aborted) return; // the job finished first: its progress is not worth a channel write
      if (target.dm && discordCode(err) === DiscordCodes.cannotDm) {
        await this.targets.markDmClosed(job);
        const msg = await this.d.messenger
          .send(job.owner.channelId, payload, { priority: 'progress', signal: finished })
          .catch((e) => (finished.aborted ? undefined : this.logFail(job, 'progress post', e)));
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
    const hook = ref.via === 'followup' ? this.hookFor(job, ref.channelId) : undefined;
    this.coalescer.offer(key, hook ? hookLane(hook) : ref.channelId, this.d.renderer.progressKey(job), async () => {
      try {
        if (hook) await this.d.messenger.editFollowUp(hook, ref.messageId, snapshot, { reserved: true });
        else await this.d.messenger.edit(ref.channelId, ref.messageId, snapshot, { reserved: true });
      } catch (err) {
        if (hook && tokenEnded(err)) return this.tokenEnded(job); // the next frame goes through the channel
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
    this.beginAborts.get(job.id)?.abort(); // a progress post still waiting for a slot is not sent at all …
    await this.beginning.get(job.id); // … and one already on its way must land before it is replaced
    const progress = job.messages.progress;
    if (progress) await this.coalescer.close(`${progress.channelId}:${progress.messageId}`);

    const targets = await this.targets.final(job);
    let imagePart: LoadedImage = {};
    let rows: DrawnButton[][] = [];
    let videoPart: LoadedVideo | undefined;
    if (job.status === 'succeeded') {
      rows = await this.drawButtons(job);
      // a video's clips hold their bytes in the process's video budget until posted (released below, whatever happens)
      const pending = targets.some((t) => !job.messages.results.some((r) => r.channelId === t.channelId));
      if (job.result?.video) videoPart = pending ? await this.loadVideo(job) : undefined;
      else imagePart = await loadResultImage(job, this.d);
      if (videoPart?.notes.length) imagePart.note = videoPart.notes.join('\n');
    }
    try {
      await this.postResults(job, targets, imagePart, rows, videoPart);
    } finally {
      videoPart?.release();
    }

    job.deliveredAt = this.now();
    try {
      await this.d.repos.jobs.save(job, this.now());
    } catch (err) {
      job.deliveredAt = undefined; // not recorded: the retry records it (posts already made are skipped)
      throw err;
    }

    const shown = job.messages.progress;
    if (shown && !job.messages.results.some((p) => p.messageId === shown.messageId)) {
      // the result was posted as a new message (so the user is notified); the progress message goes away
      await this.deleteMessage(job, shown).catch(() => undefined);
      job.messages.progress = undefined;
    }
  }

  private async postResults(job: Job, targets: Target[], imagePart: LoadedImage, rows: DrawnButton[][], videoPart: LoadedVideo | undefined): Promise<void> {
    const video = videoPart ? { video: this.videoView(job, videoPart) } : {};
    for (const [i, target] of targets.entries()) {
      // an earlier attempt that failed later on (a Discord 5xx, the store) already posted here: not again
      if (job.messages.results.some((r) => r.channelId === target.channelId)) continue;
      // ping once: in the channel unless the result also goes to a DM (a DM notifies by itself)
      const mention = !target.dm && !targets.some((t) => t.dm);
      const note = target.note ? this.d.i18n.t(job.owner.locale, target.note) : undefined;
      const payload: MessagePayload =
        job.status === 'succeeded'
          ? this.d.renderer.result(job, {
              rows,
              ...imagePart,
              ...video,
              mention,
              ...(note ? { note: imagePart.note ? `${imagePart.note}\n${note}` : note } : {}),
            })
          : this.d.renderer.failure(job, { mention, ...(note ? { note } : {}) });
      payload.nonce = `${job.id}${i}`.slice(0, 25);
      const ref = await this.postFinal(job, target, payload);
      if (ref) job.messages.results.push(ref); // remembered at once, so that a retry after a later failure skips it
    }
  }

  private loadVideo(job: Job): Promise<LoadedVideo> {
    const fetchVideo = this.d.fetchVideo ?? (() => Promise.reject(Object.assign(new Error('no video fetcher configured'), { kind: 'not-video' })));
    return loadResultVideo(job, { fetchVideo, videoGate: this.videoGate, i18n: this.d.i18n, logger: this.d.logger });
  }

  /** A loaded video as the renderer draws it: its files, and each link with its line in the member's language. */
  private videoView(job: Job, v: LoadedVideo): { files: LoadedVideo['files']; links: { text: string; url: string }[]; thumbnailUrl?: string | undefined } {
    return { files: v.files, links: v.links.map((l) => ({ text: clipLinkText(l, job, this.d.i18n), url: l.url })), thumbnailUrl: v.thumbnailUrl };
  }

  /** Delete one of the job's messages: a follow-up through its webhook while the token lives, else as a channel message. */
  private async deleteMessage(job: Job, ref: MessageRef): Promise<void> {
    const hook = ref.via === 'followup' ? this.hookFor(job, ref.channelId) : undefined;
    if (hook) {
      try {
        return await this.d.messenger.deleteFollowUp(hook, ref.messageId);
      } catch (err) {
        if (!tokenEnded(err)) throw err;
        this.tokenEnded(job);
      }
    }
    await this.d.messenger.delete(ref.channelId, ref.messageId);
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
      await this.editComponents(job, ref, components).catch((err) => {
        if (discordCode(err) !== DiscordCodes.unknownMessage) this.d.logger.debug({ err, jobId: job.id }, 'button redraw failed');
      });
    }
  }

  private async editComponents(job: Job, ref: MessageRef, components: MessagePayload['components']): Promise<void> {
    const hook = ref.via === 'followup' ? this.hookFor(job, ref.channelId) : undefined;
    if (hook) {
      try {
        return await this.d.messenger.editFollowUpComponents(hook, ref.messageId, components);
      } catch (err) {
        if (!tokenEnded(err)) throw err;
        this.tokenEnded(job);
      }
    }
    await this.d.messenger.editComponents(ref.channelId, ref.messageId, components);
  }

  /**
   * Post a finished job again (`/job id`, like Midjourney's /show) with its live buttons. The image is taken
   * from the bot's own earlier post when it still exists (the upstream's URL may have expired), else from the upstream.
   */
  async repost(job: Job, channelId: string): Promise<MessageRef> {
    const rows = await this.drawButtons(job);
    if (job.result?.video) {
      // a video is posted again from the upstream's clips (durable CDN links), within the video budget
      const v = await this.loadVideo(job);
      try {
        const video = this.videoView(job, v);
        const shown = v.notes.length ? { note: v.notes.join('\n') } : {};
        return await this.repostAs(job, channelId, this.d.renderer.result(job, { rows, video, ...shown, mention: false }));
      } finally {
        v.release();
      }
    }
    const imagePart = job.result?.imageUrl ? ((await imageFromOwnPost(job, this.d)) ?? (await loadResultImage(job, this.d))) : {};
    return this.repostAs(job, channelId, this.d.renderer.result(job, { rows, ...imagePart, mention: false }));
  }

  private async repostAs(job: Job, channelId: string, payload: MessagePayload): Promise<MessageRef> {
    const msg = await this.d.messenger.send(channelId, payload);
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
      const hook = this.hookFor(job, target.channelId);
      const followed = hook ? await this.postFollowUp(job, hook, target.channelId, payload) : undefined;
      if (followed) return followed;
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
      if ((code === DiscordCodes.tooLarge || code === DiscordCodes.fileTooLarge) && job.result?.video && payload.files?.length) {
        // Discord refused the clips after all (a smaller limit than the interaction said): every clip as its link
        const lines = job.result.video.clips.flatMap((c, i) => [
          clipLinkText({ n: i + 1, url: c.url, reason: 'too-large', bytes: payload.files?.[i]?.data.length ?? 0 }, job, this.d.i18n),
          c.url,
        ]);
        const { files: _files, ...rest } = payload;
        return this.postFinal(job, target, { ...rest, content: [payload.content ?? '', ...lines].join('\n').slice(0, 2000) });
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

  /**
   * Post a result as a follow-up of the job's interaction, exactly once: a webhook takes no nonce, so the attempt is
   * recorded before it goes, and an attempt whose answer was lost (a crash, a timeout) is looked up in the channel
   * before posting again. Undefined when the token no longer works: the channel route takes over.
   */
  private async postFollowUp(job: Job, hook: InteractionHook, channelId: string, payload: MessagePayload): Promise<MessageRef | undefined> {
    // a job that ends before its handler has answered: its result must not become the (ephemeral) deferred reply
    if (!(await this.openReplies.answered(hook.token, REPLY_WAIT_MS))) return undefined;
    if (job.messages.followUpPending === channelId) {
      const landed = await this.findFollowUp(job, channelId);
      if (landed) {
        job.messages.followUpPending = undefined;
        return landed;
      }
    }
    job.messages.followUpPending = channelId;
    await this.d.repos.jobs.save(job, this.now());
    try {
      const msg = await this.d.messenger.followUp(hook, payload);
      job.messages.followUpPending = undefined;
      return { channelId, messageId: msg.id, via: 'followup' };
    } catch (err) {
      if (isTransient(err)) throw err; // it may have landed: the mark stays, and the retry looks first
      job.messages.followUpPending = undefined; // refused: nothing was posted
      if (!tokenEnded(err)) throw err;
      this.tokenEnded(job);
      return undefined;
    }
  }

  /** The job's result follow-up in the channel's recent history (by its interaction), if an earlier attempt posted it. */
  private async findFollowUp(job: Job, channelId: string): Promise<MessageRef | undefined> {
    const interactionId = job.interaction?.id;
    if (!interactionId) return undefined;
    const progressId = job.messages.progress?.messageId;
    const after = progressId ?? snowflakeAt(job.createdAt - 60_000);
    try {
      const recent = await this.d.messenger.messagesAfter(channelId, after);
      const found = recent.find((m) => m.interaction_metadata?.id === interactionId && m.id !== progressId);
      return found ? { channelId, messageId: found.id, via: 'followup' } : undefined;
    } catch (err) {
      // the history cannot be read (no permission): post again rather than not at all
      this.d.logger.warn({ err, jobId: job.id }, 'could not check whether a result follow-up landed; posting it');
      return undefined;
    }
  }

  /** The job's interaction webhook, when a message to this channel may go through it now. */
  private hookFor(job: Job, channelId: string): InteractionHook | undefined {
    return liveHook(job, channelId, this.now());
  }

  /** Discord refused the token: from now on the job's messages are channel messages. */
  private tokenEnded(job: Job): void {
    if (job.interaction) job.interaction.ended = true;
    this.d.logger.debug({ jobId: job.id }, 'interaction token ended; channel messages take over');
  }

  private drawButtons(job: Job): Promise<DrawnButton[][]> {
    return drawButtons(job, { planButtons: this.d.planButtons, repos: this.d.repos, now: this.now });
  }

  private logFail(job: Job, what: string, err: unknown): undefined {
    this.d.logger.warn({ err, jobId: job.id, code: discordCode(err) }, `${what} failed`);
    return undefined;
  }
}
