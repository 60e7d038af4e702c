import type { Logger } from '../../log.js';
import type { I18n } from '../../i18n/index.js';
import type { Job, MessageRef } from '../../jobs/model.js';
import { newId } from '../../jobs/model.js';
import type { MappedButton } from '../../mj/buttons.js';
import { KeyedMutex, type ButtonRecord, type Repositories } from '../../store/repositories.js';
import { encode, routeOfPrefix } from '../interactions/customId.js';
import { EditCoalescer } from './editCoalescer.js';
import { DiscordCodes, discordCode, type MessagePayload, type Messenger } from './messenger.js';
import { formatBytes, type DrawnButton, type Renderer, type ResultImage } from './renderer.js';

const DM_RETRIES = 3;
const DM_BACKOFF_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Downloads a result image (size-capped); throws an error with `kind: 'too-large'` and `size` past the cap. */
export type ImageFetcher = (url: string, maxBytes: number) => Promise<{ data: Buffer; contentType?: string | undefined; ext: string }>;

/** Turns a job's upstream buttons into what is drawn (mapping, filtering, layout). Provider-specific, injected. */
export type ButtonPlanner = (job: Job) => MappedButton[][];

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

/** The custom_id of a drawn button: an upstream button routes to mjButton, the bot's own name their route's prefix. */
export function buttonCustomId(button: Pick<MappedButton, 'route'>, key: string): string {
  return encode(button.route ? routeOfPrefix(button.route) : 'mjButton', key);
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

  constructor(private d: DeliveryDeps) {
    this.now = d.now ?? Date.now;
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
    const target = await this.primaryTarget(job);
    try {
      const msg = await this.d.messenger.send(target.channelId, payload);
      job.messages.progress = { channelId: target.channelId, messageId: msg.id };
    } catch (err) {
      if (target.dm && discordCode(err) === DiscordCodes.cannotDm) {
        await this.markDmClosed(job);
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

    const targets = await this.finalTargets(job);
    let imagePart: LoadedImage = {};
    let rows: DrawnButton[][] = [];
    if (job.status === 'succeeded') {
      imagePart = await this.loadImage(job);
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
    const imagePart = job.result?.imageUrl ? ((await this.ownImage(job)) ?? (await this.loadImage(job))) : {};
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

  private async ownImage(job: Job): Promise<{ image: ResultImage } | undefined> {
    for (const ref of job.messages.results) {
      const att = (await this.d.messenger.fetch(ref.channelId, ref.messageId).catch(() => undefined))?.attachments[0];
      const img = att ? await this.d.fetchImage(att.url, job.attachmentLimit).catch(() => undefined) : undefined;
      if (att && img) return { image: { name: att.filename, data: img.data, ...(img.contentType ? { contentType: img.contentType } : {}) } };
    }
    return undefined;
  }

  /** Store a key for every drawn button (store first, Discord second) and build the rows. */
  private async drawButtons(job: Job): Promise<DrawnButton[][]> {
    const planned = this.d.planButtons(job);
    job.buttonKeys ??= {};
    const fresh: ButtonRecord[] = [];
    const used = new Set(job.usedButtons ?? []);
    const rows = planned.map((row) =>
      row.map((button) => {
        let key = job.buttonKeys![button.customId];
        if (!key) {
          key = newId(10);
          job.buttonKeys![button.customId] = key;
          fresh.push({
            key,
            jobId: job.id,
            upstreamTaskId: job.upstreamId ?? '',
            customId: button.customId,
            kind: button.kind,
            index: button.index,
            ownerId: job.owner.userId,
            guildId: job.owner.guildId,
            createdAt: this.now(),
            ...(button.data ? { data: button.data } : {}),
          });
        }
        return { button, customId: buttonCustomId(button, key), used: used.has(button.customId) };
      }),
    );
    if (fresh.length > 0) {
      await this.d.repos.buttons.putMany(fresh);
      await this.d.repos.jobs.save(job, this.now());
    }
    return rows;
  }

  private async loadImage(job: Job): Promise<LoadedImage> {
    const url = job.result?.imageUrl;
    if (!url) return {};
    try {
      const img = await this.d.fetchImage(url, job.attachmentLimit);
      return { image: { name: `${fileSlug(job.prompt)}_${job.id}.${img.ext}`, data: img.data, ...(img.contentType ? { contentType: img.contentType } : {}) } };
    } catch (err) {
      const e = err as { kind?: string; size?: number };
      if (e.kind === 'too-large') return { imageLink: { url, bytes: e.size ?? 0 } };
      if (e.kind === 'blocked-address') {
        // the upstream pointed (or redirected) at a private address: neither fetched nor linked, and the member is told
        this.d.logger.warn({ err, jobId: job.id }, 'result image is on a private or reserved address: not fetched');
        return { note: this.d.i18n.t(job.owner.locale, 'result.imageAtPrivateAddress') };
      }
      this.d.logger.warn({ err, jobId: job.id }, 'result image could not be downloaded; posting the link');
      return { imageLink: { url, bytes: 0 } };
    }
  }

  private async postFinal(job: Job, target: Target, payload: MessagePayload): Promise<MessageRef | undefined> {
    try {
      const msg = await this.d.messenger.send(target.channelId, payload);
      return { channelId: target.channelId, messageId: msg.id };
    } catch (err) {
      const code = discordCode(err);
      if (target.dm && code === DiscordCodes.cannotDm) {
        await this.markDmClosed(job);
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

  private async primaryTarget(job: Job): Promise<Target> {
    if (job.delivery === 'dm' && !(await this.dmKnownClosed(job))) {
      const dm = await this.openDm(job);
      if (dm) return dm;
    }
    return { channelId: job.owner.channelId, dm: false };
  }

  private async finalTargets(job: Job): Promise<Target[]> {
    const channel: Target = { channelId: job.owner.channelId, dm: false };
    if (job.delivery === 'channel') return [channel];
    const closed = job.dmFallback || (await this.dmKnownClosed(job));
    const dm = closed ? undefined : await this.openDm(job);
    if (job.delivery === 'both') return dm && dm.channelId !== channel.channelId ? [channel, dm] : [channel];
    if (dm) return [dm];
    return [{ ...channel, note: 'delivery.dmClosedFallback' }];
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

  private async markDmClosed(job: Job): Promise<void> {
    job.dmFallback = true;
    await this.d.repos.users.updateSettings(job.owner.userId, { dmClosed: true });
  }

  private logFail(job: Job, what: string, err: unknown): undefined {
    this.d.logger.warn({ err, jobId: job.id, code: discordCode(err) }, `${what} failed`);
    return undefined;
  }
}

/** What goes with a result: the image, or a link to it, or a note saying why there is neither. */
type LoadedImage = { image?: ResultImage; imageLink?: { url: string; bytes: number }; note?: string };

interface Target {
  channelId: string;
  dm: boolean;
  note?: string;
}

/** A failure that may pass if the same request is sent later: HTTP 5xx, 408, 429, or no HTTP answer at all. */
export function isTransient(err: unknown): boolean {
  const status = (err as { status?: unknown } | null)?.status;
  if (typeof status !== 'number') return discordCode(err) === undefined;
  return status >= 500 || status === 408 || status === 429;
}

function fileSlug(prompt: string): string {
  const slug = prompt
    .replace(/<?https?:\/\/\S+>?/g, '')
    .toLowerCase()
    .replace(/--\S+(\s+\S+)?/g, '')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 40);
  return slug || 'image';
}
