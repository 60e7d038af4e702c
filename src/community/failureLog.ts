import type { Keyv } from 'keyv';
import type { KvStore } from '../store/keyvStore.js';
import { KeyedMutex } from '../store/repositories.js';
import { FAILURE_KINDS, type FailureKind } from './failureKinds.js';

export type FailureCountsByKind = Partial<Record<FailureKind, number>>;

export interface FailureEvent {
  guildId: string;
  jobId: string;
  kind: FailureKind;
  /** ms epoch of the failure */
  at: number;
}

/** Counts are kept in 5-minute buckets: "the last hour" is the last 12 of them (55 to 60 minutes back). */
const BUCKET_MS = 5 * 60_000;
const WINDOW_BUCKETS = 12;
/** a bucket outlives the window a little, then the store drops it */
const BUCKET_TTL_MS = (WINDOW_BUCKETS + 2) * BUCKET_MS;
/** a job's failure is counted once within this time, whichever process sees it (and however often) */
const ONCE_MS = 24 * 3_600_000;

/** A job fails once (at its submit or after it), and separately its result may fail to be posted. */
const onceKey = (e: FailureEvent) => `failure-once:${e.jobId}:${e.kind === 'delivery' ? 'delivery' : 'ended'}`;

/**
 * Failures per server and kind, in the store: every process of a deployment adds to the same counts, so each one
 * answers /admin status with the server's totals. Each job's failure counts once (a claim in the store), whichever
 * part noticed it first, and so does a result that could not be posted.
 */
export class FailureCounts {
  private kv: Keyv;
  private mutex: KeyedMutex;

  constructor(private store: KvStore) {
    this.kv = store.namespace('guilds');
    // one read-modify-write per bucket at a time, across processes on Redis
    this.mutex = new KeyedMutex(store.redis ? store : undefined);
  }

  /** Count a failure; false (and nothing counted) when this job's failure (or its delivery's) was counted before. */
  async record(e: FailureEvent): Promise<boolean> {
    const first = await this.store.tryLock(onceKey(e), ONCE_MS);
    if (first === undefined) return false;
    const key = bucketKey(e.guildId, bucketOf(e.at));
    await this.mutex.run(key, async () => {
      const counts = ((await this.kv.get(key)) as FailureCountsByKind | undefined) ?? {};
      counts[e.kind] = (counts[e.kind] ?? 0) + 1;
      await this.kv.set(key, counts, BUCKET_TTL_MS);
    });
    return true;
  }

  /** The server's failures in the hour up to `now`, by kind (kinds without failures are left out). */
  async lastHour(guildId: string, now: number): Promise<FailureCountsByKind> {
    const last = bucketOf(now);
    const keys = Array.from({ length: WINDOW_BUCKETS }, (_, i) => bucketKey(guildId, last - i));
    const buckets = (await this.kv.get(keys)) as (FailureCountsByKind | undefined)[];
    const total: FailureCountsByKind = {};
    for (const bucket of buckets) {
      for (const kind of FAILURE_KINDS) {
        const n = bucket?.[kind];
        if (n) total[kind] = (total[kind] ?? 0) + n;
      }
    }
    return total;
  }
}

const bucketOf = (at: number) => Math.floor(at / BUCKET_MS);
const bucketKey = (guildId: string, bucket: number) => `failures:${guildId}:${bucket}`;
