import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OpenReplies } from '../../../src/discord/messages/openReplies.js';

describe('OpenReplies (a follow-up waits for its interaction’s deferred reply)', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  it('answers at once for a reply it never saw open (another process, a previous run)', async () => {
    await expect(new OpenReplies().answered('t', 1000)).resolves.toBe(true);
  });

  it('waits until the handler settles the reply', async () => {
    const r = new OpenReplies();
    r.opened('t');
    let answer: boolean | undefined;
    void r.answered('t', 60_000).then((a) => (answer = a));
    await vi.advanceTimersByTimeAsync(30_000);
    expect(answer).toBeUndefined();
    r.settle('t');
    await vi.advanceTimersByTimeAsync(0);
    expect(answer).toBe(true);
    expect(r.size).toBe(0);
  });

  it('gives up when its job finishes first (abort), or after the time given', async () => {
    const r = new OpenReplies();
    r.opened('t');
    const stop = new AbortController();
    const stopped = r.answered('t', 60_000, stop.signal);
    stop.abort();
    await expect(stopped).resolves.toBe(false);
    const late = r.answered('t', 1000);
    await vi.advanceTimersByTimeAsync(1000);
    await expect(late).resolves.toBe(false);
  });
});
