// notifyHook (contract §10): POST the full task on SUBMITTED, each progress change, SUCCESS and
// FAILURE; never for MODAL; fire-and-forget, no retries, bounded by a timeout.
import type { NotificationRecord } from './types.js';

export class Notifier {
  readonly notifications: NotificationRecord[] = [];
  /** notifications that were due while disabled */
  readonly dropped: NotificationRecord[] = [];
  enabled = true;
  private readonly inflight = new Set<AbortController>();
  private closed = false;

  constructor(private readonly timeoutMs: number) {}

  send(url: string, taskId: string, status: string, progress: string | null, body: unknown): void {
    const rec: NotificationRecord = { url, taskId, status, progress, at: Date.now(), body };
    if (!this.enabled || this.closed) {
      this.dropped.push(rec);
      return;
    }
    this.notifications.push(rec);
    const ac = new AbortController();
    this.inflight.add(ac);
    const timer = setTimeout(() => ac.abort(new Error(`notify timeout after ${this.timeoutMs} ms`)), this.timeoutMs);
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(body),
      signal: ac.signal,
    })
      .then(async (res) => {
        rec.httpStatus = res.status;
        await res.arrayBuffer().catch(() => undefined);
      })
      .catch((err: unknown) => {
        const reason: unknown = ac.signal.aborted ? ac.signal.reason : err;
        rec.error = reason instanceof Error ? reason.message : String(reason);
      })
      .finally(() => {
        clearTimeout(timer);
        this.inflight.delete(ac);
      });
  }

  close(): void {
    this.closed = true;
    for (const ac of this.inflight) ac.abort(new Error('fake proxy closed'));
    this.inflight.clear();
  }
}
