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

  constructor(store: KvStore) {
    this.kv = store.namespace('guilds');
    this.mutex = new KeyedMutex(store.redis ? store : undefined);
    if (!store.redis) this.cache = new Map();
  }

  /** A server's queue (read it only; change it through `update`). */
  async get(guildId: string): Promise<QueueDoc> {
    const known = this.cache?.get(guildId);
    if (known) return known;
    const doc = ((await this.kv.get(key(guildId))) as QueueDoc | undefined) ?? emptyQueue();
    this.cache?.set(guildId, doc);
    return doc;
  }

  /** Change a server's queue under its lock; `fn`'s answer is returned once the change is stored. */
  async update<T>(guildId: string, fn: (doc: QueueDoc) => T): Promise<T> {
    return this.mutex.run(key(guildId), async () => {
      const doc = await this.get(guildId);
      const before = doc.waiting.length + Object.keys(doc.running).length;
      let out: T;
      let after: number;
      try {
        out = fn(doc);
        after = doc.waiting.length + Object.keys(doc.running).length;
        if (after === 0) await this.kv.delete(key(guildId));
        else await this.kv.set(key(guildId), doc);
      } catch (err) {
        this.cache?.delete(guildId); // not stored: the next look reads what the store has
        throw err;
      }
      if ((before === 0) !== (after === 0)) await this.index(guildId, after > 0);
      return out;
    });
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

const key = (guildId: string) => `queue:${guildId}`;
