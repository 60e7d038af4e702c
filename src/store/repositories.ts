import type { Keyv } from 'keyv';
import type { DeliveryMode, Job, Provider, SpeedMode } from '../jobs/model.js';
import { isFinal } from '../jobs/model.js';
import type { KvStore } from './keyvStore.js';
import type { Locks } from './locks.js';

/** How long a cross-process record lock may be held (it expires if its holder dies) and waited for. */
const RECORD_LOCK_MS = 10_000;

/**
 * Serialises async work per key inside this process (read-modify-write of index entries); given shared locks
 * (a Redis store, several bot processes), also across processes.
 */
export class KeyedMutex {
  private tails = new Map<string, Promise<unknown>>();

  constructor(private shared?: Locks) {}

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const guarded = this.shared ? () => this.acrossProcesses(key, fn) : fn;
    const next = prev.then(guarded, guarded);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await next;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** Hold `record:<key>` in the store while fn runs; after RECORD_LOCK_MS of waiting (a dead holder's lock has expired by then) run anyway. */
  private async acrossProcesses<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const shared = this.shared!;
    const name = `record:${key}`;
    const deadline = Date.now() + RECORD_LOCK_MS;
    let token = await shared.tryLock(name, RECORD_LOCK_MS);
    while (token === undefined && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 20));
      token = await shared.tryLock(name, RECORD_LOCK_MS);
    }
    try {
      return await fn();
    } finally {
      if (token !== undefined) await shared.unlock(name, token).catch(() => undefined);
    }
  }
}

const RECENT_PER_USER = 25;
/** in-flight jobs whose index entries a JobsRepo remembers having written (a job forgotten is merely written again) */
const INDEXED_MEMORY = 20_000;
const dayKey = (userId: string, at: number) => `today:${userId}:${new Date(at).toISOString().slice(0, 10)}`;
/** A day counter outlives its UTC day by a day (then it is of no use), whatever the retention. */
const DAY_COUNTER_TTL_MS = 2 * 24 * 3600_000;
/** JOB_RETENTION_DAYS' default: how long finished jobs, their buttons and recent lists are kept. */
export const DEFAULT_RETENTION_MS = 90 * 24 * 3600_000;

export interface RepositoryOptions {
  /** how long a finished job, its upstream index entry, its buttons and a user's recent list are kept (TTL) */
  retentionMs?: number;
}

/**
 * Jobs, the upstream-id index, the in-flight index and each user's recent jobs.
 * `save` is the one write path: indexes follow the job's status, and the write is awaited (durable) before callers talk to Discord.
 */
export class JobsRepo {
  private jobs: Keyv;
  private upstream: Keyv;
  private inflight: Keyv;
  private users: Keyv;
  private mutex: KeyedMutex;
  /** in-flight jobs this process has written the index entries of: job id → its upstream key ('' = none yet) */
  private indexed = new Map<string, string>();

  constructor(
    private store: KvStore,
    private retentionMs = DEFAULT_RETENTION_MS,
  ) {
    this.mutex = new KeyedMutex(store.redis ? store : undefined);
    this.jobs = store.namespace('jobs');
    this.upstream = store.namespace('upstream');
    this.inflight = store.namespace('inflight');
    this.users = store.namespace('users');
  }

  async get(id: string): Promise<Job | undefined> {
    return (await this.jobs.get(id)) as Job | undefined;
  }

  async getMany(ids: string[]): Promise<Job[]> {
    if (ids.length === 0) return [];
    const found = (await this.jobs.get(ids)) as (Job | undefined)[];
    return found.filter((j): j is Job => j !== undefined);
  }

  async findByUpstream(provider: Provider, upstreamId: string): Promise<Job | undefined> {
    const id = (await this.upstream.get(`${provider}:${upstreamId}`)) as string | undefined;
    return id ? this.get(id) : undefined;
  }

  /** Persist a job and keep the indexes in step. Returns the saved copy. */
  async save(job: Job, now = Date.now()): Promise<Job> {
    job.updatedAt = now;
    const done = isFinal(job) && job.deliveredAt !== undefined;
    // in flight: kept until it ends (JOB_TIMEOUT_MS ends every job); finished: kept for the retention period
    const upstreamKey = job.upstreamId ? `${job.provider}:${job.upstreamId}` : '';
    // the record and its index entries are separate writes (each namespace its own connection): side by side
    const writes: Promise<unknown>[] = [this.jobs.set(job.id, job, done ? this.retentionMs : undefined)];
    if (done) {
      if (upstreamKey) writes.push(this.upstream.set(upstreamKey, job.id, this.retentionMs));
      writes.push(this.inflight.delete(job.id));
      this.indexed.delete(job.id);
      await Promise.all(writes);
      return job;
    }
    // a job is saved several times on its way: its index entries are written when they change, not on every save
    const written = this.indexed.get(job.id);
    if (upstreamKey && upstreamKey !== written) writes.push(this.upstream.set(upstreamKey, job.id));
    if (written === undefined) writes.push(this.inflight.set(job.id, job.createdAt));
    await Promise.all(writes);
    this.remember(job.id, upstreamKey);
    return job;
  }

  private remember(jobId: string, upstreamKey: string): void {
    this.indexed.delete(jobId); // newest last: the oldest goes first when the memory is full
    this.indexed.set(jobId, upstreamKey);
    if (this.indexed.size > INDEXED_MEMORY) this.indexed.delete(this.indexed.keys().next().value!);
  }

  /**
   * Read-modify-write a stored job without losing concurrent updates from this process
   * (e.g. several buttons of one result pressed at once). Returns the saved job, or undefined if unknown.
   */
  async update(id: string, mutate: (job: Job) => void, now = Date.now()): Promise<Job | undefined> {
    return this.mutex.run(`job:${id}`, async () => {
      const job = await this.get(id);
      if (!job) return undefined;
      mutate(job);
      return this.save(job, now);
    });
  }

  /** Record a new job in its owner's recent list (newest first). */
  async addToUser(job: Job): Promise<void> {
    const key = `recent:${job.owner.userId}`;
    await this.mutex.run(key, async () => {
      const day = dayKey(job.owner.userId, job.createdAt);
      await Promise.all([
        (async () => {
          const list = ((await this.users.get(key)) as string[] | undefined) ?? [];
          await this.users.set(key, [job.id, ...list.filter((id) => id !== job.id)].slice(0, RECENT_PER_USER), this.retentionMs);
        })(),
        (async () => {
          await this.users.set(day, (((await this.users.get(day)) as number | undefined) ?? 0) + 1, DAY_COUNTER_TTL_MS);
        })(),
      ]);
    });
  }

  /** Take back a job from its owner's day count (the upstream refused it, so it used nothing up). */
  async uncountToday(job: Job): Promise<void> {
    const day = dayKey(job.owner.userId, job.createdAt);
    await this.mutex.run(`recent:${job.owner.userId}`, async () => {
      const n = ((await this.users.get(day)) as number | undefined) ?? 0;
      if (n > 0) await this.users.set(day, n - 1, DAY_COUNTER_TTL_MS);
    });
  }

  /** How many jobs the user started on this UTC day. */
  async countToday(userId: string, now = Date.now()): Promise<number> {
    return ((await this.users.get(dayKey(userId, now))) as number | undefined) ?? 0;
  }

  async recentForUser(userId: string, limit = 10): Promise<Job[]> {
    const ids = ((await this.users.get(`recent:${userId}`)) as string[] | undefined) ?? [];
    return this.getMany(ids.slice(0, limit));
  }

  /**
   * Ids of every job that is not finished-and-delivered (what a restart must resume), a page at a time: only ids
   * are read, each once, so resuming many jobs holds one page of them at a time.
   */
  inflightIdPages(pageSize?: number): AsyncGenerator<string[]> {
    return this.store.keyPages('inflight', pageSize);
  }

  /** Every in-flight id at once (small stores, tools and tests; the tracker goes page by page). */
  async inflightIds(): Promise<string[]> {
    const ids: string[] = [];
    for await (const page of this.inflightIdPages()) ids.push(...page);
    return ids;
  }
}

/** What a Discord button's short key stands for. */
export interface ButtonRecord {
  key: string;
  jobId: string;
  /** the upstream task that owns the upstream button */
  upstreamTaskId: string;
  /** verbatim upstream customId; bot-only buttons use a `relay:` pseudo id */
  customId: string;
  kind: string;
  index?: number | undefined;
  ownerId: string;
  guildId?: string | undefined;
  createdAt: number;
  /** extra data for bot-side buttons (e.g. the prompt a describe pick starts with) */
  data?: Record<string, string> | undefined;
}

export class ButtonsRepo {
  private buttons: Keyv;

  constructor(
    private store: KvStore,
    private retentionMs = DEFAULT_RETENTION_MS,
  ) {
    this.buttons = store.namespace('buttons');
  }

  /** Store button records; each is kept for the retention period (a press on an older one says it expired). */
  async putMany(records: ButtonRecord[]): Promise<void> {
    await Promise.all(records.map((r) => this.buttons.set(r.key, r, this.retentionMs)));
  }

  async get(key: string): Promise<ButtonRecord | undefined> {
    return (await this.buttons.get(key)) as ButtonRecord | undefined;
  }

  /**
   * Claim a button for one press: false when the same button was pressed less than `windowMs` ago
   * (double clicks, or the same press reaching two processes). The claim lives in the store, so it holds across
   * restarts, and on Redis it is one atomic SET NX PX, so two processes cannot both win it.
   */
  async claim(key: string, windowMs: number): Promise<boolean> {
    return (await this.store.tryLock(`press:${key}`, windowMs)) !== undefined;
  }

  /** Let the button be pressed again at once (the press failed before anything was sent upstream). */
  async release(key: string): Promise<void> {
    await this.store.unlock(`press:${key}`);
  }
}

export interface UserSettings {
  delivery?: DeliveryMode | undefined;
  botType?: 'MID_JOURNEY' | 'NIJI_JOURNEY' | undefined;
  speed?: SpeedMode | undefined;
  remix?: boolean | undefined;
  /** learned: DMs to this user fail (50007) */
  dmClosed?: boolean | undefined;
}

export class UsersRepo {
  private users: Keyv;
  private mutex: KeyedMutex;

  constructor(store: KvStore) {
    this.mutex = new KeyedMutex(store.redis ? store : undefined);
    this.users = store.namespace('users');
  }

  async settings(userId: string): Promise<UserSettings> {
    return ((await this.users.get(`settings:${userId}`)) as UserSettings | undefined) ?? {};
  }

  async updateSettings(userId: string, patch: Partial<UserSettings>): Promise<UserSettings> {
    return this.mutex.run(`settings:${userId}`, async () => {
      const next = { ...(await this.settings(userId)), ...patch };
      await this.users.set(`settings:${userId}`, next);
      return next;
    });
  }
}

export class MetaRepo {
  private meta: Keyv;
  private mutex: KeyedMutex;

  constructor(store: KvStore) {
    this.meta = store.namespace('meta');
    this.mutex = new KeyedMutex(store.redis ? store : undefined);
  }

  /** The stored value, or `make()` stored now; processes starting together on one Redis all get the same value. */
  async getOrCreate<T>(key: string, make: () => T): Promise<T> {
    return this.mutex.run(`meta:${key}`, async () => {
      const existing = (await this.meta.get(key)) as T | undefined;
      if (existing !== undefined) return existing;
      const value = make();
      await this.meta.set(key, value);
      return value;
    });
  }

  async get<T>(key: string): Promise<T | undefined> {
    return (await this.meta.get(key)) as T | undefined;
  }

  async set(key: string, value: unknown): Promise<void> {
    await this.meta.set(key, value);
  }
}

export interface Repositories {
  jobs: JobsRepo;
  buttons: ButtonsRepo;
  users: UsersRepo;
  meta: MetaRepo;
}

export function createRepositories(store: KvStore, opts: RepositoryOptions = {}): Repositories {
  const retentionMs = opts.retentionMs ?? DEFAULT_RETENTION_MS;
  return { jobs: new JobsRepo(store, retentionMs), buttons: new ButtonsRepo(store, retentionMs), users: new UsersRepo(store), meta: new MetaRepo(store) };
}
