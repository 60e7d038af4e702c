import type { Logger } from '../log.js';
import type { QueueRepo } from '../store/queueRepo.js';
import type { RecordedSubmit } from '../upstream/submitRecorder.js';
import { markStarted, mayStartNow, pickNext, placesOf, positionOf, removeJob, runningOf, type QueueDoc } from './fairQueue.js';
import type { Job, Msg } from './model.js';
import type { JobQueue, JobService, SubmitResult } from './service.js';
import type { JobSink } from './tracker.js';

/** A server's limits as the queue needs them. */
export interface QueueLimits {
  /** jobs a member may run at once (0 = no limit) */
  perMember: number;
  /** jobs a member may have waiting (0 = none may wait: refused as before the queue) */
  maxWaiting: number;
  /** jobs the whole server may run at once (0 = no cap) */
  serverCap: number;
}

export interface QueueServiceDeps {
  repo: QueueRepo;
  /** the limits that apply to this job's member in its server */
  limits(job: Job): Promise<QueueLimits>;
  /** the server cap alone (when a slot frees, no member is at hand) */
  serverCap(guildId: string): Promise<number>;
  /** the live copy of a job this process follows (a waiting job is started by the process holding it) */
  held(jobId: string): Job | undefined;
  /** send a recorded submit (the Midjourney Proxy client) */
  send(request: RecordedSubmit): Promise<SubmitResult>;
  /** a waiting job's progress message shows its new place */
  showPlace(job: Job): void;
  logger: Logger;
  now: () => number;
  /** how long a job waits after the upstream said its queue was full */
  backOffMs?: number;
  /**
   * This process is the store's only user (no Redis): every job it does not follow a while after its start is over
   * or was never stored (a process killed between a job's entry in the queue and its store), and its entry goes.
   */
  onlyProcess?: boolean;
  /** how long after the start that look is taken (default a minute: every job admitted meanwhile is held by then) */
  leftoversAfterMs?: number;
}

/** How often each process looks whether a waiting job of its own may start (besides every job that ends here). */
const TICK_MS = 2000;
/** Waiting jobs are shown their places at most this often per server. */
const PLACES_EVERY_MS = 1000;
/** At most this many waiting jobs start in one look at a queue (with no server cap, member limits alone bound it). */
const MAX_STARTS_AT_ONCE = 100;

/**
 * The servers' fair queues: a Midjourney job in a server runs at once when its member and the server have room,
 * else it waits (stored, with its recorded submit) and starts when its turn comes — round-robin across members
 * (src/jobs/fairQueue.ts). Every process looks at every queue when one of its jobs ends and every couple of seconds;
 * a waiting job is started by the process that holds it, under the queue's lock, so it starts once.
 */
export class QueueService implements JobQueue {
  private timer: NodeJS.Timeout | undefined;
  private kicking = new Map<string, Promise<void>>();
  /** starts handed on by a job that ended (see leave) */
  private starting = new Set<Promise<void>>();
  private again = new Set<string>();
  private jobs: JobService | undefined;
  /** when each server's waiting jobs were last shown their places, and the next showing planned */
  private placesShownAt = new Map<string, number>();
  private placesTimers = new Map<string, NodeJS.Timeout>();
  private leftoversTimer: NodeJS.Timeout | undefined;

  constructor(private d: QueueServiceDeps) {}

  /** Start looking at the queues (the job service sends what starts). */
  start(jobs: JobService): void {
    this.jobs = jobs;
    if (this.d.onlyProcess) {
      const startedAt = this.d.now();
      this.leftoversTimer = setTimeout(() => void this.dropLeftovers(startedAt), this.d.leftoversAfterMs ?? 60_000).unref();
    }
    const tick = () => {
      void this.kickAll().finally(() => {
        if (this.timer) this.timer = setTimeout(tick, TICK_MS).unref();
      });
    };
    this.timer = setTimeout(tick, 0).unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.leftoversTimer) clearTimeout(this.leftoversTimer);
    for (const t of this.placesTimers.values()) clearTimeout(t);
    this.placesTimers.clear();
  }

  applies(job: Job): boolean {
    return job.provider === 'mj' && job.owner.guildId !== undefined;
  }

  async enter(job: Job, canWait: boolean): Promise<'start' | 'wait' | Msg> {
    const limits = await this.d.limits(job);
    const now = this.d.now();
    return this.d.repo.update(job.owner.guildId!, (doc) => {
      if (mayStartNow(doc, job.owner.userId, limits.perMember, limits.serverCap, now)) {
        doc.running[job.id] = { userId: job.owner.userId, at: now };
        doc.lastStart[job.owner.userId] = now;
        return 'start' as const;
      }
      const refusal = waitRefusal(doc, job, limits, canWait);
      if (refusal) return refusal;
      doc.waiting.push({ jobId: job.id, userId: job.owner.userId, at: arrivalOf(job), perMember: limits.perMember });
      return 'wait' as const;
    });
  }

  /** A job ended: its slot goes to the next job whose turn it is in the same hold of the lock (a burst's new jobs queue for it too). */
  async leave(job: Job): Promise<void> {
    const guildId = job.owner.guildId;
    if (!guildId) return;
    const cap = await this.d.serverCap(guildId);
    const due = await this.d.repo.update(guildId, (doc) => {
      removeJob(doc, job.id);
      return this.takeDue(doc, cap);
    });
    const p = this.startTaken(guildId, due)
      .catch((err) => this.d.logger.warn({ err, guildId }, 'could not start waiting jobs'))
      .finally(() => this.starting.delete(p));
    this.starting.add(p);
  }

  async backOff(job: Job): Promise<void> {
    const guildId = job.owner.guildId!;
    const notBefore = this.d.now() + (this.d.backOffMs ?? 30_000);
    await this.d.repo.update(guildId, (doc) => {
      delete doc.running[job.id];
      const w = doc.waiting.find((x) => x.jobId === job.id);
      if (w) w.notBefore = notBefore;
      // back at the place it had (its arrival time), ahead of jobs that came after it
      else
        doc.waiting.splice(insertAt(doc, arrivalOf(job)), 0, {
          jobId: job.id,
          userId: job.owner.userId,
          at: arrivalOf(job),
          perMember: 0,
          notBefore,
        });
    });
  }

  async withdraw(job: Job): Promise<boolean> {
    const guildId = job.owner.guildId;
    if (!guildId) return false;
    const was = await this.d.repo.update(guildId, (doc) => {
      const i = doc.waiting.findIndex((w) => w.jobId === job.id);
      if (i >= 0) doc.waiting.splice(i, 1);
      return i >= 0;
    });
    if (was) this.kick(guildId); // the others move up
    return was;
  }

  held(job: Job): void {
    if (job.owner.guildId) this.kick(job.owner.guildId);
  }

  async position(job: Job): Promise<number | undefined> {
    return job.owner.guildId ? positionOf(await this.d.repo.get(job.owner.guildId), job.id) : undefined;
  }

  /** A member's waiting jobs and their places, and the server's counts (for /info, /admin status, /metrics). */
  async overview(guildId: string): Promise<{ waiting: number; running: number; places: Map<string, number> }> {
    const doc = await this.d.repo.get(guildId);
    return { waiting: doc.waiting.length, running: Object.keys(doc.running).length, places: placesOf(doc) };
  }

  /** Every server's queue added up (for /metrics). */
  async totals(): Promise<{ waiting: number; running: number }> {
    let waiting = 0;
    let running = 0;
    for (const g of await this.d.repo.guilds()) {
      const doc = await this.d.repo.get(g);
      waiting += doc.waiting.length;
      running += Object.keys(doc.running).length;
    }
    return { waiting, running };
  }

  /** Look at a server's queue now (a job ended); runs once at a time per server, and once more if asked meanwhile. */
  kick(guildId: string): void {
    if (this.kicking.has(guildId)) {
      this.again.add(guildId);
      return;
    }
    const p = this.startDue(guildId)
      .catch((err) => this.d.logger.warn({ err, guildId }, 'could not start waiting jobs'))
      .finally(() => {
        this.kicking.delete(guildId);
        if (this.again.delete(guildId)) this.kick(guildId);
      });
    this.kicking.set(guildId, p);
  }

  /** Wait for the queue work under way (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.kicking.size > 0 || this.starting.size > 0) await Promise.all([...this.kicking.values(), ...this.starting]);
  }

  private async kickAll(): Promise<void> {
    const guilds = await this.d.repo.guilds().catch(() => []);
    for (const g of guilds) this.kick(g);
    await this.idle();
  }

  /**
   * Entries older than this process's start whose job it does not follow (see onlyProcess): nothing would ever start
   * or end them, and a waiting one would hold up every job behind it.
   */
  private async dropLeftovers(startedAt: number): Promise<void> {
    for (const guildId of await this.d.repo.guilds().catch(() => [])) {
      const dropped = await this.d.repo
        .update(guildId, (doc) => {
          const left = (id: string, at: number) => at < startedAt && !this.d.held(id);
          const gone = doc.waiting.filter((w) => left(w.jobId, w.at)).map((w) => w.jobId);
          doc.waiting = doc.waiting.filter((w) => !gone.includes(w.jobId));
          for (const [id, r] of Object.entries(doc.running))
            if (left(id, r.at)) {
              delete doc.running[id];
              gone.push(id);
            }
          return gone;
        })
        .catch((err: unknown) => (this.d.logger.warn({ err, guildId }, 'could not look for leftovers in the queue'), []));
      if (dropped.length === 0) continue;
      this.d.logger.warn({ guildId, jobIds: dropped }, 'dropped queue entries no job holds (left by a crash)');
      this.kick(guildId);
    }
  }

  /** Start every waiting job whose turn it is and which this process holds; refresh the places of those still waiting. */
  private async startDue(guildId: string): Promise<void> {
    const cap = await this.d.serverCap(guildId);
    // every job whose turn it is, taken in one hold of the queue's lock, then sent side by side: members' new jobs
    // queue for that lock too, and with one hold per start each start would wait behind all of them (a burst)
    // a look every couple of seconds mostly finds nothing due: the lock and a store write only when something is
    const next = pickNext(await this.d.repo.get(guildId), cap, this.d.now());
    const due = next && this.d.held(next.jobId) ? await this.d.repo.update(guildId, (doc) => this.takeDue(doc, cap)) : [];
    await this.startTaken(guildId, due);
  }

  /** Mark running every waiting job whose turn it is and which this process holds (under the queue's lock). */
  private takeDue(doc: QueueDoc, cap: number): string[] {
    const ids: string[] = [];
    for (let i = 0; i < MAX_STARTS_AT_ONCE; i++) {
      const next = pickNext(doc, cap, this.d.now());
      if (!next || !this.d.held(next.jobId)) break; // another process holds it: its turn is that process's to give
      markStarted(doc, next.jobId, this.d.now());
      ids.push(next.jobId);
    }
    return ids;
  }

  /** Send the jobs just marked running, side by side; then the others' places. */
  private async startTaken(guildId: string, due: string[]): Promise<void> {
    const sent = await Promise.allSettled(due.map((jobId) => this.send(jobId)));
    for (const [i, outcome] of sent.entries())
      if (outcome.status === 'rejected') this.d.logger.warn({ err: outcome.reason, jobId: due[i] }, 'could not start a waiting job');
    await this.showPlacesSoon(guildId);
  }

  /**
   * Every start moves every waiting job up: their places are worked out and offered to their messages at most once
   * per PLACES_EVERY_MS per server (a message is edited at most every few seconds anyway), so a run of starts in a
   * busy queue does not redraw hundreds of messages each time. The first after a quiet while is shown at once.
   */
  private async showPlacesSoon(guildId: string): Promise<void> {
    if (this.placesTimers.has(guildId)) return;
    const wait = (this.placesShownAt.get(guildId) ?? -Infinity) + PLACES_EVERY_MS - this.d.now();
    const show = () => {
      this.placesTimers.delete(guildId);
      this.placesShownAt.set(guildId, this.d.now());
      return this.showPlaces(guildId);
    };
    if (wait <= 0) return show();
    this.placesTimers.set(
      guildId,
      setTimeout(() => void show().catch((err) => this.d.logger.warn({ err, guildId }, 'could not show the places in the queue')), wait).unref(),
    );
  }

  private async send(jobId: string): Promise<void> {
    const job = this.d.held(jobId);
    const request = job?.queued?.request;
    if (!job || job.status !== 'waiting' || !request || !this.jobs) {
      if (job) await this.leave(job);
      return;
    }
    this.d.logger.info({ jobId, guildId: job.owner.guildId }, "a waiting job's turn: sending it");
    await this.jobs.startWaiting(job, () => this.d.send(request));
  }

  private async showPlaces(guildId: string): Promise<void> {
    const doc = await this.d.repo.get(guildId);
    const places = placesOf(doc); // all at once: one play of the queue, not one per job
    for (const w of doc.waiting) {
      const job = this.d.held(w.jobId);
      if (!job || job.status !== 'waiting') continue;
      const place = places.get(w.jobId);
      if (place !== job.queuePosition) {
        job.queuePosition = place;
        this.d.showPlace(job);
      }
    }
  }
}

/** Why this job may not wait, if it may not. */
function waitRefusal(doc: QueueDoc, job: Job, limits: QueueLimits, canWait: boolean): Msg | undefined {
  const atMemberLimit = limits.perMember > 0 && runningOf(doc, job.owner.userId) >= limits.perMember;
  if (!canWait || limits.maxWaiting === 0) {
    return atMemberLimit
      ? { key: 'community.limit.concurrent', params: { count: limits.perMember } }
      : { key: 'queue.serverBusy', params: { count: limits.serverCap } };
  }
  const mine = doc.waiting.filter((w) => w.userId === job.owner.userId).length;
  if (mine >= limits.maxWaiting) return { key: 'queue.memberFull', params: { count: limits.maxWaiting } };
  return undefined;
}

/**
 * When the member asked: their interaction's time as Discord stamped it (its id), so that jobs sent in a burst wait in
 * the order their members sent them, not in the order the bot got through them (a job without an interaction: its creation).
 */
function arrivalOf(job: Job): number {
  const ix = job.interaction;
  if (!ix) return job.createdAt;
  // within one millisecond, the interaction id's increment (its low 12 bits) keeps Discord's order
  const increment = ix.id && /^\d{1,20}$/.test(ix.id) ? Number(BigInt(ix.id) & 0xfffn) / 4096 : 0;
  return ix.issuedAt + increment;
}

function insertAt(doc: QueueDoc, at: number): number {
  const i = doc.waiting.findIndex((w) => w.at > at);
  return i < 0 ? doc.waiting.length : i;
}

/** The tracker's sink, with a job's place in its server's queue freed as soon as it ends (before its result is posted). */
export function queueFreeingSink(queue: () => JobQueue | undefined, inner: JobSink): JobSink {
  /** jobs whose place was freed when the upstream said they ended (their finish need not free it again) */
  const freed = new Set<string>();
  return {
    progress: (job) => inner.progress(job),
    // the next job need not wait for this one to be stored: should the process die first, it ends again after the restart
    ended: (job) => {
      const q = queue();
      if (!q?.applies(job)) return;
      freed.add(job.id);
      void q.leave(job).catch(() => undefined);
    },
    finish: async (job) => {
      const q = queue();
      if (!freed.delete(job.id) && q?.applies(job)) await q.leave(job).catch(() => undefined); // never in the way of the result
      await inner.finish(job);
    },
  };
}
