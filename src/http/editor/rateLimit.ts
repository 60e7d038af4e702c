/**
 * A fixed-window request budget per editor token, in this process's memory (a link is used by one browser, whose
 * requests may still be spread over processes: each process then allows its own budget, which only loosens a cap
 * that is already small). Windows past their end are forgotten, so the map holds only tokens seen in the last window.
 */
export class TokenRateLimit {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly perWindow: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Count one request for `token`; false when its budget for the current window is spent. */
  take(token: string): boolean {
    const now = this.now();
    if (this.windows.size > 10_000) this.forgetOld(now);
    const w = this.windows.get(token);
    if (!w || now - w.start >= this.windowMs) {
      this.windows.set(token, { start: now, count: 1 });
      return true;
    }
    if (w.count >= this.perWindow) return false;
    w.count++;
    return true;
  }

  get size(): number {
    return this.windows.size;
  }

  private forgetOld(now: number): void {
    for (const [k, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(k);
  }
}
