// Task store and lifecycle (contract §5, §6): NOT_START → SUBMITTED → IN_PROGRESS (progress
// steps, preview) → SUCCESS | FAILURE, one step every `stepMs`, with a running-slot limit.
import { randomUUID } from 'node:crypto';
import { buttonsFor, videoClipButtons, videoGridButtons } from './buttons.js';
import { reportedVersion } from './context.js';
import type { FakeTask, ResolvedOptions } from './types.js';

export interface EngineHooks {
  /** base URL of the fake, for image URLs */
  baseUrl(): string;
  /** called after every status / progress change */
  changed(task: FakeTask): void;
}

export interface NewTaskInit {
  action: string;
  prompt: string;
  promptEn?: string;
  description: string;
  state: string;
  botType: string;
  mode: string;
  finalPrompt: string;
  notifyHook?: string | undefined;
  parentId?: string | undefined;
  width: number;
  height: number;
  imageCount?: number;
  status?: 'NOT_START' | 'MODAL';
  properties?: Record<string, unknown>;
  pathMode?: string | undefined;
}

const TERMINAL = new Set(['SUCCESS', 'FAILURE', 'CANCEL']);
const INSTANCE_ID = '1190000000000000001';

export function isTerminal(task: FakeTask): boolean {
  return TERMINAL.has(String(task.status));
}

function snowflake(): string {
  return `${(BigInt(Date.now() - 1420070400000) << 22n) | BigInt(Math.floor(Math.random() * 4194304))}`;
}

export class TaskEngine {
  readonly tasks = new Map<string, FakeTask>();
  paused = false;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly waiting: string[] = [];
  private readonly active = new Set<string>();
  private stickBudget = 0;
  private readonly failReasons: string[] = [];
  private lastMs = 0;
  private seq = 0;

  constructor(
    private readonly opts: ResolvedOptions,
    private readonly hooks: EngineHooks,
  ) {}

  /** 16 digits: 13-digit ms timestamp + 3 digits; unique. */
  newId(): string {
    const now = Date.now();
    if (now > this.lastMs) {
      this.lastMs = now;
      this.seq = Math.floor(Math.random() * 100);
    }
    for (let i = 0; i < 2000; i++) {
      if (this.seq > 999) {
        this.lastMs += 1;
        this.seq = 0;
      }
      const id = `${this.lastMs}${String(this.seq).padStart(3, '0')}`;
      this.seq += 1;
      if (!this.tasks.has(id)) return id;
    }
    throw new Error('fake mj proxy: could not allocate a task id');
  }

  /** Would a new task be accepted (slot free or room in the wait queue)? */
  hasRoom(): boolean {
    return this.active.size < this.opts.maxConcurrent || this.waiting.length < this.opts.maxQueue;
  }

  create(init: NewTaskInit): FakeTask {
    const id = this.newId();
    const hash = randomUUID();
    const task: FakeTask = {
      id,
      action: init.action,
      status: init.status ?? 'NOT_START',
      prompt: init.prompt,
      promptEn: init.promptEn ?? init.prompt,
      description: init.description,
      state: init.state,
      submitTime: Date.now(),
      startTime: null,
      finishTime: null,
      imageUrl: null,
      progress: init.status === 'MODAL' ? null : '0%',
      failReason: null,
      buttons: [],
      botType: init.botType,
      mode: init.mode,
      parentId: init.parentId ?? null,
      instanceId: INSTANCE_ID,
      width: null,
      height: null,
      properties: {
        finalPrompt: init.finalPrompt,
        messageHash: hash,
        discordInstanceId: INSTANCE_ID,
        discordChannelId: INSTANCE_ID,
        botType: init.botType,
        notifyHook: init.notifyHook ?? null,
        nonce: snowflake(),
        flags: 0,
        ...init.properties,
      },
      fake: {
        hash,
        buttons: [],
        notifyHook: init.notifyHook,
        step: 0,
        admitted: false,
        queued: false,
        stuck: false,
        imageCount: init.imageCount ?? 0,
        width: init.width,
        height: init.height,
        pathMode: init.pathMode,
      },
    };
    if (this.opts.flavor === 'novicezk' || this.opts.flavor === 'task-form') delete task.buttons;
    if (this.stickBudget > 0) {
      this.stickBudget -= 1;
      task.fake.stuck = true;
    }
    const reason = this.failReasons.shift();
    if (reason !== undefined) task.fake.failWith = reason;
    this.tasks.set(id, task);
    return task;
  }

  /** Take a running slot or join the wait queue. `position` = 1-based place in the wait queue. */
  admit(task: FakeTask): { queued: boolean; position: number } {
    if (this.active.size < this.opts.maxConcurrent) {
      this.active.add(task.id);
      task.fake.admitted = true;
      task.fake.queued = false;
      this.schedule(task);
      return { queued: false, position: 0 };
    }
    task.fake.queued = true;
    this.waiting.push(task.id);
    return { queued: true, position: this.waiting.length };
  }

  /** Tasks holding a running slot. */
  running(): FakeTask[] {
    return [...this.active].map((id) => this.tasks.get(id)).filter((t): t is FakeTask => t !== undefined);
  }

  queuedCount(): number {
    return this.waiting.length;
  }

  private schedule(task: FakeTask): void {
    this.clearTimer(task.id);
    if (this.paused || !task.fake.admitted || isTerminal(task)) return;
    if (task.fake.stuck && task.status === 'IN_PROGRESS') return;
    const timer = setTimeout(() => {
      this.timers.delete(task.id);
      this.step(task);
    }, this.opts.stepMs);
    this.timers.set(task.id, timer);
  }

  private clearTimer(id: string): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
  }

  /** One lifecycle step. */
  step(task: FakeTask): void {
    if (isTerminal(task) || !task.fake.admitted) return;
    if (task.fake.stuck && task.status === 'IN_PROGRESS') return;
    const steps = this.opts.progressSteps;
    const s = task.fake.step;
    if (s === 0) {
      task.status = 'SUBMITTED';
      task.progress = '0%';
      task.startTime = Date.now();
    } else if (task.fake.failWith !== undefined) {
      this.finishFailure(task, task.fake.failWith);
      return;
    } else if (s <= steps.length || task.fake.stuck) {
      task.status = 'IN_PROGRESS';
      task.progress = `${steps[Math.min(s, steps.length) - 1] ?? 0}%`;
      task.imageUrl = this.imageUrlFor(task, 'preview');
    } else {
      this.finishSuccess(task);
      return;
    }
    task.fake.step = s + 1;
    this.hooks.changed(task);
    this.schedule(task);
  }

  private imageUrlFor(task: FakeTask, kind: 'final' | 'preview'): string | null {
    if (task.fake.fixedImageUrl !== undefined) return task.fake.fixedImageUrl;
    return `${this.hooks.baseUrl()}/images/${task.id}${kind === 'preview' ? '-preview' : ''}.png`;
  }

  private finishSuccess(task: FakeTask): void {
    const props = (task.properties ??= {});
    const res = task.fake.result;
    if (res?.finalPrompt !== undefined) props.finalPrompt = res.finalPrompt;
    if (res?.promptEn !== undefined) task.promptEn = res.promptEn;
    if (res?.description !== undefined) task.description = res.description;
    task.status = 'SUCCESS';
    task.progress = '100%';
    task.finishTime = Date.now();
    task.startTime ??= task.finishTime;
    if (this.opts.reportedWorkMs !== null) task.startTime = task.finishTime - this.opts.reportedWorkMs;
    task.failReason = this.opts.flavor === 'trueai' ? '' : null;
    task.imageUrl = this.imageUrlFor(task, 'final');
    task.width = this.opts.reportedSize?.width ?? (task.fake.width || null);
    task.height = this.opts.reportedSize?.height ?? (task.fake.height || null);
    task.jobId = task.fake.hash;
    const version = reportedVersion(String(props.finalPrompt || task.prompt || ''));
    if (version) task.version = version;
    task.fake.buttons = buttonsFor(String(task.action), task.fake.hash, String(props.finalPrompt || task.prompt || ''), this.opts.version);
    const video = task.fake.video;
    if (video) {
      // §3.10a: imageUrl is the video itself; videoUrls one per clip with webp thumbnails; the buttons are the video ones
      const base = `${this.hooks.baseUrl()}/videos/${task.id}`;
      task.contentType = 'video/mp4';
      task.imageUrl = `${base}.mp4`;
      task.videoUrls = Array.from({ length: video.clips }, (_, i) => ({ url: `${base}/0_${i}.mp4`, thumbnail: `${base}/0_${i}_640_N.webp` }));
      task.videoDuration = video.durationS;
      task.fake.buttons =
        video.clips === 4 ? videoGridButtons(task.fake.hash) : videoClipButtons(task.fake.hash, video.durationS + 4 <= this.opts.videoMaxSeconds);
    }
    if (task.buttons) task.buttons = task.fake.buttons.map((b) => ({ ...b }));
    props.messageId = snowflake();
    props.messageContent = `**${props.finalPrompt ?? ''}** - <@1190000000000000002> (${String(task.mode ?? 'fast').toLowerCase()})`;
    this.finish(task);
  }

  private finishFailure(task: FakeTask, reason: string, status: 'FAILURE' | 'CANCEL' = 'FAILURE'): void {
    task.status = status;
    task.progress = '';
    task.failReason = reason;
    task.finishTime = Date.now();
    if (task.buttons) task.buttons = [];
    this.finish(task);
  }

  private finish(task: FakeTask): void {
    this.clearTimer(task.id);
    this.hooks.changed(task);
    this.release(task);
  }

  private release(task: FakeTask): void {
    const idx = this.waiting.indexOf(task.id);
    if (idx >= 0) this.waiting.splice(idx, 1);
    task.fake.queued = false;
    if (task.fake.admitted) {
      task.fake.admitted = false;
      this.active.delete(task.id);
    }
    this.pump();
  }

  private pump(): void {
    for (let guard = 0; guard < 100000 && this.waiting.length > 0 && this.active.size < this.opts.maxConcurrent; guard++) {
      const id = this.waiting.shift();
      const t = id === undefined ? undefined : this.tasks.get(id);
      if (!t || isTerminal(t)) continue;
      t.fake.queued = false;
      t.fake.admitted = true;
      this.active.add(t.id);
      this.schedule(t);
    }
  }

  // ---- control ----

  pause(): void {
    this.paused = true;
    for (const id of [...this.timers.keys()]) this.clearTimer(id);
  }

  resume(): void {
    this.paused = false;
    for (const t of this.running()) if (!this.timers.has(t.id)) this.schedule(t);
  }

  stick(id: string): void {
    const t = this.tasks.get(id);
    if (t) t.fake.stuck = true;
  }

  stickNext(n: number): void {
    this.stickBudget += n;
  }

  failNext(n: number, reason: string): void {
    for (let i = 0; i < n; i++) this.failReasons.push(reason);
  }

  /** Immediately FAILURE (non-terminal tasks only). */
  failTask(id: string, reason: string): boolean {
    const t = this.tasks.get(id);
    if (!t || isTerminal(t)) return false;
    this.finishFailure(t, reason);
    return true;
  }

  /** Cancel: TA → FAILURE "取消任务"; PL → CANCEL. */
  cancel(id: string, status: 'FAILURE' | 'CANCEL', reason: string): boolean {
    const t = this.tasks.get(id);
    if (!t || isTerminal(t)) return false;
    this.finishFailure(t, reason, status);
    return true;
  }

  /** Jump to SUCCESS (any non-terminal task, stuck, queued or MODAL included). */
  complete(id: string): boolean {
    const t = this.tasks.get(id);
    if (!t || isTerminal(t)) return false;
    this.finishSuccess(t);
    return true;
  }

  /** One step for every task holding a running slot, ignoring pause (stuck tasks stay stuck). */
  advanceAll(steps = 1): void {
    for (let i = 0; i < steps; i++) for (const t of this.running()) this.step(t);
  }

  /** Clear every timer (close). */
  stopAll(): void {
    this.paused = true;
    for (const id of [...this.timers.keys()]) this.clearTimer(id);
  }
}
