import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AckFirst } from '../../src/discord/interactions/ackFirst.js';

describe('AckFirst: a burst is acknowledged before its work starts', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const settled = async (p: Promise<void>) => {
    let done = false;
    void p.then(() => (done = true));
    await vi.advanceTimersByTimeAsync(0);
    return done;
  };

  it('lets work start at once when nothing is waiting for its acknowledgement', async () => {
    const gate = new AckFirst(40);
    expect(await settled(gate.turn())).toBe(true);
  });

  it('holds work until every outstanding acknowledgement is sent', async () => {
    const gate = new AckFirst(40);
    const a = gate.arrived();
    const b = gate.arrived();
    expect(gate.pending).toBe(2);
    const work = gate.turn();
    expect(await settled(work)).toBe(false);
    a();
    expect(await settled(work)).toBe(false);
    b();
    expect(await settled(work)).toBe(true);
    expect(gate.pending).toBe(0);
  });

  it('counts an acknowledgement once, however often it is reported', async () => {
    const gate = new AckFirst(40);
    const a = gate.arrived();
    const b = gate.arrived();
    a();
    a();
    expect(gate.pending).toBe(1);
    const work = gate.turn();
    expect(await settled(work)).toBe(false);
    b();
    expect(await settled(work)).toBe(true);
  });

  it('never starves work: after maxWaitMs it goes ahead even if acknowledgements are still outstanding', async () => {
    const gate = new AckFirst(40);
    gate.arrived();
    const work = gate.turn();
    await vi.advanceTimersByTimeAsync(39);
    expect(await settled(work)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(work)).toBe(true);
    // the timeout releases the work, not the acknowledgement it was waiting for
    expect(gate.pending).toBe(1);
  });
});
