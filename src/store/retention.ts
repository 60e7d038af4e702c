import type { Logger } from '../log.js';
import type { KvStore } from './keyvStore.js';

/** How often expired entries are deleted from SQLite / Postgres. */
export const SWEEP_INTERVAL_MS = 3600_000;

/**
 * Deletes expired entries (finished jobs and buttons past JOB_RETENTION_DAYS, press locks, day counters) on a
 * timer: SQLite and Postgres keep an expired row until someone reads its key, which for most never happens.
 * Each sweep is bounded (batches of DELETE … LIMIT, at most a few hundred per run). Redis needs none: its keys
 * carry their TTLs.
 */
export class RetentionSweeper {
  private timer: NodeJS.Timeout | undefined;
  private first: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly d: { store: KvStore; logger: Logger; intervalMs?: number }) {}

  start(): void {
    if (this.timer || this.d.store.kind === 'redis') return;
    // a first sweep a minute after start (not during it: a long downtime may have left much to delete), then one
    // per interval; the timers keep no process alive
    this.first = setTimeout(() => void this.sweep(), Math.min(60_000, this.d.intervalMs ?? SWEEP_INTERVAL_MS));
    this.timer = setInterval(() => void this.sweep(), this.d.intervalMs ?? SWEEP_INTERVAL_MS);
    this.first.unref();
    this.timer.unref();
  }

  /** One sweep now (one at a time); errors are logged, never thrown. */
  sweep(): Promise<void> {
    this.running ??= this.d.store
      .sweepExpired()
      .then((deleted) => {
        if (deleted > 0) this.d.logger.info({ deleted }, 'deleted expired store entries');
      })
      .catch((err: unknown) => this.d.logger.warn({ err }, 'sweeping expired store entries failed; will retry'))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    clearTimeout(this.first);
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
