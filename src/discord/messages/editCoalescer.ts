/**
 * Latest-wins coalescing of progress edits: a channel takes about 5 message writes per 5 s, so a job's progress
 * frames cannot all be drawn and only the latest one matters.
 *
 * - A new frame replaces the pending one; intermediate frames are dropped.
 * - A message is edited at most once per `minIntervalMs`, never while its previous edit is in flight,
 *   and never with a frame identical to the last one sent.
 * - Before an edit goes, `gate(channel)` must grant it (the channel's write budget, shared with final posts);
 *   otherwise the frame waits and may be replaced, instead of queueing in the REST layer.
 * - `close()` drops what is pending and waits for the in-flight edit, so the final frame goes out next and last.
 *
 * Timers exist only while a frame is pending; an idle message costs nothing.
 */
export interface CoalescerOptions {
  minIntervalMs: number;
  /** 0 = the edit may go now (and the slot is taken); else ms to wait before asking again. Default: always 0. */
  gate?: (channelKey: string) => number;
  now?: () => number;
}

interface Slot {
  channel: string;
  inFlight: Promise<void> | null;
  pending: { frameKey: string; send: () => Promise<void> } | null;
  lastSentAt: number;
  lastFrameKey: string | null;
  timer: NodeJS.Timeout | null;
  closed: boolean;
}

export class EditCoalescer {
  private slots = new Map<string, Slot>();
  private readonly now: () => number;
  private readonly gate: (channelKey: string) => number;
  /** frames sent and dropped, for metrics and the benchmark */
  readonly stats = { sent: 0, dropped: 0 };

  constructor(private opts: CoalescerOptions) {
    this.now = opts.now ?? Date.now;
    this.gate = opts.gate ?? (() => 0);
  }

  /** Offer a progress frame for a message. `frameKey` identifies its content (identical frames are not re-sent). */
  offer(messageKey: string, channelKey: string, frameKey: string, send: () => Promise<void>): void {
    let slot = this.slots.get(messageKey);
    if (!slot) {
      slot = { channel: channelKey, inFlight: null, pending: null, lastSentAt: 0, lastFrameKey: null, timer: null, closed: false };
      this.slots.set(messageKey, slot);
    }
    if (slot.closed) return;
    slot.channel = channelKey; // a message's lane may change (its interaction token ended: channel writes take over)
    if (slot.pending) this.stats.dropped++;
    slot.pending = { frameKey, send };
    this.pump(messageKey, slot);
  }

  /** Stop editing a message (it was deleted, or the job is final): drop pending frames and wait for the in-flight edit. */
  async close(messageKey: string): Promise<void> {
    const slot = this.slots.get(messageKey);
    if (!slot) return;
    slot.closed = true;
    if (slot.pending) this.stats.dropped++;
    slot.pending = null;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    const inFlight = slot.inFlight;
    this.slots.delete(messageKey);
    if (inFlight) await inFlight;
  }

  /** Drop every slot (shutdown). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.slots.keys()].map((k) => this.close(k)));
  }

  get size(): number {
    return this.slots.size;
  }

  private pump(messageKey: string, slot: Slot): void {
    if (slot.closed || slot.inFlight || !slot.pending) return;
    if (slot.pending.frameKey === slot.lastFrameKey) {
      slot.pending = null;
      return;
    }
    const now = this.now();
    const readyAt = slot.lastSentAt + this.opts.minIntervalMs;
    const wait = readyAt > now ? readyAt - now : this.gate(slot.channel);
    if (wait > 0) {
      if (!slot.timer) {
        slot.timer = setTimeout(() => {
          slot.timer = null;
          this.pump(messageKey, slot);
        }, wait);
        slot.timer.unref?.();
      }
      return;
    }
    const frame = slot.pending;
    slot.pending = null;
    slot.lastSentAt = now;
    slot.lastFrameKey = frame.frameKey;
    this.stats.sent++;
    slot.inFlight = frame
      .send()
      .catch(() => undefined)
      .finally(() => {
        slot.inFlight = null;
        this.pump(messageKey, slot);
      });
  }
}
