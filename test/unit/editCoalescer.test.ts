import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EditCoalescer } from '../../src/discord/messages/editCoalescer.js';

describe('EditCoalescer (latest-wins progress edits)', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  function recorder() {
    const sent: { frame: string; at: number }[] = [];
    const send = (frame: string) => async () => {
      sent.push({ frame, at: Date.now() });
    };
    return { sent, send };
  }

  it('sends at most one edit per interval per message and keeps only the latest frame', async () => {
    const c = new EditCoalescer({ minIntervalMs: 3000, gate: () => 0 });
    const { sent, send } = recorder();
    c.offer('m1', 'c1', '10', send('10'));
    await vi.advanceTimersByTimeAsync(0);
    for (const f of ['20', '30', '40', '50']) {
      c.offer('m1', 'c1', f, send(f));
      await vi.advanceTimersByTimeAsync(500);
    }
    await vi.advanceTimersByTimeAsync(5000);
    expect(sent.map((s) => s.frame)).toEqual(['10', '50']);
    expect(sent[1]!.at - sent[0]!.at).toBeGreaterThanOrEqual(3000);
    expect(c.stats.dropped).toBe(3);
  });

  it('does not resend an identical frame', async () => {
    const c = new EditCoalescer({ minIntervalMs: 100, gate: () => 0 });
    const { sent, send } = recorder();
    c.offer('m1', 'c1', 'same', send('same'));
    await vi.advanceTimersByTimeAsync(500);
    c.offer('m1', 'c1', 'same', send('same'));
    await vi.advanceTimersByTimeAsync(500);
    expect(sent).toHaveLength(1);
  });

  it('never has two edits of one message in flight', async () => {
    const c = new EditCoalescer({ minIntervalMs: 10, gate: () => 0 });
    let inFlight = 0;
    let maxInFlight = 0;
    const slow = () => async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 1000));
      inFlight--;
    };
    for (let i = 0; i < 5; i++) {
      c.offer('m1', 'c1', String(i), slow());
      await vi.advanceTimersByTimeAsync(100);
    }
    await vi.advanceTimersByTimeAsync(5000);
    expect(maxInFlight).toBe(1);
  });

  it('waits for the gate (the channel budget) and sends only the latest frame once it opens', async () => {
    let open = false;
    const c = new EditCoalescer({ minIntervalMs: 0, gate: () => (open ? 0 : 500) });
    const { sent, send } = recorder();
    c.offer('m1', 'c1', 'a', send('a'));
    c.offer('m1', 'c1', 'b', send('b'));
    await vi.advanceTimersByTimeAsync(2000);
    expect(sent).toHaveLength(0);
    open = true;
    await vi.advanceTimersByTimeAsync(600);
    expect(sent.map((s) => s.frame)).toEqual(['b']);
  });

  it('close() drops pending frames and waits for the in-flight edit, so the final frame goes out last', async () => {
    const c = new EditCoalescer({ minIntervalMs: 3000, gate: () => 0 });
    const order: string[] = [];
    c.offer('m1', 'c1', 'a', async () => {
      await new Promise((r) => setTimeout(r, 200));
      order.push('progress-a');
    });
    await vi.advanceTimersByTimeAsync(10);
    c.offer('m1', 'c1', 'b', async () => {
      order.push('progress-b');
    });
    const closed = c.close('m1').then(() => order.push('final'));
    await vi.advanceTimersByTimeAsync(5000);
    await closed;
    expect(order).toEqual(['progress-a', 'final']);
    c.offer('m1', 'c1', 'c', async () => {
      order.push('after-close');
    });
    await vi.advanceTimersByTimeAsync(5000);
    expect(order).toContain('after-close'); // a new slot after close is a new message lifecycle
  });
});
