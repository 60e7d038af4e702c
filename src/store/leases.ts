import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { JobOwnership } from '../jobs/tracker.js';
import type { Logger } from '../log.js';
import { deleteIfHeld, extendIfHeld, setIfAbsent, type RedisClient } from './redis.js';

export const DEFAULT_LEASE_TTL_MS = 30_000;

/**
 * How often a process renews its leases and looks for orphaned jobs, for LEASE_TTL_MS: a quarter of it.
 * LEASE_TTL_MS is the promise "a dead process's jobs are taken over within this long": its last renewal can be
 * just before it dies, and the others look for orphans only once per round, so a lease is written for the TTL
 * minus one round (leaseMsFor) and lapse + the next look fit in the TTL. A lease still gets three renewals.
 */
export function renewIntervalFor(ttlMs: number): number {
  return Math.max(100, Math.floor(ttlMs / 4));
}

/** How long each lease is written for (SET/PEXPIRE PX), so that death → adoption takes at most `ttlMs` (see renewIntervalFor). */
export function leaseMsFor(ttlMs: number): number {
  return Math.max(renewIntervalFor(ttlMs) + 1, ttlMs - renewIntervalFor(ttlMs));
}

export interface RedisJobOwnershipOptions {
  /** how long a lease lives without renewal (default 30 s); the app writes leaseMsFor(LEASE_TTL_MS) here */
  ttlMs?: number;
  /** this process's name in the leases (default host/pid/random) */
  owner?: string;
  logger?: Logger;
}

/**
 * Per-job leases in Redis, so that exactly one of several bot processes polls and delivers each in-flight job.
 *
 *   key   mj-relay:lease:job:<jobId>
 *   value the owner id of the holding process (unique per process start)
 *   ttl   ttlMs (PX), renewed by the tracker every round while the job is held (3 rounds per lease, see renewIntervalFor)
 *
 * claim:   SET NX PX; if the key exists and holds our id, extend it (a process may re-claim its own job).
 * renew:   one Lua script extends only the keys still holding our id and reports the others as lost.
 * release: a Lua compare-and-delete, so a process never frees a lease another process has taken since.
 * A process that dies stops renewing: its leases expire and the others adopt its jobs (Tracker ownership loop).
 */
export class RedisJobOwnership implements JobOwnership {
  readonly owner: string;
  readonly ttlMs: number;
  private held = new Set<string>();
  private logger: Logger | undefined;

  constructor(
    private client: RedisClient,
    opts: RedisJobOwnershipOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    this.owner = opts.owner ?? `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;
    this.logger = opts.logger;
  }

  static key(jobId: string): string {
    return `mj-relay:lease:job:${jobId}`;
  }

  /** The jobs this process holds a lease on (as far as it knows). */
  get heldJobs(): string[] {
    return [...this.held];
  }

  async claim(jobId: string): Promise<boolean> {
    const key = RedisJobOwnership.key(jobId);
    const ok = (await setIfAbsent(this.client, key, this.owner, this.ttlMs)) || (await extendIfHeld(this.client, [key], this.owner, this.ttlMs)).length === 0;
    if (ok) this.held.add(jobId);
    return ok;
  }

  /** Take a job whatever holds it (a user acted on it here); the previous holder sees it lost at its next renewal. */
  async take(jobId: string): Promise<void> {
    await this.client.set(RedisJobOwnership.key(jobId), this.owner, { expiration: { type: 'PX', value: this.ttlMs } });
    this.held.add(jobId);
  }

  /** Extend the leases still ours; answers the jobs whose lease is gone or held by another process. */
  async renew(jobIds: string[]): Promise<string[]> {
    const lost: string[] = [];
    for (let i = 0; i < jobIds.length; i += 500) {
      const chunk = jobIds.slice(i, i + 500);
      const keys = await extendIfHeld(this.client, chunk.map(RedisJobOwnership.key), this.owner, this.ttlMs);
      const lostKeys = new Set(keys);
      for (const id of chunk) if (lostKeys.has(RedisJobOwnership.key(id))) lost.push(id);
    }
    for (const id of lost) this.held.delete(id);
    if (lost.length > 0) this.logger?.warn({ jobs: lost }, 'lost the lease of jobs (another process holds them now)');
    return lost;
  }

  async release(jobId: string): Promise<void> {
    this.held.delete(jobId);
    await deleteIfHeld(this.client, RedisJobOwnership.key(jobId), this.owner);
  }

  /** Give every held lease up (clean shutdown): the other processes adopt those jobs at their next round instead of after the TTL. */
  async releaseAll(): Promise<void> {
    await Promise.all([...this.held].map((id) => this.release(id).catch(() => undefined)));
  }
}
