import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../log.js';
import { DECODE_WORKER_HEAP_MB, IMAGE_BUDGETS, MAX_QUEUED_DECODES, overPixelBudget, type ImageBudget } from './budgets.js';
import { checkMaskHeader, type MaskResult, type Rect } from './mask.js';

/** One piece of work for a decode worker. */
export type MaskTask =
  | { op: 'normalize'; bytes: Uint8Array; width: number; height: number; budget: ImageBudget }
  | { op: 'rectangles'; rects: Rect[]; width: number; height: number; budget: ImageBudget };

export interface MaskWorkOptions {
  logger?: Logger | undefined;
  budgets?: { mask: ImageBudget; rectangleMask: ImageBudget } | undefined;
  maxQueued?: number | undefined;
  /** how to start a worker (tests: one that fails to start) */
  entry?: WorkerEntry | undefined;
}

export interface WorkerEntry {
  /** a file, or code to evaluate */
  script: URL | string;
  eval: boolean;
}

/**
 * Masks are decoded and drawn off the event loop: in a worker thread started per task, one task at a time (a
 * bounded queue behind it), each with a deadline and its own small heap. Whatever can be refused from the header
 * is refused here first, so a hostile file never costs a worker. A worker that cannot start, crashes or overruns
 * its deadline fails closed: the member is told, nothing is sent.
 */
export class MaskWork {
  private readonly budgets: { mask: ImageBudget; rectangleMask: ImageBudget };
  private readonly maxQueued: number;
  private readonly entry: () => Promise<WorkerEntry>;
  private running = false;
  private readonly waiting: (() => void)[] = [];
  private readonly live = new Set<Worker>();

  constructor(private readonly o: MaskWorkOptions = {}) {
    this.budgets = o.budgets ?? IMAGE_BUDGETS;
    this.maxQueued = o.maxQueued ?? MAX_QUEUED_DECODES;
    const given = o.entry;
    this.entry = given ? async () => given : workerEntry;
  }

  /** An uploaded mask → a clean black/white PNG of exactly width×height (see normalizeMask). */
  async normalize(bytes: Uint8Array, width: number, height: number): Promise<MaskResult> {
    const checked = checkMaskHeader(bytes, width, height, this.budgets.mask);
    if (!checked.ok) return checked;
    return this.run({ op: 'normalize', bytes, width, height, budget: this.budgets.mask });
  }

  /** A mask drawn from rectangles at the size the upstream reported. */
  async rectangles(rects: Rect[], width: number, height: number): Promise<MaskResult> {
    const budget = this.budgets.rectangleMask;
    if (overPixelBudget(width, height, budget))
      return { ok: false, key: 'errors.hostileImage.tooManyPixels', params: { width, height, maxSide: budget.maxSide } };
    return this.run({ op: 'rectangles', rects, width, height, budget });
  }

  /** Stop every running worker (shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.live].map((w) => w.terminate()));
  }

  private async run(task: MaskTask): Promise<MaskResult> {
    if (this.running) {
      if (this.waiting.length >= this.maxQueued) return { ok: false, key: 'errors.hostileImage.busy' };
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.running = true;
    try {
      return await this.inWorker(task);
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running = false;
    }
  }

  private async inWorker(task: MaskTask): Promise<MaskResult> {
    const deadlineMs = task.budget.deadlineMs;
    let entry: WorkerEntry;
    try {
      entry = await this.entry();
    } catch (err) {
      this.o.logger?.error({ err }, 'image decode worker could not be prepared');
      return { ok: false, key: 'errors.hostileImage.unavailable' };
    }
    return new Promise<MaskResult>((resolve) => {
      let worker: Worker;
      try {
        worker = new Worker(entry.script, {
          eval: entry.eval,
          workerData: task,
          resourceLimits: { maxOldGenerationSizeMb: DECODE_WORKER_HEAP_MB, maxYoungGenerationSizeMb: 16 },
        });
      } catch (err) {
        this.o.logger?.error({ err }, 'image decode worker could not start');
        resolve({ ok: false, key: 'errors.hostileImage.unavailable' });
        return;
      }
      this.live.add(worker);
      let settled = false;
      const finish = (result: MaskResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.live.delete(worker);
        void worker.terminate();
        resolve(result);
      };
      const timer = setTimeout(() => {
        this.o.logger?.warn({ op: task.op, width: task.width, height: task.height, deadlineMs }, 'image decode overran its deadline; stopped');
        finish({ ok: false, key: 'errors.hostileImage.tooSlow', params: { seconds: Math.max(1, Math.ceil(deadlineMs / 1000)) } });
      }, deadlineMs);
      worker.once('message', (result: MaskResult) => finish(result.ok ? { ok: true, png: Buffer.from(result.png) } : result));
      worker.once('error', (err) => {
        this.o.logger?.error({ err, op: task.op }, 'image decode worker failed');
        finish({ ok: false, key: 'errors.hostileImage.unavailable' });
      });
      worker.once('exit', (code) => {
        if (!settled) this.o.logger?.error({ code, op: task.op }, 'image decode worker exited without a result');
        finish({ ok: false, key: 'errors.hostileImage.unavailable' });
      });
    });
  }
}

let fromSources: Promise<WorkerEntry> | undefined;

/**
 * The worker's entry beside this module: `maskWorker.js` in the transpiled build (`npm start`). When running from
 * TypeScript sources (tests, `npm run dev`), the entry and what it imports are bundled once per process with
 * esbuild (as `npm start` transpiles) into a temporary file: a worker cannot load TypeScript by itself.
 */
export function workerEntry(): Promise<WorkerEntry> {
  const js = new URL('./maskWorker.js', import.meta.url);
  if (!import.meta.url.endsWith('.ts') && existsSync(fileURLToPath(js))) return Promise.resolve({ script: js, eval: false });
  fromSources ??= bundleFromSources().catch((err: unknown) => {
    fromSources = undefined; // try again next time
    throw err;
  });
  return fromSources;
}

async function bundleFromSources(): Promise<WorkerEntry> {
  const { build } = await import('esbuild');
  const outfile = join(tmpdir(), `mj-relay-maskWorker-${process.pid}.cjs`);
  const entry = fileURLToPath(new URL('./maskWorker.ts', import.meta.url));
  await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile, logLevel: 'silent' });
  return { script: pathToFileURL(outfile), eval: false };
}
