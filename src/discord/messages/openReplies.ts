/**
 * Interactions whose deferred reply is still "thinking…". Discord turns the first follow-up sent while a deferred reply
 * is loading into that reply (ephemeral with it), so a job's public follow-up must wait until the handler has answered.
 * The dispatcher opens an entry when it defers a reply and settles it when the handler is done; Delivery waits.
 *
 * In-process only: a reply is answered by the process that received the interaction, the same one that starts the job.
 * An interaction not listed here (another process, a previous run) is long answered.
 */
export class OpenReplies {
  private open = new Map<string, { settled: Promise<void>; settle: () => void }>();

  /** A deferred reply of this interaction is loading until `settle(token)`. */
  opened(token: string): void {
    if (this.open.has(token)) return;
    let settle!: () => void;
    const settled = new Promise<void>((r) => (settle = r));
    this.open.set(token, { settled, settle });
  }

  settle(token: string): void {
    const entry = this.open.get(token);
    if (!entry) return;
    this.open.delete(token);
    entry.settle();
  }

  /**
   * Resolves true once the reply is answered (at once when it is not open), false when `timeoutMs` passes or `stop`
   * aborts first.
   */
  async answered(token: string, timeoutMs: number, stop?: AbortSignal): Promise<boolean> {
    const entry = this.open.get(token);
    if (!entry) return true;
    if (stop?.aborted) return false;
    let timer: NodeJS.Timeout | undefined;
    let onStop: (() => void) | undefined;
    const giveUp = new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), timeoutMs);
      onStop = () => r(false);
      stop?.addEventListener('abort', onStop, { once: true });
    });
    try {
      return await Promise.race([entry.settled.then(() => true), giveUp]);
    } finally {
      clearTimeout(timer);
      if (onStop) stop?.removeEventListener('abort', onStop);
    }
  }

  get size(): number {
    return this.open.size;
  }
}
