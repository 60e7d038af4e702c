import type { Keyv } from 'keyv';
import { emptyQueue, type QueueDoc } from '../jobs/fairQueue.js';
import type { KvStore } from './keyvStore.js';
import { KeyedMutex } from './repositories.js';

const INDEX = 'queue-index';

/**
 * Each server's fair queue (waiting and running Midjourney jobs), one record per server in the store's `guilds`
 * namespace, changed only under a lock that holds across processes on Redis — so two processes never start the same
 * job, and the order survives a restart. An index lists the servers whose queue is not empty.
 */
export class QueueRepo {
  private kv: Keyv;
  private mutex: KeyedMutex;
  /**
   * The queues as last stored, when this process is the store's only writer (no Redis): a burst of commands then
   * costs one write per change, not a read and a parse of the whole queue as well. Several processes read the store.
   */
  private cache: Map<string, QueueDoc> | undefined;
  /** changes asked and not yet being stored, per server */
  private pending = new Map<string, Change[]>();
  /** servers whose changes are being stored now */
  private writing = new Set<string>();

  constructor(store: KvStore) {
    this.kv = store.namespace('guilds');
    this.mutex = new KeyedMutex(store.redis ? store : undefined);
    if (!store.redis) this.cache = new Map();
  }

  /** A server's queue (read it only; change it through `update`). */
  async get(guildId: string): Promise<QueueDoc> {
    const known = this.cache?.get(guildId);
    if (known) return known;
    const doc = parseDoc(await this.kv.get(key(guildId)));
    const meanwhile = this.cache?.get(guildId); // a change made while this read was under way is the newer one
    if (meanwhile) return meanwhile;
    this.cache?.set(guildId, doc);
    return doc;
  }

  /**
   * Change a server's queue under its lock; `fn`'s answer is returned once the change is stored. Changes asked while
   * the queue is being written are applied together, in the order asked, and stored with one write in one hold of the
   * lock (a burst of commands and a job that ends do not queue for the lock one write each). `fn` should decide before
   * it changes anything: what it changed before throwing is stored with the others (only its own caller sees the error).
   */
  update<T>(guildId: string, fn: (doc: QueueDoc) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const batch = this.pending.get(guildId);
      const change: Change = { fn, resolve: resolve as (v: unknown) => void, reject };
      if (batch) batch.push(change);
      else {
        this.pending.set(guildId, [change]);
        if (!this.writing.has(guildId)) void this.write(guildId);
      }
    });
  }

  /** Store the changes asked for a server, a batch at a time, until none is left. */
  private async write(guildId: string): Promise<void> {
    this.writing.add(guildId);
    try {
      for (let batch = this.take(guildId); batch.length > 0; batch = this.take(guildId)) await this.apply(guildId, batch);
    } finally {
      this.writing.delete(guildId);
    }
  }

  private take(guildId: string): Change[] {
    const batch = this.pending.get(guildId) ?? [];
    this.pending.delete(guildId);
    return batch;
  }

  private async apply(guildId: string, batch: Change[]): Promise<void> {
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; err: unknown }> = [];
    try {
      await this.mutex.run(key(guildId), async () => {
        const doc = await this.get(guildId);
        const before = doc.waiting.length + Object.keys(doc.running).length;
        for (const change of batch) {
          try {
            outcomes.push({ ok: true, value: change.fn(doc) });
          } catch (err) {
            outcomes.push({ ok: false, err });
          }
        }
        const after = doc.waiting.length + Object.keys(doc.running).length;
        try {
          if (after === 0) await this.kv.delete(key(guildId));
          else await this.kv.set(key(guildId), JSON.stringify(doc)); // stored as its JSON: keyv's own encoder walks a large object in JS
        } catch (err) {
          this.cache?.delete(guildId); // not stored: the next look reads what the store has
          throw err;
        }
        if ((before === 0) !== (after === 0)) await this.index(guildId, after > 0);
      });
    } catch (err) {
      for (const change of batch) change.reject(err);
      return;
    }
    for (const [i, change] of batch.entries()) {
      const outcome = outcomes[i]!;
      if (outcome.ok) change.resolve(outcome.value);
      else change.reject(outcome.err);
    }
  }

  /** Servers whose queue holds jobs (waiting or running). */
  async guilds(): Promise<string[]> {
    return ((await this.kv.get(INDEX)) as string[] | undefined) ?? [];
  }

  private async index(guildId: string, present: boolean): Promise<void> {
    await this.mutex.run(INDEX, async () => {
      const list = new Set(await this.guilds());
      if (present) list.add(guildId);
      else list.delete(guildId);
      await this.kv.set(INDEX, [...list]);
    });
  }
}

/** A stored queue: its JSON (an object, as stored before). */
function parseDoc(stored: unknown): QueueDoc {
  if (typeof stored === 'string') return JSON.parse(stored) as QueueDoc;
  return (stored as QueueDoc | undefined) ?? emptyQueue();
}

/** One change asked of a server's queue, answered once stored. */
interface Change {
  fn: (doc: QueueDoc) => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

const key = (guildId: string) => `queue:${guildId}`;
