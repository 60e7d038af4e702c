import { describe, expect, it } from 'vitest';
import { emptyQueue, markStarted, mayStartNow, pickNext, placesOf, positionOf, removeJob, type QueueDoc } from '../../../src/jobs/fairQueue.js';

function queue(waiting: [jobId: string, userId: string][], running: [jobId: string, userId: string][] = []): QueueDoc {
  const doc = emptyQueue();
  waiting.forEach(([jobId, userId], i) => doc.waiting.push({ jobId, userId, at: i + 1, perMember: 0 }));
  for (const [jobId, userId] of running) doc.running[jobId] = { userId, at: 0 };
  return doc;
}

/** Start jobs one slot at a time (each finishing before the next starts) and return the order. */
function order(doc: QueueDoc): string[] {
  const out: string[] = [];
  for (let now = 100; ; now++) {
    const next = pickNext(doc, 1, now);
    if (!next) return out;
    markStarted(doc, next.jobId, now);
    out.push(next.jobId);
    removeJob(doc, next.jobId); // it ran and finished: the slot is free again
  }
}

describe('the fair queue', () => {
  it("goes round-robin across members: one member's six jobs do not starve another's one", () => {
    const doc = queue([
      ['a1', 'A'],
      ['a2', 'A'],
      ['a3', 'A'],
      ['a4', 'A'],
      ['a5', 'A'],
      ['a6', 'A'],
      ['b1', 'B'],
    ]);
    doc.lastStart.A = 50; // A had a job started a moment ago
    expect(order(doc)).toEqual(['b1', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6']);
  });

  it('alternates between members who both wait, each in their own order', () => {
    const doc = queue([
      ['a1', 'A'],
      ['a2', 'A'],
      ['b1', 'B'],
      ['b2', 'B'],
      ['c1', 'C'],
    ]);
    expect(order(doc)).toEqual(['a1', 'b1', 'c1', 'a2', 'b2']);
  });

  it('gives the slot to the member running fewer jobs, and never starts past a member limit or the server cap', () => {
    const doc = queue(
      [
        ['a2', 'A'],
        ['b1', 'B'],
      ],
      [['a1', 'A']],
    );
    doc.waiting[0]!.perMember = 1;
    expect(pickNext(doc, 2, 0)?.jobId).toBe('b1');
    markStarted(doc, 'b1', 0);
    expect(pickNext(doc, 3, 0)).toBeUndefined(); // A runs its 1 already
    expect(pickNext(doc, 2, 0)).toBeUndefined(); // and the server is full anyway
    removeJob(doc, 'a1');
    expect(pickNext(doc, 2, 0)?.jobId).toBe('a2');
  });

  it('holds a job that was told to back off (the upstream queue was full) until its time', () => {
    const doc = queue([['a1', 'A']]);
    doc.waiting[0]!.notBefore = 1000;
    expect(pickNext(doc, 1, 999)).toBeUndefined();
    expect(pickNext(doc, 1, 1000)?.jobId).toBe('a1');
  });

  it('lets a new job start at once only when nobody waits for the slot and its member has none waiting', () => {
    expect(mayStartNow(queue([]), 'A', 2, 2, 0)).toBe(true);
    expect(
      mayStartNow(
        queue(
          [],
          [
            ['x', 'B'],
            ['y', 'C'],
          ],
        ),
        'A',
        2,
        2,
        0,
      ),
    ).toBe(false); // server full
    expect(mayStartNow(queue([], [['x', 'A']]), 'A', 1, 0, 0)).toBe(false); // member full
    expect(mayStartNow(queue([['a1', 'A']], []), 'A', 2, 0, 0)).toBe(false); // would overtake their own waiting job
    const blocked = queue([['b2', 'B']], [['b1', 'B']]);
    blocked.waiting[0]!.perMember = 1;
    expect(mayStartNow(blocked, 'A', 2, 3, 0)).toBe(true); // B waits for its own limit, not for the server
  });

  it('tells each waiting job its place in that order', () => {
    const doc = queue([
      ['a1', 'A'],
      ['a2', 'A'],
      ['a3', 'A'],
      ['b1', 'B'],
    ]);
    expect(['a1', 'a2', 'a3', 'b1'].map((id) => positionOf(doc, id))).toEqual([1, 3, 4, 2]);
    expect(positionOf(doc, 'nope')).toBeUndefined();
  });

  it('gives every place at once, the same as starting the jobs one by one (each start counting against its member)', () => {
    let seed = 17;
    const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const doc = emptyQueue();
    // 120 jobs of 12 members in a shuffled order, some arriving in the same millisecond; some members running jobs
    for (let i = 0; i < 120; i++) doc.waiting.push({ jobId: `w${i}`, userId: `m${random(12)}`, at: 1000 + Math.floor(i / 3), perMember: random(3) });
    for (let i = 0; i < 6; i++) doc.running[`r${i}`] = { userId: `m${random(12)}`, at: 900 };
    for (let m = 0; m < 12; m += 2) doc.lastStart[`m${m}`] = 900 + random(50);
    doc.waiting[5]!.notBefore = 5000; // limits and back-offs do not change a place

    const played = structuredClone(doc);
    const expected = new Map<string, number>();
    for (let place = 1; played.waiting.length > 0; place++) {
      const next = pickNext({ ...played, waiting: played.waiting.map((w) => ({ ...w, perMember: 0, notBefore: undefined })) }, 0, 10_000)!;
      expected.set(next.jobId, place);
      markStarted(played, next.jobId, 10_000 + place);
    }
    expect(placesOf(doc)).toEqual(expected);
    expect(positionOf(doc, 'w7')).toBe(expected.get('w7'));
  });
});
