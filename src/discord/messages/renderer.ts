import { ButtonStyle, ComponentType, type APIActionRowComponent, type APIButtonComponentWithCustomId, type APIComponentInMessageActionRow } from 'discord.js';
import type { I18n } from '../../i18n/index.js';
import type { Job } from '../../jobs/model.js';
import type { MappedButton } from '../../mj/buttons.js';
import { defuseLinks, escapePromptMarkdown, formatResultContent, progressBar } from '../../mj/content.js';
import { promptForDisplay } from '../../mj/prompts.js';
import { lacksUpscalePanel } from '../../mj/versionRules.js';
import { describeText, shortenText } from '../../mj/textResults.js';
import type { MessagePayload } from './messenger.js';
import { encode } from '../interactions/customId.js';

/**
 * Job → message payload. Pure: no I/O, no clocks; everything it needs is passed in.
 * The one place that decides what a job looks like in Discord.
 */

/** A button as drawn: the upstream mapping plus the Discord custom_id that routes back to it. */
export interface DrawnButton {
  button: MappedButton;
  customId: string;
  used: boolean;
}

export interface ResultImage {
  name: string;
  data: Buffer;
  contentType?: string;
}

export interface RendererOptions {
  /** whether this job, once accepted upstream, can still be stopped there (its progress message then carries Cancel) */
  canCancelRunning?: ((job: Job) => boolean) | undefined;
}

/** Ends a member (or a moderator) asked for: told on the job's message without pinging its owner. */
const ASKED_FOR_CANCEL: ReadonlySet<string> = new Set(['errors.cancelled', 'queue.cancelled']);

export class Renderer {
  constructor(
    private i18n: I18n,
    private opts: RendererOptions = {},
  ) {}

  /** What the job is, after the prompt: "Image #2", "Variations (Strong) by", … (empty for a fresh imagine). */
  private actionLabel(job: Job): string {
    const l = job.owner.locale;
    const a = job.action;
    if (!a) return '';
    const key = `jobs.actionLabel.${a.kind.replace(/\./g, '_')}`;
    return this.i18n.has(key) ? this.i18n.t(l, key, { n: a.index ?? '' }) : '';
  }

  /** `**prompt** - label <@user> (mode)` followed by `extra` lines; the prompt is shortened to keep it all ≤ 2000 chars. */
  private byline(job: Job, extra: string[] = []): string {
    return formatResultContent({
      prompt: promptForDisplay(job.result?.finalPrompt ?? job.prompt),
      userId: job.owner.userId,
      mode: job.result?.mode ?? job.mode,
      version: job.result?.version,
      label: this.actionLabel(job),
      suffix: extra.length ? `\n${extra.join('\n')}` : '',
    });
  }

  progress(job: Job): MessagePayload {
    const l = job.owner.locale;
    let status: string;
    if (job.status === 'waiting') {
      // in this server's own queue: its place, and a way out
      const place = job.queuePosition ?? 0;
      return {
        content: this.byline(job, [`⏳ ${place > 0 ? this.i18n.t(l, 'queue.progress', { position: place }) : this.i18n.t(l, 'queue.progressNext')}`]),
        components: [this.cancelRow(job)],
      };
    }
    if (job.status === 'queued' || job.status === 'submitting') {
      status =
        job.queuePosition && job.queuePosition > 0 ? this.i18n.t(l, 'progress.queued', { position: job.queuePosition }) : this.i18n.t(l, 'progress.waiting');
    } else if (job.status === 'modal') {
      status = this.i18n.t(l, 'progress.waitingForYou');
    } else {
      status = `${Math.round(job.progress)}%`;
    }
    const payload: MessagePayload = { content: this.byline(job, [job.status === 'running' ? progressBar(job.progress) : `⏳ ${status}`]) };
    if (job.previewUrl && /^https?:\/\//.test(job.previewUrl)) payload.embeds = [{ image: { url: job.previewUrl } }];
    // accepted upstream (queued there or running): Cancel only where the upstream can stop it
    if ((job.status === 'queued' || job.status === 'running') && job.upstreamId && this.opts.canCancelRunning?.(job))
      payload.components = [this.cancelRow(job)];
    return payload;
  }

  /** The Cancel button of a job's progress message (components/cancelJob.ts). */
  private cancelRow(job: Job): APIActionRowComponent<APIComponentInMessageActionRow> {
    const label = this.i18n.t(job.owner.locale, 'queue.cancelButton');
    return {
      type: ComponentType.ActionRow,
      components: [{ type: ComponentType.Button, style: ButtonStyle.Secondary, custom_id: encode('cancelJob', job.id), label }],
    };
  }

  /** A stable fingerprint of a progress frame, so identical frames are not re-sent. */
  progressKey(job: Job): string {
    return `${job.status}|${Math.round(job.progress)}|${job.queuePosition ?? ''}|${job.previewUrl ?? ''}`;
  }

  result(
    job: Job,
    opts: {
      rows: DrawnButton[][];
      image?: ResultImage;
      imageLink?: { url: string; bytes: number };
      note?: string;
      mention: boolean;
      /** a video result: its clips as files, the ones that are links (each with its line), a thumbnail for them */
      video?: { files: ResultImage[]; links: { text: string; url: string }[]; thumbnailUrl?: string | undefined };
    },
  ): MessagePayload {
    const l = job.owner.locale;
    const lines: string[] = [];
    const text = this.resultText(job);
    if (text) lines.push(text);
    if (opts.imageLink) {
      const key = opts.imageLink.bytes > 0 ? 'result.tooLargeForDiscord' : 'result.linkOnly';
      lines.push(this.i18n.t(l, key, { size: formatBytes(opts.imageLink.bytes), limit: formatBytes(job.attachmentLimit) }));
      lines.push(opts.imageLink.url);
    }
    for (const link of opts.video?.links ?? []) lines.push(link.text, link.url);
    if (opts.note) lines.push(opts.note);
    const hint = this.versionHint(job);
    if (hint) lines.push(hint);
    const payload: MessagePayload = {
      content: this.byline(job, lines),
      components: this.rows(opts.rows, l),
      mentionUsers: opts.mention ? [job.owner.userId] : [],
    };
    if (opts.image)
      payload.files = [
        {
          name: opts.image.name,
          data: opts.image.data,
          ...(opts.image.contentType ? { contentType: opts.image.contentType } : {}),
          description: truncate(job.prompt, 1000),
        },
      ];
    if (opts.video?.files.length) payload.files = opts.video.files.map((f) => ({ ...f, description: truncate(job.prompt, 1000) }));
    if (opts.video?.links.length && opts.video.thumbnailUrl) payload.embeds = [{ image: { url: opts.video.thumbnailUrl } }];
    return payload;
  }

  /** One line on a single image whose version has no upscale, zoom or pan (V8): how to get them. */
  private versionHint(job: Job): string | undefined {
    const r = job.result;
    const customIds = r?.buttons.map((b) => b.customId) ?? [];
    if (!r || r.text || !r.imageUrl || !lacksUpscalePanel(r.version, customIds)) return undefined;
    return this.i18n.t(job.owner.locale, 'reference.hint.noUpscalePanel', { version: r.version ?? '' });
  }

  /** Text results: describe's numbered prompts, shorten's analysis and candidates, else the text as is. */
  private resultText(job: Job): string | undefined {
    const text = job.result?.text;
    if (!text) return undefined;
    // text of no shape we know is escaped, so it cannot pose as the bot's layout; shorten's own markdown
    // (Show Details' token weights) keeps its emphasis, without links
    if (job.kind === 'describe') return describeText(text) ?? escapePromptMarkdown(text);
    if (job.kind === 'shorten') return shortenText(text, this.i18n.t(job.owner.locale, 'shorten.candidates')) ?? defuseLinks(text);
    return escapePromptMarkdown(text);
  }

  failure(job: Job, opts: { mention: boolean; note?: string }): MessagePayload {
    const l = job.owner.locale;
    const reason = job.error ? this.i18n.msg(l, job.error) : this.i18n.t(l, 'errors.unknown');
    const lines = [`❌ ${reason}`];
    if (opts.note) lines.push(opts.note);
    const asked = job.status === 'cancelled' && ASKED_FOR_CANCEL.has(job.error?.key ?? '');
    return { content: this.byline(job, lines), components: [], mentionUsers: opts.mention && !asked ? [job.owner.userId] : [] };
  }

  rows(rows: DrawnButton[][], locale: string): APIActionRowComponent<APIComponentInMessageActionRow>[] {
    return rows
      .filter((r) => r.length > 0)
      .slice(0, 5)
      .map((r) => ({
        type: ComponentType.ActionRow,
        components: r.slice(0, 5).map((d) => this.button(d, locale)),
      }));
  }

  private button(d: DrawnButton, locale: string): APIButtonComponentWithCustomId {
    const b = d.button;
    const style = d.used ? ButtonStyle.Primary : (b.style as ButtonStyle.Primary | ButtonStyle.Secondary | ButtonStyle.Success | ButtonStyle.Danger);
    const label = b.labelKey ? this.i18n.t(locale, b.labelKey, { n: b.index ?? '' }) : b.label;
    const out: APIButtonComponentWithCustomId = { type: ComponentType.Button, style, custom_id: d.customId };
    if (label) out.label = truncate(label, 80);
    if (b.emoji) out.emoji = { name: b.emoji };
    if (!out.label && !out.emoji) out.label = '?';
    return out;
  }
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A file size as people read it: 512 KB, 10.0 MiB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.max(1, Math.round(bytes / 1024))} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
