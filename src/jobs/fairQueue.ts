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
 * One pass over the queue per place, looking only at each member's first job: a queue hundreds long costs
 * milliseconds, so every waiting job's message can show its place after each start.
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
  const places = new Map<string, number>();
  let stamp = Number.MAX_SAFE_INTEGER - doc.waiting.length; // later than any real start
  for (let place = 1; place <= doc.waiting.length; place++) {
    let best: MemberTurns | undefined;
    let bestKey: TurnKey | undefined;
    for (const m of members.values()) {
      const head = m.jobs[m.next];
      if (!head) continue;
      const key: TurnKey = [m.running, m.lastStart, head.w.at, head.index];
      if (!bestKey || comesFirst(key, bestKey)) {
        best = m;
        bestKey = key;
      }
    }
    if (!best) break;
    places.set(best.jobs[best.next]!.w.jobId, place);
    best.next++;
    best.running++;
    best.lastStart = stamp++;
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

/** Drop a job from the queue (cancelled, or over); true when it was waiting. */
export function removeJob(doc: QueueDoc, jobId: string): boolean {
  delete doc.running[jobId];
  const i = doc.waiting.findIndex((w) => w.jobId === jobId);
  if (i < 0) return false;
  doc.waiting.splice(i, 1);
  return true;
}
