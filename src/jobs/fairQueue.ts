/**
 * A server's fair queue, as plain data and pure decisions (stored by QueueStore, driven by QueueScheduler).
 *
 * Jobs wait when their member already runs as many jobs as their limit allows, or when the server runs as many as its
 * cap. When a slot frees, the next job is chosen round-robin across members: the waiting member with the fewest jobs
 * running goes first, ties broken by who started a job longest ago, then by arrival — so one member's ten jobs never
 * starve another member's one. Within a member, jobs start in the order they were queued.
 */
export interface Waiting {
  jobId: string;
  userId: string;
  /** when it was queued (ms) */
  at: number;
  /** the member's concurrent-job limit when it was queued (0 = none) */
  perMember: number;
  /** not before this moment (the upstream said its queue was full: back off) */
  notBefore?: number | undefined;
}

export interface QueueDoc {
  waiting: Waiting[];
  /** jobs running upstream now: job id → member */
  running: Record<string, { userId: string; at: number }>;
  /** when each member last had a job started (round-robin order) */
  lastStart: Record<string, number>;
}

export const emptyQueue = (): QueueDoc => ({ waiting: [], running: {}, lastStart: {} });

/** Jobs a member runs now. */
export function runningOf(doc: QueueDoc, userId: string): number {
  let n = 0;
  for (const r of Object.values(doc.running)) if (r.userId === userId) n++;
  return n;
}

/**
 * Whether a new job of this member may start right away: the server and the member have room, the member has no job
 * waiting (it would overtake it), and no waiting job could take the slot instead (it was there first).
 */
export function mayStartNow(doc: QueueDoc, userId: string, perMember: number, serverCap: number, now: number): boolean {
  if (serverCap > 0 && Object.keys(doc.running).length >= serverCap) return false;
  if (perMember > 0 && runningOf(doc, userId) >= perMember) return false;
  if (doc.waiting.some((w) => w.userId === userId)) return false;
  return pickNext(doc, serverCap, now) === undefined;
}

/** The next waiting job that may start now, fairly chosen; undefined when none may (limits, cap, back-off). */
export function pickNext(doc: QueueDoc, serverCap: number, now: number): Waiting | undefined {
  if (serverCap > 0 && Object.keys(doc.running).length >= serverCap) return undefined;
  const running = runningByMember(doc);
  let best: Waiting | undefined;
  let bestKey: TurnKey | undefined;
  const seen = new Set<string>();
  for (const [index, w] of doc.waiting.entries()) {
    if (seen.has(w.userId)) continue; // only a member's first waiting job is a candidate
    seen.add(w.userId);
    if (w.notBefore !== undefined && w.notBefore > now) continue;
    const mine = running.get(w.userId) ?? 0;
    if (w.perMember > 0 && mine >= w.perMember) continue;
    const key: TurnKey = [mine, doc.lastStart[w.userId] ?? 0, w.at, index];
    if (!bestKey || comesFirst(key, bestKey)) {
      best = w;
      bestKey = key;
    }
  }
  return best;
}

/** Whose turn comes first: fewer jobs running, then the longest since a job of theirs started, then arrival, then place in the list. */
type TurnKey = [running: number, lastStart: number, at: number, index: number];

function comesFirst(a: TurnKey, b: TurnKey): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}

function runningByMember(doc: QueueDoc): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of Object.values(doc.running)) counts.set(r.userId, (counts.get(r.userId) ?? 0) + 1);
  return counts;
}

/** Move a waiting job to running (mutates). */
export function markStarted(doc: QueueDoc, jobId: string, now: number): void {
  const i = doc.waiting.findIndex((w) => w.jobId === jobId);
  const userId = i >= 0 ? doc.waiting[i]!.userId : undefined;
  if (i >= 0) doc.waiting.splice(i, 1);
  if (userId) {
    doc.running[jobId] = { userId, at: now };
    doc.lastStart[userId] = now;
  }
}

/** A waiting job's place: 1 = it is the next to start (see placesOf). */
export function positionOf(doc: QueueDoc, jobId: string): number | undefined {
  return placesOf(doc).get(jobId);
}

/**
 * Every waiting job's place (1 = the next to start): the fair order played forward, each start counting against its
 * member (so the next turn goes to someone else), as it will when slots free one by one; limits and back-offs aside.
 * The members' next turns are kept in a heap: a queue of W jobs from M members costs O(W log M), so a burst of
 * hundreds of new jobs, each told its place, and every start, which moves everyone up, stay cheap.
 */
export function placesOf(doc: QueueDoc): Map<string, number> {
  const members = new Map<string, MemberTurns>();
  for (const [index, w] of doc.waiting.entries()) {
    let m = members.get(w.userId);
    if (!m) members.set(w.userId, (m = { jobs: [], next: 0, running: 0, lastStart: doc.lastStart[w.userId] ?? 0 }));
    m.jobs.push({ w, index });
  }
  for (const [userId, n] of runningByMember(doc)) {
    const m = members.get(userId);
    if (m) m.running = n;
  }
  const turns = new TurnHeap([...members.values()]);
  const places = new Map<string, number>();
  let stamp = Number.MAX_SAFE_INTEGER - doc.waiting.length; // later than any real start
  for (let place = 1; place <= doc.waiting.length; place++) {
    const best = turns.pop();
    if (!best) break;
    places.set(best.jobs[best.next]!.w.jobId, place);
    best.next++;
    best.running++;
    best.lastStart = stamp++;
    if (best.next < best.jobs.length) turns.push(best);
  }
  return places;
}

/** A member as placesOf plays the queue forward: their waiting jobs (with their index in the queue) and the next one's turn. */
interface MemberTurns {
  jobs: { w: Waiting; index: number }[];
  next: number;
  running: number;
  lastStart: number;
}

function turnOf(m: MemberTurns): TurnKey {
  const head = m.jobs[m.next]!;
  return [m.running, m.lastStart, head.w.at, head.index];
}

/** A binary min-heap of members by their next turn (comesFirst). */
class TurnHeap {
  private items: { m: MemberTurns; key: TurnKey }[] = [];

  constructor(members: MemberTurns[]) {
    for (const m of members) this.push(m);
  }

  push(m: MemberTurns): void {
    const items = this.items;
    items.push({ m, key: turnOf(m) });
    for (let i = items.length - 1; i > 0;) {
      const up = (i - 1) >> 1;
      if (!comesFirst(items[i]!.key, items[up]!.key)) break;
      [items[i], items[up]] = [items[up]!, items[i]!];
      i = up;
    }
  }

  pop(): MemberTurns | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (!top || !last || items.length === 0) return top?.m;
    items[0] = last;
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let least = i;
      if (l < items.length && comesFirst(items[l]!.key, items[least]!.key)) least = l;
      if (r < items.length && comesFirst(items[r]!.key, items[least]!.key)) least = r;
      if (least === i) break;
      [items[i], items[least]] = [items[least]!, items[i]!];
      i = least;
    }
    return top.m;
  }
}

/** Drop a job from the queue (cancelled, or over); true when it was waiting. */
export function removeJob(doc: QueueDoc, jobId: string): boolean {
  delete doc.running[jobId];
  const i = doc.waiting.findIndex((w) => w.jobId === jobId);
  if (i < 0) return false;
  doc.waiting.splice(i, 1);
  return true;
}
