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
  let best: Waiting | undefined;
  let bestKey: [number, number, number] | undefined;
  const seen = new Set<string>();
  for (const w of doc.waiting) {
    if (seen.has(w.userId)) continue; // only a member's first waiting job is a candidate
    seen.add(w.userId);
    if (w.notBefore !== undefined && w.notBefore > now) continue;
    const running = runningOf(doc, w.userId);
    if (w.perMember > 0 && running >= w.perMember) continue;
    const key: [number, number, number] = [running, doc.lastStart[w.userId] ?? 0, w.at];
    if (!bestKey || key[0] < bestKey[0] || (key[0] === bestKey[0] && (key[1] < bestKey[1] || (key[1] === bestKey[1] && key[2] < bestKey[2])))) {
      best = w;
      bestKey = key;
    }
  }
  return best;
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

/**
 * A waiting job's place: 1 = it is the next to start. The fair order played forward: each start counts against its
 * member (so the next turn goes to someone else), as it will when slots free one by one.
 */
export function positionOf(doc: QueueDoc, jobId: string): number | undefined {
  if (!doc.waiting.some((w) => w.jobId === jobId)) return undefined;
  const sim: QueueDoc = {
    waiting: doc.waiting.map((w) => ({ ...w, notBefore: undefined, perMember: 0 })),
    running: { ...doc.running },
    lastStart: { ...doc.lastStart },
  };
  for (let position = 1; sim.waiting.length > 0; position++) {
    const next = pickNext(sim, 0, Number.MAX_SAFE_INTEGER)!;
    if (next.jobId === jobId) return position;
    markStarted(sim, next.jobId, Number.MAX_SAFE_INTEGER - sim.waiting.length);
  }
  return undefined;
}

/** Drop a job from the queue (cancelled, or over); true when it was waiting. */
export function removeJob(doc: QueueDoc, jobId: string): boolean {
  delete doc.running[jobId];
  const i = doc.waiting.findIndex((w) => w.jobId === jobId);
  if (i < 0) return false;
  doc.waiting.splice(i, 1);
  return true;
}
