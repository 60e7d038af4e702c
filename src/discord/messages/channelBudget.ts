/**
 * How many message writes (posts, edits) a lane can take: Discord allows about 5 per 5 s per channel (observed, not
 * documented: Discord keeps per-route numbers unpublished), and about 5 per 2 s per interaction token. Every bot write
 * reserves a slot here first, so the bot never causes a 429 itself and nothing queues inside the REST layer.
 *
 * Writes have a priority. A final write (a result, a failure, a button redraw) waits for its slot in order of
 * arrival and always goes before any progress write that is waiting. A progress write (posting or editing a progress
 * message) only takes a slot that no final write is waiting for, and leaves `headroom` slots free in the window so
 * that a result arriving a moment later is not kept waiting by progress; it can be withdrawn while it waits (its job
 * finished: a progress message that never went out is never posted).
 */
export interface BudgetOptions {
  perWindow?: number;
  windowMs?: number;
  now?: () => number;
}

export type WritePriority = 'final' | 'progress';

export interface ReserveOptions {
  priority?: WritePriority;
  /** withdraws a waiting reservation: the promise rejects with the signal's reason and no slot is used */
  signal?: AbortSignal | undefined;
}

interface Waiter {
  priority: WritePriority;
  grant: () => void;
}

interface Lane {
  /** when each write of the current window was let through */
  times: number[];
  waiting: Waiter[];
  timer: NodeJS.Timeout | null;
}

/** Slots kept free for final writes when a progress write asks. */
const PROGRESS_HEADROOM = 1;
/** lanes are swept for idle ones every this many reservations */
const SWEEP_EVERY = 512;

export class ChannelBudget {
  private lanes = new Map<string, Lane>();
  private touches = 0;
  readonly perWindow: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(o: BudgetOptions = {}) {
    this.perWindow = o.perWindow ?? 5;
    this.windowMs = o.windowMs ?? 5000;
    this.now = o.now ?? Date.now;
  }

  /** Reserve a slot for a write in `lane`; resolves when the write may go (the slot is then taken). */
  reserve(lane: string, o: ReserveOptions = {}): Promise<void> {
    const priority = o.priority ?? 'final';
    if (o.signal?.aborted) return Promise.reject(o.signal.reason);
    const l = this.lane(lane);
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const i = l.waiting.indexOf(waiter);
        if (i < 0) return;
        l.waiting.splice(i, 1);
        reject(o.signal!.reason);
        this.pump(lane, l);
      };
      const waiter: Waiter = {
        priority,
        grant: () => {
          o.signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      o.signal?.addEventListener('abort', onAbort, { once: true });
      l.waiting.push(waiter);
      this.pump(lane, l);
    });
  }

  /**
   * Take a slot for a progress edit only if one is free right now, no final write waits in this lane, and the
   * headroom stays free. Returns 0 when taken, else the ms after which to ask again.
   */
  tryReserveNow(lane: string, headroom = PROGRESS_HEADROOM): number {
    const now = this.now();
    const l = this.lane(lane);
    const times = this.live(l, now);
    if (l.waiting.length === 0 && times.length + 1 + headroom <= this.perWindow) {
      times.push(now);
      return 0;
    }
    this.forget(lane, l);
    // ask again when the oldest write leaves the window (a waiting write then goes first)
    return Math.max(1, (times[0] ?? now) + this.windowMs - now);
  }

  /** How many writes wait in a lane (for tests and metrics). */
  waiting(lane: string): number {
    return this.lanes.get(lane)?.waiting.length ?? 0;
  }

  /** Let through every waiter that may go now, best first; wake up when the window next opens. */
  private pump(name: string, l: Lane): void {
    const now = this.now();
    const times = this.live(l, now);
    while (l.waiting.length > 0) {
      const finalAt = l.waiting.findIndex((w) => w.priority === 'final');
      const index = finalAt >= 0 ? finalAt : 0;
      const headroom = l.waiting[index]!.priority === 'final' ? 0 : PROGRESS_HEADROOM;
      if (times.length + 1 + headroom > this.perWindow) break;
      const [w] = l.waiting.splice(index, 1);
      times.push(now);
      w!.grant();
    }
    if (l.waiting.length > 0 && !l.timer) {
      const wait = Math.max(1, (times[0] ?? now) + this.windowMs - now);
      l.timer = setTimeout(() => {
        l.timer = null;
        this.pump(name, l);
      }, wait);
    }
    this.forget(name, l);
  }

  private lane(name: string): Lane {
    if (++this.touches % SWEEP_EVERY === 0) this.sweep();
    let l = this.lanes.get(name);
    if (!l) {
      l = { times: [], waiting: [], timer: null };
      this.lanes.set(name, l);
    }
    return l;
  }

  /** The writes still inside the window (older ones are dropped). */
  private live(l: Lane, now: number): number[] {
    let drop = 0;
    while (drop < l.times.length && l.times[drop]! + this.windowMs <= now) drop++;
    if (drop) l.times.splice(0, drop);
    return l.times;
  }

  /** Drop every lane whose window has emptied (a lane per interaction token would otherwise pile up). */
  private sweep(): void {
    const now = this.now();
    for (const [name, l] of this.lanes) {
      this.live(l, now);
      this.forget(name, l);
    }
  }

  /** An idle lane costs nothing: forgotten once its window is empty and nobody waits. */
  private forget(name: string, l: Lane): void {
    if (l.times.length === 0 && l.waiting.length === 0 && !l.timer) this.lanes.delete(name);
  }
}
