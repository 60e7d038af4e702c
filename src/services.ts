import type { Config } from './config.js';
import type { Delivery } from './discord/delivery.js';
import type { Messenger } from './discord/messenger.js';
import type { Renderer } from './discord/renderer.js';
import type { I18n } from './i18n/index.js';
import type { JobService } from './jobs/service.js';
import type { Tracker } from './jobs/tracker.js';
import type { Logger } from './log.js';
import type { KvStore } from './store/keyvStore.js';
import type { Repositories } from './store/repositories.js';
import type { MjProxyClient } from './upstream/mjProxy.js';

/** Everything a handler may use, passed in explicitly (no hidden globals). */
export interface Services {
  config: Config;
  logger: Logger;
  i18n: I18n;
  store: KvStore;
  repos: Repositories;
  mj: MjProxyClient;
  jobs: JobService;
  tracker: Tracker;
  delivery: Delivery;
  messenger: Messenger;
  renderer: Renderer;
  /** download a user's attachment (size-capped) */
  download(url: string, maxBytes: number): Promise<Buffer>;
  now(): number;
}
