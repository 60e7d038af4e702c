// Midjourney Proxy client for the four server families MJ_FLAVOR names (trueai, plus, novicezk, task-form).
// HTTP only; nothing here knows about Discord.
//
// Every call resolves to a typed outcome or throws MjError. Submits are never retried (a retry could start a
// second job); task queries are retried with backoff. One circuit breaker guards the whole upstream.

import { scrub, type Logger } from '../log.js';
import { isRecording, SubmitRecorded, type RecordedSubmit } from './submitRecorder.js';
import {
  HttpClient,
  UpstreamHttpError,
  headerValue,
  type BreakerOptions,
  type CircuitStateName,
  type HttpObserver,
  type HttpResponse,
  type RetryOptions,
} from './http.js';
import {
  MjError,
  type MjActionRequest,
  type MjAuthStyle,
  type MjBlendRequest,
  type MjCapabilities,
  type MjDescribeRequest,
  type MjEnvelope,
  type MjErrorKind,
  type MjFaceSwapRequest,
  type MjFeatureGate,
  type MjFeatureProbe,
  type MjFeatureState,
  type MjFlavor,
  type MjImagineRequest,
  type MjMode,
  type MjModalRequest,
  type MjShortenRequest,
  type MjSubmitOutcome,
  type MjTask,
  type MjVideoRequest,
} from './mjTypes.js';

/** The proxy settings as configured (MJ_BASE_URL, MJ_FLAVOR, MJ_AUTH_HEADER, MJ_API_SECRET, MJ_MODE, MJ_DISABLED_BUTTONS). */
export interface MjSettings {
  baseUrl: string;
  flavor: MjFlavor;
  authStyle: MjAuthStyle;
  secret: string | undefined;
  mode: MjMode | undefined;
  disabledButtons: RegExp[];
}

/** The client options that follow from the configured proxy settings, the same for the bot and the doctor. */
export function mjClientOptionsFrom(
  mj: MjSettings,
): Pick<MjClientOptions, 'baseUrl' | 'flavor' | 'authStyle' | 'secret' | 'defaultMode' | 'disabledButtonPatterns'> {
  return {
    baseUrl: mj.baseUrl,
    flavor: mj.flavor,
    authStyle: mj.authStyle,
    secret: mj.secret,
    defaultMode: mj.mode,
    disabledButtonPatterns: mj.disabledButtons,
  };
}

export interface MjClientOptions {
  /** may already carry a mode prefix, e.g. http://h/mj-relax; the client appends /mj/... */
  baseUrl: string;
  flavor: MjFlavor;
  authStyle: MjAuthStyle;
  secret?: string | undefined;
  /** path-mode prefix when a call gives none (trueai/plus only; novicezk and task-form never get a prefix) */
  defaultMode?: MjMode | undefined;
  /** when set, sent as notifyHook on submits and actions (never on modal) */
  notifyHookUrl?: string | undefined;
  /** every other secret of the deployment (other providers' keys, the Discord token…): kept out of error texts too */
  alsoScrub?: readonly string[] | undefined;
  /** customIds matching any of these are refused locally (e.g. PromptAnalyzer/BOOKMARK on trueai v11) */
  disabledButtonPatterns?: RegExp[] | undefined;
  timeouts?: { connectMs?: number; headersMs?: number; bodyMs?: number; totalMs?: number } | undefined;
  /** backoff for idempotent calls (defaults: 3 retries, 200 ms → 3 s, jittered) */
  retry?: RetryOptions | undefined;
  /** defaults: open after 5 consecutive unreachable/5xx, half-open after 15 s */
  breaker?: BreakerOptions | undefined;
  /** told about every HTTP attempt (metrics) */
  observer?: HttpObserver | undefined;
  logger: Logger;
}

type Op = 'imagine' | 'blend' | 'describe' | 'shorten' | 'faceSwap' | 'video' | 'action' | 'modal' | 'seed' | 'fetch' | 'list' | 'cancel' | 'upload';

/** Ops that start a fresh job: code 3 means "no usable account" there, "unknown task" everywhere else. */
const FRESH_SUBMITS: ReadonlySet<Op> = new Set(['imagine', 'blend', 'describe', 'shorten', 'faceSwap', 'video']);

const LIST_CHUNK = 100;
const FALLBACK_CONCURRENCY = 4;
const MAX_DESCRIPTION = 300;

const FLAVOR_CAPS: Record<MjFlavor, MjCapabilities> = {
  trueai: {
    actions: 'full',
    modal: true,
    shorten: true,
    describeLink: true,
    faceSwap: true,
    listByCondition: true,
    modePaths: true,
    video: 'route',
    cancelRunning: false,
  },
  plus: {
    actions: 'full',
    modal: true,
    shorten: true,
    describeLink: false,
    faceSwap: true,
    listByCondition: true,
    modePaths: true,
    video: 'prompt',
    cancelRunning: true,
  },
  novicezk: {
    actions: 'change-only',
    modal: false,
    shorten: false,
    describeLink: false,
    faceSwap: false,
    listByCondition: true,
    modePaths: false,
    video: 'prompt',
    cancelRunning: false,
  },
  // the form reseller documents face swap, but not shorten nor list-by-condition: those stay off
  'task-form': {
    actions: 'form',
    modal: true,
    shorten: false,
    describeLink: false,
    faceSwap: true,
    listByCondition: false,
    modePaths: false,
    video: 'prompt',
    cancelRunning: false,
  },
};

/** Flavours with `upload-discord-images` (contract §3.0: trueai; plus and the form reseller undocumented, so not tried). */
const UPLOAD_FLAVORS: ReadonlySet<MjFlavor> = new Set(['trueai']);

/** The grid buttons novicezk's /submit/change can express ({taskId, action: UPSCALE|VARIATION|REROLL, index 1..4}). */
const CHANGE_ACTIONS: { re: RegExp; action: 'UPSCALE' | 'VARIATION' | 'REROLL' }[] = [
  { re: /^MJ::JOB::upsample::([1-4])(?:::|$)/, action: 'UPSCALE' },
  { re: /^MJ::JOB::variation::([1-4])(?:::|$)/, action: 'VARIATION' },
  { re: /^MJ::JOB::reroll::0(?:::|$)/, action: 'REROLL' },
];

export class MjProxyClient {
  private readonly http: HttpClient;
  private readonly base: string;
  private readonly secrets: string[];
  private readonly log: Logger;
  /** routes that answered 404/405 without an envelope (runtime degradation) */
  private readonly missing = new Set<'list' | 'shorten' | 'modal' | 'faceSwap' | 'upload'>();
  /** what the last feature probe found (probeFeatures); undefined until one ran */
  private probed: MjFeatureProbe | undefined;

  constructor(private readonly opts: MjClientOptions) {
    this.log = opts.logger;
    this.base = normaliseBase(opts.baseUrl);
    if (opts.defaultMode && !usesModePaths(opts.flavor)) {
      this.log.warn(
        { flavor: opts.flavor, mode: opts.defaultMode },
        `MJ_MODE=${opts.defaultMode}: the ${opts.flavor} proxy has no mode paths, so it is sent as --${opts.defaultMode} in /imagine prompts only; /blend, /describe and button presses run at the Midjourney account's own speed (MJ_MODE is ignored there)`,
      );
    }
    const s = opts.secret;
    this.secrets = [s, s && encodeURIComponent(s), opts.notifyHookUrl, ...(opts.alsoScrub ?? [])].filter((x): x is string => !!x && x.length >= 4);
    this.http = new HttpClient({
      name: 'mj-proxy',
      logger: opts.logger,
      timeouts: opts.timeouts,
      retry: opts.retry,
      breaker: opts.breaker,
      secrets: this.secrets,
      observer: opts.observer,
    });
  }

  capabilities(): MjCapabilities {
    const caps = { ...FLAVOR_CAPS[this.opts.flavor] };
    if (this.missing.has('list')) caps.listByCondition = false;
    if (this.missing.has('shorten')) caps.shorten = false;
    if (this.missing.has('modal')) caps.modal = false;
    if (this.missing.has('faceSwap')) caps.faceSwap = false;
    caps.video = videoPath(caps.video, this.probed?.video);
    return caps;
  }

  /** What the last probeFeatures() found; undefined before the first. */
  lastProbe(): MjFeatureProbe | undefined {
    return this.probed;
  }

  /**
   * Ask the proxy whether video and image upload answer, without starting anything: `submit/video` with an empty
   * prompt and `upload-discord-images` with no image are refused before any account is used (trueai checks "video
   * enabled" / "upload allowed" first, then the input). A 404/405 without an envelope = no such route. What a probe
   * cannot tell (Remix on the accounts, an HD-capable account) shows up at the first real submit (codes 9 and 3).
   * Its own short-lived HTTP client: no retry, a short deadline, and no effect on the circuit breaker of real calls.
   */
  async probeFeatures(timeoutMs = 3000): Promise<MjFeatureProbe> {
    const http = new HttpClient({
      name: 'mj-proxy-probe',
      logger: this.log,
      timeouts: { totalMs: timeoutMs },
      retry: { retries: 0 },
      secrets: this.secrets,
    });
    const ask = async (route: string, json: unknown, disabled: RegExp): Promise<MjFeatureState> => {
      try {
        const res = await http.requestJson({ method: 'POST', url: this.url(route), json, headers: this.headers() });
        const env = asEnvelope(res.json);
        if (env) return env.code === 4 && disabled.test(env.description ?? '') ? 'disabled' : 'available';
        if (res.status === 404 || res.status === 405) return 'missing';
        if (isResultEnvelope(res.json)) return 'available'; // trueai's model-binding answer: the route is there
        return 'unknown';
      } catch {
        return 'unknown';
      }
    };
    try {
      const [video, upload] = await Promise.all([
        ask('submit/video', { prompt: '' }, VIDEO_DISABLED),
        ask('submit/upload-discord-images', { base64Array: [] }, UPLOAD_DISABLED),
      ]);
      this.probed = { video, upload };
      return this.probed;
    } finally {
      await http.close();
    }
  }

  circuitState(): CircuitStateName {
    return this.http.circuitState();
  }

  /** Whether a button with this customId can be pressed through this proxy (flavour + disabled patterns). */
  supportsCustomId(customId: string): boolean {
    if (this.opts.disabledButtonPatterns?.some((re) => re.test(customId))) return false;
    if (this.opts.flavor === 'novicezk') return CHANGE_ACTIONS.some((c) => c.re.test(customId));
    return true;
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  // ------------------------------------------------------------------ submits (never retried)

  async imagine(req: MjImagineRequest): Promise<MjSubmitOutcome> {
    const images = req.images?.length ? req.images : undefined;
    // without mode paths (novicezk, task-form) the speed rides in the prompt, where Midjourney itself reads it
    const prompt = usesModePaths(this.opts.flavor) ? req.prompt : withSpeedFlag(req.prompt, req.mode ?? this.opts.defaultMode);
    const body =
      this.opts.flavor === 'task-form'
        ? { prompt, base64: images?.[0] } // novicezk ≤ 2.3 / task-form: a single base64 string
        : { prompt, base64Array: images };
    if (this.opts.flavor === 'task-form' && images && images.length > 1) {
      this.log.warn({ dropped: images.length - 1 }, 'task-form imagine takes one reference image; extra images dropped');
    }
    return this.submit('imagine', 'submit/imagine', { ...body, ...this.common(req) }, req.mode);
  }

  async blend(req: MjBlendRequest): Promise<MjSubmitOutcome> {
    return this.submit('blend', 'submit/blend', { base64Array: req.images, dimensions: req.dimensions, ...this.common(req) }, req.mode);
  }

  async describe(req: MjDescribeRequest): Promise<MjSubmitOutcome> {
    let image: { base64?: string; link?: string };
    if (req.image) image = { base64: req.image };
    else if (req.link && this.capabilities().describeLink) image = { link: req.link };
    else if (req.link) throw new MjError('unsupported', `describe by link is not supported by the ${this.opts.flavor} proxy`);
    else throw new MjError('validation', 'describe needs an image or a link', { description: 'describe needs an image or a link' });
    return this.submit('describe', 'submit/describe', { ...image, ...this.common(req) }, req.mode);
  }

  async shorten(req: MjShortenRequest): Promise<MjSubmitOutcome> {
    this.require('shorten', FLAVOR_CAPS[this.opts.flavor].shorten);
    return this.submit('shorten', 'submit/shorten', { prompt: req.prompt, ...this.common(req) }, req.mode);
  }

  async faceSwap(req: MjFaceSwapRequest): Promise<MjSubmitOutcome> {
    this.require('faceSwap', FLAVOR_CAPS[this.opts.flavor].faceSwap);
    const { state, notifyHook } = this.common(req);
    return this.submit('faceSwap', 'insight-face/swap', { sourceBase64: req.source, targetBase64: req.target, state, notifyHook }, req.mode);
  }

  /**
   * Start a video from a start frame. trueai: `POST /mj/submit/video` (the start and end frames as data URLs, which
   * the proxy re-hosts on its own Discord channel, so nothing depends on a member's expiring attachment link).
   * Elsewhere: an imagine whose prompt carries Midjourney's own `--video 1 --motion … [--end …] [--bs n]`, the start
   * frame as its image (the proxy puts the uploaded image's URL first in the prompt, as Midjourney expects).
   * Refusals that name something the admin must enable carry `details.gate` (see videoGate).
   */
  async video(req: MjVideoRequest): Promise<MjSubmitOutcome> {
    try {
      if (this.capabilities().video === 'prompt') {
        return await this.imagine({ prompt: videoPrompt(req), images: [req.image], botType: req.botType, mode: req.mode, state: req.state });
      }
      const { state, notifyHook } = this.common(req);
      const body = {
        // the route refuses a blank prompt, and adds no flag the prompt already names
        prompt: req.prompt.trim() || `--motion ${req.motion}`,
        image: req.image,
        endImage: req.endImage,
        loop: req.loop || undefined,
        motion: req.motion,
        batchSize: req.batchSize,
        videoType: req.hd ? 'vid_1.1_i2v_720' : undefined,
        state,
        notifyHook,
      };
      return await this.submit('video', 'submit/video', body, req.mode);
    } catch (e) {
      throw e instanceof MjError ? videoGate(e) : e;
    }
  }

  /** Press a button: `customId` verbatim from the task that owns it. */
  async action(req: MjActionRequest): Promise<MjSubmitOutcome> {
    if (this.opts.disabledButtonPatterns?.some((re) => re.test(req.customId))) {
      throw new MjError('unsupported', 'this button is disabled for the configured proxy');
    }
    const { state, notifyHook, botType } = this.common(req);
    switch (this.opts.flavor) {
      case 'novicezk': {
        const change = translateChange(req.customId);
        if (!change) throw new MjError('unsupported', 'the novicezk proxy only supports upscale, variation and reroll');
        return this.submit('action', 'submit/change', { taskId: req.taskId, ...change, state, notifyHook }, undefined);
      }
      case 'task-form':
        return this.submit('action', 'task/action', form({ taskId: req.taskId, customId: req.customId, state, notifyHook }), undefined);
      default:
        return this.submit(
          'action',
          'submit/action',
          { taskId: req.taskId, customId: req.customId, enableRemix: req.enableRemix, botType, state, notifyHook },
          req.mode,
        );
    }
  }

  /** Complete a MODAL task (the id returned with code 21). No notifyHook: the servers ignore it here. */
  async modal(req: MjModalRequest): Promise<MjSubmitOutcome> {
    this.require('modal', FLAVOR_CAPS[this.opts.flavor].modal);
    if (this.opts.flavor === 'task-form') {
      return this.submit('modal', 'task/modal', form({ taskId: req.taskId, prompt: req.prompt ?? '', maskBase64: req.maskBase64 ?? '' }), undefined);
    }
    return this.submit('modal', 'submit/modal', { taskId: req.taskId, prompt: req.prompt, maskBase64: req.maskBase64 }, req.mode);
  }

  /**
   * Host images on the proxy's Discord channel (`POST /mj/submit/upload-discord-images`, trueai) so Midjourney can
   * fetch them from a prompt: their URLs, in order; null where the proxy has no such route (another flavour, or a
   * 404/405 before). Not a job, so nothing is tracked; not retried.
   */
  async uploadImages(images: readonly string[]): Promise<string[] | null> {
    if (!UPLOAD_FLAVORS.has(this.opts.flavor) || this.missing.has('upload')) return null;
    const res = await this.call('upload', { method: 'POST', url: this.url('submit/upload-discord-images'), json: { base64Array: images } });
    const env = asEnvelope(res.json);
    if (!env && (res.status === 404 || res.status === 405)) {
      this.markMissing('upload');
      return null;
    }
    if (env && env.code === 1) {
      const urls = Array.isArray(env.result) ? env.result.map(String) : [];
      if (urls.length === images.length && urls.every((u) => /^https?:\/\//i.test(u))) return urls;
      throw new MjError('bad-response', `Midjourney Proxy upload: expected ${images.length} URL(s), got ${urls.length}`, { code: 1, httpStatus: res.status });
    }
    throw this.failure('upload', res);
  }

  // ------------------------------------------------------------------ queries (idempotent, retried)

  /** One task; null when the proxy does not know the id (empty body, or code 3). */
  async fetchTask(id: string): Promise<MjTask | null> {
    const res = await this.call('fetch', { method: 'GET', url: this.url(`task/${encodeURIComponent(String(id))}/fetch`), idempotent: true });
    if (res.status >= 200 && res.status < 300) {
      if (res.text.trim() === '' || res.json === null) return null;
      const task = asTask(res.json);
      if (task) return task;
    }
    const env = asEnvelope(res.json);
    if (env && env.code === 3) return null;
    throw this.failure('fetch', res);
  }

  /** Many tasks in as few calls as possible; unknown ids are omitted; result in request order. */
  async fetchTasks(ids: readonly (string | number)[]): Promise<MjTask[]> {
    const wanted = [...new Set(ids.map(String))].filter((id) => id !== '');
    if (wanted.length === 0) return [];
    const byId = new Map<string, MjTask>();
    let rest = wanted;
    if (this.capabilities().listByCondition) {
      rest = [];
      for (let i = 0; i < wanted.length; i += LIST_CHUNK) {
        const chunk = wanted.slice(i, i + LIST_CHUNK);
        const tasks = this.missing.has('list') ? null : await this.listChunk(chunk);
        if (tasks === null) rest.push(...chunk);
        else for (const t of tasks) byId.set(t.id, t);
      }
    }
    if (rest.length) for (const t of await this.fetchEach(rest)) byId.set(t.id, t);
    return wanted.flatMap((id) => byId.get(id) ?? []);
  }

  /** `/mj/task/{id}/image-seed` → the seed string. */
  async imageSeed(taskId: string): Promise<string> {
    const res = await this.call('seed', { method: 'GET', url: this.url(`task/${encodeURIComponent(taskId)}/image-seed`), idempotent: true });
    const env = asEnvelope(res.json);
    if (env && (env.code === 1 || env.code === 22)) {
      const seed = firstId(env.result);
      if (seed) return seed;
      throw new MjError('bad-response', 'image-seed reply carried no seed', { code: env.code, httpStatus: res.status });
    }
    throw this.failure('seed', res);
  }

  /** Abandon a task (used for MODAL tasks). trueai: admin token only. Not retried. */
  async cancel(taskId: string): Promise<void> {
    const res = await this.call('cancel', { method: 'POST', url: this.url(`task/${encodeURIComponent(taskId)}/cancel`) });
    const env = asEnvelope(res.json);
    if (env) {
      if (env.code === 1 || env.code === 22) return;
      throw this.failure('cancel', res);
    }
    if (res.status >= 200 && res.status < 300 && !isResultEnvelope(res.json)) return; // trueai: 200 with an empty body
    throw this.failure('cancel', res);
  }

  // ------------------------------------------------------------------ internals

  private require(feature: 'shorten' | 'modal' | 'faceSwap', available: boolean): void {
    if (!available) throw new MjError('unsupported', `${feature} is not supported by the ${this.opts.flavor} proxy`);
  }

  /** Fields every submit may carry; undefined ones are dropped when the body is serialised. */
  private common(req: { botType?: string | undefined; state?: string | undefined }) {
    return { botType: req.botType, state: req.state, notifyHook: this.opts.notifyHookUrl || undefined };
  }

  private url(route: string, mode?: MjMode): string {
    const m = usesModePaths(this.opts.flavor) ? (mode ?? this.opts.defaultMode) : undefined;
    let root = this.base;
    if (m) root = MODE_SUFFIX.test(root) ? root.replace(MODE_SUFFIX, `/mj-${m}`) : `${root}/mj-${m}`;
    return `${root}/mj/${route}`;
  }

  private headers(): Record<string, string> {
    const s = this.opts.secret;
    if (!s) return {};
    switch (this.opts.authStyle) {
      case 'mj-api-secret':
        return { 'mj-api-secret': s };
      case 'authorization':
        return { authorization: s };
      case 'bearer':
        return { authorization: `Bearer ${s}` };
    }
  }

  /** One HTTP exchange; transport failures become MjError('unreachable' | 'bad-response'). */
  private async call(
    op: Op,
    req: { method: 'GET' | 'POST'; url: string; json?: unknown; form?: URLSearchParams; idempotent?: boolean },
  ): Promise<HttpResponse> {
    try {
      return await this.http.requestJson({ ...req, headers: this.headers() });
    } catch (e) {
      if (e instanceof UpstreamHttpError) {
        const kind: MjErrorKind = e.kind === 'unreachable' ? 'unreachable' : 'bad-response';
        throw new MjError(kind, `Midjourney Proxy ${op}: ${scrub(e.message, this.secrets)}`, { circuitOpen: e.circuitOpen || undefined });
      }
      throw e;
    }
  }

  /** Send a submit recorded earlier (a job that waited in the bot's queue): answered exactly as the original call would be. */
  async send(r: RecordedSubmit): Promise<MjSubmitOutcome> {
    return this.submit(r.op as Op, r.route, r.form !== undefined ? new URLSearchParams(r.form) : (r.json ?? {}), r.mode as MjMode | undefined);
  }

  private async submit(op: Op, route: string, body: Record<string, unknown> | URLSearchParams, mode: MjMode | undefined): Promise<MjSubmitOutcome> {
    if (isRecording()) {
      throw new SubmitRecorded(body instanceof URLSearchParams ? { op, route, form: body.toString(), mode } : { op, route, json: compact(body), mode });
    }
    const payload = body instanceof URLSearchParams ? { form: body } : { json: compact(body) };
    const res = await this.call(op, { method: 'POST', url: this.url(route, mode), ...payload });
    const env = asEnvelope(res.json);
    if (!env) {
      if (res.status === 404 || res.status === 405) this.markMissing(op);
      throw this.failure(op, res);
    }
    // never trust HTTP 200 alone, and trueai's 404 + code 3 / 400 + code 4 are envelopes too
    if (env.code === 1 || env.code === 22) return accepted(env, res.status);
    if (env.code === 21) return this.existedOrModal(op, env);
    throw this.failure(op, res);
  }

  /** Code 21: fetch the task; MODAL → modal flow, anything else → an existing task (old novicezk). */
  private async existedOrModal(op: Op, env: MjEnvelope): Promise<MjSubmitOutcome> {
    const id = firstId(env.result);
    if (!id) throw new MjError('bad-response', 'code 21 reply carried no task id', { code: 21 });
    const props = env.properties ?? {};
    let task: MjTask | null = null;
    try {
      task = await this.fetchTask(id);
    } catch (e) {
      this.log.warn({ op, taskId: id, err: e }, 'could not fetch the task of a code-21 reply');
    }
    const hintsModal = props.remix !== undefined || typeof props.finalPrompt === 'string' || props.status === 'MODAL';
    const isModal = task ? task.status === 'MODAL' : hintsModal;
    if (!isModal) return { kind: 'existing', taskId: id };
    if (op === 'faceSwap') {
      this.log.error({ taskId: id }, 'face swap answered with a MODAL task; not valid for a swap');
      throw new MjError('failure', 'the proxy answered a face swap with a modal task', { code: 21 });
    }
    const prefill = str(props.finalPrompt) ?? str(task?.properties?.finalPrompt) ?? str(task?.prompt) ?? '';
    return { kind: 'modal', modalTaskId: id, prefill };
  }

  private async listChunk(ids: string[]): Promise<MjTask[] | null> {
    const res = await this.call('list', { method: 'POST', url: this.url('task/list-by-condition'), json: { ids }, idempotent: true });
    if (res.status >= 200 && res.status < 300 && Array.isArray(res.json)) {
      return res.json.flatMap((t) => asTask(t) ?? []);
    }
    if ((res.status === 404 || res.status === 405) && !asEnvelope(res.json)) {
      this.markMissing('list');
      return null;
    }
    throw this.failure('list', res);
  }

  /** Per-id fetch with bounded concurrency. A failed id is omitted unless every fetch failed. */
  private async fetchEach(ids: string[]): Promise<MjTask[]> {
    const out: MjTask[] = [];
    const errors: unknown[] = [];
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const id = ids[next++] as string;
        try {
          const t = await this.fetchTask(id);
          if (t) out.push(t);
        } catch (e) {
          errors.push(e);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(FALLBACK_CONCURRENCY, ids.length) }, worker));
    if (errors.length === ids.length) throw errors[0];
    if (errors.length) this.log.warn({ failed: errors.length, of: ids.length, err: errors[0] }, 'some per-task fetches failed');
    return out;
  }

  private markMissing(op: Op): void {
    const key = op === 'list' ? 'list' : op === 'shorten' || op === 'modal' || op === 'faceSwap' || op === 'upload' ? op : undefined;
    if (key && !this.missing.has(key)) {
      this.missing.add(key);
      this.log.warn({ route: op, flavor: this.opts.flavor }, 'Midjourney Proxy has no such route (404/405); feature disabled');
    }
  }

  /**
   * Any non-success answer → MjError. Bodies are read in this order: a submit envelope decides by its `code`, whatever
   * the HTTP status (trueai answers an unknown task with 404 + code 3); then trueai's `{success: false, message}`
   * result envelope; then the HTTP status alone (401/403 come with plain text or nothing, as does 429).
   */
  private failure(op: Op, res: HttpResponse): MjError {
    const env = asEnvelope(res.json);
    const httpStatus = res.status;
    const what = `Midjourney Proxy ${op}`;
    if (env && KNOWN_CODES.has(env.code)) {
      const description = this.clean(env.description);
      const details = { code: env.code, httpStatus, description };
      const msg = (kind: string) => `${what} ${kind} (code ${env.code})${description ? `: ${description}` : ''}`;
      switch (env.code) {
        case 23:
          return new MjError('queue-full', msg('rejected: queue full'), details);
        case 9:
          return QUEUE_FULL.test(env.description ?? '')
            ? new MjError('queue-full', msg('rejected: queue full'), details)
            : new MjError('failure', msg('failed'), details);
        case 24: {
          const bannedWord = str(env.properties?.bannedWord);
          return new MjError('banned-prompt', msg('rejected: banned prompt'), { ...details, bannedWord: bannedWord ? this.clean(bannedWord) : undefined });
        }
        case 3:
          return FRESH_SUBMITS.has(op)
            ? new MjError('no-account', msg('rejected: no account available'), details)
            : new MjError('not-found', msg('rejected: task not found'), details);
        case 4:
          return new MjError('validation', msg('rejected'), details);
        default:
          break; // 1/21/22 in an unexpected place
      }
    }
    if (isResultEnvelope(res.json)) {
      const description = this.clean(str((res.json as Record<string, unknown>).message));
      const kind: MjErrorKind = httpStatus >= 500 ? 'failure' : 'validation';
      return new MjError(kind, `${what} rejected${description ? `: ${description}` : ''}`, { code: -1, httpStatus, description });
    }
    if (httpStatus === 401 || httpStatus === 403) return new MjError('auth', `${what}: credentials rejected (HTTP ${httpStatus})`, { httpStatus });
    if (httpStatus === 429)
      return new MjError('rate-limited', `${what}: rate limited (HTTP 429)`, {
        httpStatus,
        retryAfterMs: retryAfterMs(headerValue(res.headers['retry-after'])),
      });
    if (env) {
      const description = this.clean(env.description);
      return new MjError('failure', `${what} failed (code ${env.code})${description ? `: ${description}` : ''}`, { code: env.code, httpStatus, description });
    }
    if (httpStatus === 404 || httpStatus === 405)
      return new MjError('unsupported', `${what}: the proxy has no such route (HTTP ${httpStatus})`, { httpStatus });
    if (httpStatus >= 500) return new MjError('bad-response', `${what}: server error (HTTP ${httpStatus})`, { httpStatus });
    if (httpStatus >= 400) {
      const description = res.json === undefined && !looksLikeHtml(res.text) ? this.clean(res.text) : undefined;
      return new MjError('failure', `${what}: HTTP ${httpStatus}${description ? `: ${description}` : ''}`, { httpStatus, description });
    }
    const shape =
      res.text.trim() === '' ? 'an empty body' : res.json === undefined ? (looksLikeHtml(res.text) ? 'HTML' : 'invalid JSON') : 'an unexpected JSON shape';
    return new MjError('bad-response', `${what}: the proxy answered HTTP ${httpStatus} with ${shape}`, { httpStatus });
  }

  /** Scrubbed of secrets and base64, single-spaced, ≤ 300 chars. */
  private clean(text: string | undefined): string | undefined {
    if (!text) return undefined;
    const s = scrub(text, this.secrets).replace(/\s+/g, ' ').trim();
    return s.length > MAX_DESCRIPTION ? `${s.slice(0, MAX_DESCRIPTION - 1)}…` : s;
  }
}

// ------------------------------------------------------------------ pure helpers

const KNOWN_CODES: ReadonlySet<number> = new Set([1, 3, 4, 9, 21, 22, 23, 24]);
/** trueai: code 4 "视频功能未启用" (video not enabled) from `submit/video`; code 4 "禁止上传" from `upload-discord-images` */
const VIDEO_DISABLED = /视频功能未启用|video[^.]*(disabled|not enabled)/i;
const UPLOAD_DISABLED = /禁止上传|upload[^.]*(disabled|forbidden|not allowed)/i;
/** trueai: code 9 "未开启 REMIX，无法使用视频扩展功能" (the Discord account has Remix off) */
const REMIX_OFF = /remix/i;
const QUEUE_FULL = /队列已满|queue (is )?full/i;
const MODE_SUFFIX = /\/mj-(fast|relax|turbo)$/;

/** trueai and plus mount every route under /mj-fast, /mj-relax, /mj-turbo as well as /mj; novicezk and task-form do not (404). */
export function usesModePaths(flavor: MjFlavor): boolean {
  return flavor === 'trueai' || flavor === 'plus';
}

const SPEED_FLAG = /(^|\s)--(fast|relax|turbo)(?=\s|$)/i;

/**
 * The prompt with Midjourney's own speed parameter (`--relax`) appended, for proxies without mode paths.
 * A prompt that already names a speed keeps it: what the member typed is what Midjourney reads.
 */
export function withSpeedFlag(prompt: string, mode: MjMode | undefined): string {
  if (!mode || SPEED_FLAG.test(prompt)) return prompt;
  return `${prompt.trimEnd()} --${mode}`;
}

/** How a video starts, given the flavour's way and what a probe found. */
function videoPath(byFlavor: MjCapabilities['video'], probed: MjFeatureState | undefined): MjCapabilities['video'] {
  if (probed === 'available') return 'route';
  if (byFlavor === 'route' && (probed === 'disabled' || probed === 'missing')) return false;
  return byFlavor;
}

/** The imagine prompt of a video where the proxy has no video route: `<prompt> --video 1 --motion … [--end …] [--bs n]`. */
export function videoPrompt(req: Pick<MjVideoRequest, 'prompt' | 'motion' | 'loop' | 'endImageUrl' | 'batchSize'>): string {
  const end = req.loop ? '--end loop' : req.endImageUrl ? `--end ${req.endImageUrl}` : '';
  return [req.prompt.trim(), '--video 1', `--motion ${req.motion}`, end, req.batchSize ? `--bs ${req.batchSize}` : ''].filter(Boolean).join(' ');
}

/** A video refusal that names what the admin must enable: code 4 "video disabled", 9 Remix off, 3 no account, 404. */
export function videoGate(e: MjError): MjError {
  const d = e.details;
  let gate: MjFeatureGate | undefined;
  if (e.kind === 'validation' && d.code === 4 && VIDEO_DISABLED.test(d.description ?? '')) gate = 'disabled';
  else if (d.code === 9 && REMIX_OFF.test(d.description ?? '')) gate = 'remix';
  else if (e.kind === 'no-account') gate = 'no-account';
  else if (e.kind === 'unsupported' && (d.httpStatus === 404 || d.httpStatus === 405)) gate = 'no-route';
  return gate ? new MjError(e.kind, e.message, { ...d, feature: 'video', gate }) : e;
}

function normaliseBase(url: string): string {
  // tolerate a trailing slash and an operator who already put /mj on the end
  return url.trim().replace(/\/+$/, '').replace(/\/mj$/, '');
}

function compact(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function form(fields: Record<string, string | undefined>): URLSearchParams {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) p.append(k, v);
  return p;
}

function translateChange(customId: string): { action: 'UPSCALE' | 'VARIATION' | 'REROLL'; index: number } | undefined {
  for (const { re, action } of CHANGE_ACTIONS) {
    const m = re.exec(customId);
    // reroll: some novicezk-compatible servers reject index 0, so reroll is sent as index 1
    if (m) return { action, index: action === 'REROLL' ? 1 : Number(m[1]) };
  }
  return undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** trueai's `Result` envelope `{success, code: -1, message, timestamp}`. */
function isResultEnvelope(v: unknown): boolean {
  return isObject(v) && typeof v.success === 'boolean' && ('message' in v || 'code' in v) && !('result' in v);
}

/** The submit envelope `{code, description, result, properties}`; `code` may arrive as a numeric string. */
function asEnvelope(v: unknown): MjEnvelope | undefined {
  if (!isObject(v) || isResultEnvelope(v)) return undefined;
  const code = typeof v.code === 'number' ? v.code : typeof v.code === 'string' && /^-?\d+$/.test(v.code.trim()) ? Number(v.code) : undefined;
  if (code === undefined) return undefined;
  return {
    code,
    description: str(v.description),
    result: v.result as MjEnvelope['result'],
    properties: isObject(v.properties) ? v.properties : undefined,
  };
}

function asTask(v: unknown): MjTask | null {
  if (!isObject(v)) return null;
  if (typeof v.id !== 'string' && typeof v.id !== 'number') return null;
  const id = String(v.id);
  if (!id) return null;
  const task = { ...v, id } as MjTask;
  if (task.buttons !== undefined && !Array.isArray(task.buttons)) delete task.buttons;
  return task;
}

/** `result` as ids: a number, a string, a comma-separated string or a string array. */
function resultIds(result: MjEnvelope['result']): string[] {
  if (result === null || result === undefined) return [];
  const raw = Array.isArray(result) ? result.map(String) : String(result).split(',');
  return raw.map((s) => s.trim()).filter((s) => s !== '');
}

function firstId(result: MjEnvelope['result']): string | undefined {
  return resultIds(result)[0];
}

function accepted(env: MjEnvelope, httpStatus: number): MjSubmitOutcome {
  const [taskId, ...extra] = resultIds(env.result);
  if (!taskId) throw new MjError('bad-response', `the proxy accepted the call (code ${env.code}) but returned no task id`, { code: env.code, httpStatus });
  const n = env.code === 22 ? Number(env.properties?.numberOfQueues) : NaN;
  return {
    kind: 'accepted',
    taskId,
    queuePosition: Number.isFinite(n) && n >= 0 ? n : undefined,
    extraTaskIds: extra.length ? extra : undefined,
  };
}

function looksLikeHtml(text: string): boolean {
  return /^\s*<(!doctype|html|head|body|\?xml)/i.test(text);
}

function retryAfterMs(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const secs = Number(v);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}
