/**
 * How many message writes (posts, edits, deletes) a channel can take: Discord allows about 5 per 5 s per channel
 * (observed, not documented: Discord keeps per-route numbers unpublished). Every bot write reserves a slot here first, so the bot never
 * causes a 429 itself and results never queue behind stale progress frames inside the REST layer.
 *
 * Final writes wait for their slot; progress edits only use a spare one (see `spare`).
 */
export interface BudgetOptions {
  perWindow?: number;
  windowMs?: number;
  now?: () => number;
}

export class ChannelBudget {
  private slots = new Map<string, number[]>();
  private readonly perWindow: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(o: BudgetOptions = {}) {
    this.perWindow = o.perWindow ?? 5;
    this.windowMs = o.windowMs ?? 5000;
    this.now = o.now ?? Date.now;
  }

  /** Reserve the next free slot for a write in `channel`; resolves when the write may go. */
  async reserve(channel: string): Promise<void> {
    const at = this.book(channel);
    const wait = at - this.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }

  /**
   * Reserve a slot for a progress edit only if one is free right now and `headroom` slots stay free for final
   * writes. Returns 0 when reserved, else the ms after which to ask again.
   */
  tryReserveNow(channel: string, headroom = 1): number {
    const now = this.now();
    const times = this.live(channel, now);
    const last = times[times.length - 1] ?? 0;
    if (times.length + 1 + headroom <= this.perWindow && last <= now) {
      times.push(now);
      this.slots.set(channel, times);
      return 0;
    }
    return Math.max(1, (times[0] ?? now) + this.windowMs - now, last - now);
  }

  private book(channel: string): number {
    const now = this.now();
    const times = this.live(channel, now);
    // the earliest moment at which the window holds fewer than perWindow writes, after every earlier booking
    const last = times[times.length - 1] ?? 0;
    let at = Math.max(now, last);
    if (times.length >= this.perWindow) at = Math.max(at, times[times.length - this.perWindow]! + this.windowMs);
    times.push(at);
    this.slots.set(channel, times);
    return at;
  }

  private live(channel: string, now: number): number[] {
    const times = this.slots.get(channel) ?? [];
    let drop = 0;
    while (drop < times.length && times[drop]! + this.windowMs <= now) drop++;
    const kept = drop ? times.slice(drop) : times;
    if (kept.length === 0) this.slots.delete(channel);
    else if (drop) this.slots.set(channel, kept);
    return kept;
  }
}
