/**
 * Acknowledgements before work. When a burst of commands arrives (50 members pressing enter at once), the slow
 * part of each command (store writes, the upstream submit, the first messages) would otherwise interleave with
 * the acknowledgements of the commands still arriving and push them towards Discord's 3 s window.
 *
 * Each command is counted from the moment it reaches the dispatcher until its acknowledgement is sent; the work
 * that follows an acknowledgement waits (at most `maxWaitMs`, so a steady stream can never starve it) until no
 * acknowledgement is outstanding.
 */
export class AckFirst {
  private outstanding = 0;
  private waiters: Array<() => void> = [];

  constructor(private readonly maxWaitMs = 40) {}

  /** A command arrived that we will acknowledge; returns its idempotent "acknowledged" callback. */
  arrived(): () => void {
    this.outstanding++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.outstanding--;
      if (this.outstanding === 0) this.release();
    };
  }

  /** How many arrived commands have not been acknowledged yet. */
  get pending(): number {
    return this.outstanding;
  }

  /** Resolves once no acknowledgement is outstanding, or after `maxWaitMs`, whichever is first. */
  turn(): Promise<void> {
    if (this.outstanding === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== go);
        resolve();
      }, this.maxWaitMs);
      const go = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push(go);
    });
  }

  private release(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
