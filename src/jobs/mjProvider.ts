import { scrub, type Logger } from '../log.js';
import { gridButtonsFromHash, hashFromTask } from '../mj/buttons.js';
import { MjError, type MjButton, type MjFlavor, type MjTask } from '../upstream/mjTypes.js';
import { upstreamOf, type Job, type JobUpdate, type JobVideo, type Msg, type SpeedMode } from './model.js';
import type { ProviderAdapter } from './provider.js';

/** The part of the proxy client the tracker needs. */
export interface MjTaskSource {
  fetchTasks(ids: string[]): Promise<MjTask[]>;
  fetchTask(id: string): Promise<MjTask | null>;
  cancel?(id: string): Promise<void>;
}

/** After this many polls without the task in the batch answer, fetch it alone; after LOST_AFTER, give up. */
const SINGLE_FETCH_AFTER = 3;
const LOST_AFTER = 20;

export function parseProgress(p: string | null | undefined): number | undefined {
  if (!p) return undefined;
  const m = /(\d+(?:\.\d+)?)/.exec(p);
  return m ? Math.max(0, Math.min(100, Number(m[1]))) : undefined;
}

/** A FAILURE's failReason → a localized message (known prefixes), else the reason itself, sanitised and short. */
export function failReasonMessage(reason: string | null | undefined): Msg {
  const r = (reason ?? '').trim();
  if (/banned prompt|敏感词|banned word|prohibited/i.test(r)) return { key: 'errors.bannedPrompt' };
  if (/subscription required|blocked|订阅|账号.*(封|禁)|instance.*unavailable|实例不可用/i.test(r)) return { key: 'errors.upstreamAccount' };
  if (/执行超时|任务提交超时|timeout|timed out/i.test(r)) return { key: 'errors.upstreamTimeout' };
  if (/invalid parameter|无效参数|unrecognized parameter|invalid link/i.test(r))
    return { key: 'errors.invalidParameter', params: { reason: sanitizeReason(r) } };
  if (!r) return { key: 'errors.upstreamFailed', params: { reason: '—' } };
  return { key: 'errors.upstreamFailed', params: { reason: sanitizeReason(r) } };
}

export function sanitizeReason(text: string, max = 200): string {
  const clean = text
    .replace(/https?:\/\/\S+/g, '[link]')
    .replace(/[`@]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/** Upstream errors → the message a user sees. */
export function describeMjError(err: unknown): Msg {
  if (err instanceof MjError) {
    switch (err.kind) {
      case 'banned-prompt':
        return err.details.bannedWord
          ? { key: 'errors.bannedWord', params: { word: sanitizeReason(err.details.bannedWord, 50) } }
          : { key: 'errors.bannedPrompt' };
      case 'queue-full':
        return { key: 'errors.queueFull' };
      case 'no-account':
        return { key: 'errors.noAccount' };
      case 'not-found':
        return { key: 'errors.taskNotFound' };
      case 'validation':
        return { key: 'errors.validation', params: { reason: sanitizeReason(err.details.description ?? err.message) } };
      case 'auth':
        return { key: 'errors.notConfigured' };
      case 'rate-limited':
        return { key: 'errors.rateLimited' };
      case 'unsupported':
        return { key: 'errors.unsupported' };
      case 'unreachable':
        return { key: 'errors.unreachable' };
      case 'bad-response':
        return { key: 'errors.badResponse' };
      case 'failure':
        return { key: 'errors.upstreamFailed', params: { reason: sanitizeReason(err.details.description ?? err.message) } };
    }
  }
  return { key: 'errors.unknown' };
}

export interface MjProviderOptions {
  flavor: MjFlavor;
  logger: Logger;
  /** every secret of the deployment: scrubbed out of failure reasons before they are shortened */
  secrets?: readonly string[] | undefined;
}

/** Midjourney Proxy tasks as jobs: batched polls through list-by-condition, single fetches only as a fallback. */
export class MjProvider implements ProviderAdapter {
  readonly provider = 'mj' as const;
  private misses = new Map<string, number>();

  constructor(
    private client: MjTaskSource,
    private o: MjProviderOptions,
  ) {}

  async poll(jobs: Job[]): Promise<Map<string, JobUpdate>> {
    const out = new Map<string, JobUpdate>();
    const withIds = jobs.filter((j): j is Job & { upstreamId: string } => Boolean(j.upstreamId));
    if (withIds.length === 0) return out;
    const tasks = await this.client.fetchTasks(withIds.map((j) => j.upstreamId));
    const byId = new Map(tasks.map((t) => [String(t.id), t]));
    for (const job of withIds) {
      let task = byId.get(job.upstreamId);
      if (!task) {
        const n = (this.misses.get(job.id) ?? 0) + 1;
        this.misses.set(job.id, n);
        if (n >= SINGLE_FETCH_AFTER) task = (await this.client.fetchTask(job.upstreamId).catch(() => null)) ?? undefined;
        if (!task) {
          if (n >= LOST_AFTER) {
            this.misses.delete(job.id);
            out.set(job.id, { status: 'failed', error: { key: 'errors.taskNotFound' } });
          }
          continue;
        }
      }
      this.misses.delete(job.id);
      const u = this.toUpdate(job, task);
      if (u) out.set(job.id, u);
    }
    return out;
  }

  async abandon(job: Job): Promise<void> {
    const id = upstreamOf(job, 'mj').modalTaskId ?? job.upstreamId;
    if (id && this.client.cancel) await this.client.cancel(id);
  }

  /** One task → the job's new state (undefined: nothing usable yet). */
  toUpdate(job: Job, task: MjTask): JobUpdate | undefined {
    const status = String(task.status ?? '');
    switch (status) {
      case 'NOT_START':
        // still in the proxy's own queue: the place its submit reported (code 22) stays shown, a fetch carries none
        return { status: 'queued', progress: 0, queuePosition: job.queuePosition };
      case 'SUBMITTED':
      case 'IN_PROGRESS': {
        const u: JobUpdate = { status: 'running', progress: parseProgress(task.progress) ?? 0 };
        if (task.imageUrl) u.previewUrl = task.imageUrl;
        return u;
      }
      case 'MODAL':
        // only jobs whose modal was already submitted are polled; the proxy keeps MODAL until the task starts
        return { status: 'queued', progress: 0 };
      case 'CANCEL':
        return { status: 'cancelled', error: { key: 'errors.cancelled' } };
      case 'FAILURE': {
        const msg = failReasonMessage(task.failReason ? scrub(task.failReason, this.o.secrets ?? []) : task.failReason);
        if (/取消任务/.test(task.failReason ?? '')) return { status: 'cancelled', error: { key: 'errors.cancelled' } };
        return { status: 'failed', error: msg };
      }
      case 'SUCCESS':
        return this.success(job, task);
      default:
        this.o.logger.debug({ jobId: job.id, status }, 'unknown task status; still waiting');
        return undefined;
    }
  }

  private success(job: Job, task: MjTask): JobUpdate | undefined {
    const props = task.properties ?? {};
    const finalPrompt = (props.finalPrompt as string | undefined) || task.promptEn || task.prompt || undefined;
    const textual = job.kind === 'describe' || job.kind === 'shorten';
    if (textual ? !finalPrompt : !task.imageUrl) return undefined; // SUCCESS without its result yet: wait
    let buttons = Array.isArray(task.buttons) ? task.buttons.filter((b) => b && typeof b.customId === 'string') : [];
    if (buttons.length === 0) buttons = callbackButtonsOf(job, task);
    if (buttons.length === 0 && (this.o.flavor === 'task-form' || this.o.flavor === 'novicezk') && isGridAction(task.action)) {
      const hash = hashFromTask(task);
      if (hash) buttons = gridButtonsFromHash(hash);
    }
    return {
      status: 'succeeded',
      progress: 100,
      result: {
        imageUrl: task.imageUrl ?? undefined,
        width: typeof task.width === 'number' ? task.width : undefined,
        height: typeof task.height === 'number' ? task.height : undefined,
        buttons,
        finalPrompt: textual ? undefined : finalPrompt,
        text: textual ? finalPrompt : undefined,
        mode: speedOf(task.mode),
        version: versionOf(task.version),
        video: videoOf(task),
      },
    };
  }
}

/**
 * A video task's clips (TA v11, contract §3.10a): `contentType: video/mp4` or action VIDEO, `videoUrls[{url}]` one per
 * clip (a grid has four), else `imageUrl` (which then is the video itself) as the one clip. Thumbnails come as
 * `thumbnail` (TA's `imageUrls` shape) or `thumbnailUrl`; which of the two TA serialises for videos is unconfirmed.
 */
export function videoOf(task: MjTask): JobVideo | undefined {
  const listed = Array.isArray(task.videoUrls) ? (task.videoUrls as unknown[]) : [];
  const clips = listed.flatMap((v) => {
    const o = (typeof v === 'string' ? { url: v } : v) as { url?: unknown; thumbnail?: unknown; thumbnailUrl?: unknown } | null;
    if (!o || typeof o.url !== 'string' || !/^https?:\/\//i.test(o.url)) return [];
    const thumb = typeof o.thumbnail === 'string' ? o.thumbnail : typeof o.thumbnailUrl === 'string' ? o.thumbnailUrl : undefined;
    return [{ url: o.url, ...(thumb && /^https?:\/\//i.test(thumb) ? { thumbnailUrl: thumb } : {}) }];
  });
  const isVideo = /^video\//i.test(String(task.contentType ?? '')) || task.action === 'VIDEO' || clips.length > 0 || /\.mp4(\?|$)/i.test(task.imageUrl ?? '');
  if (!isVideo) return undefined;
  if (clips.length === 0 && task.imageUrl) clips.push({ url: task.imageUrl });
  if (clips.length === 0) return undefined;
  const duration = Number(task.videoDuration);
  return { clips: clips.slice(0, 4), ...(Number.isFinite(duration) && duration > 0 ? { durationS: duration } : {}) };
}

/**
 * The buttons an authenticated callback carried for this task (the form reseller names customIds only there), for
 * tasks whose fetch names none. Only buttons of this very task: a customId naming another job hash is dropped.
 */
export function callbackButtonsOf(job: Pick<Job, 'id' | 'provider' | 'upstream'>, task: MjTask): MjButton[] {
  const carried = upstreamOf(job, 'mj').callbackButtons;
  if (!Array.isArray(carried)) return [];
  const hash = hashFromTask(task);
  return carried.filter((b) => {
    if (!b || typeof b.customId !== 'string') return false;
    const named = b.customId.match(UUID_IN_ID);
    return !named || (hash !== null && named.every((h) => h.toLowerCase() === hash.toLowerCase()));
  });
}

const UUID_IN_ID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

function speedOf(mode: unknown): SpeedMode | undefined {
  const m = typeof mode === 'string' ? mode.toLowerCase() : '';
  return m === 'fast' || m === 'relax' || m === 'turbo' ? m : undefined;
}

/** "v 8.1", "V7", "niji 6" → "v 8.1", "v 7", "niji 6"; anything else (or too long to be a version) is dropped. */
export function versionOf(version: unknown): string | undefined {
  const m = typeof version === 'string' ? /^\s*(v|niji)\s*(\d{1,2}(?:\.\d{1,2})?)\s*$/i.exec(version) : null;
  return m ? `${m[1]!.toLowerCase()} ${m[2]}` : undefined;
}

function isGridAction(action: string | undefined): boolean {
  return ['IMAGINE', 'VARIATION', 'REROLL', 'BLEND', 'PAN', 'ZOOM', undefined].includes(action);
}
