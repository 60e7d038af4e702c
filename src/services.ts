import type { Community } from './community/community.js';
import type { FastBudget } from './community/fastBudget.js';
import type { Config } from './config.js';
import type { HealthReport } from './health.js';
import type { Delivery } from './discord/messages/delivery.js';
import type { Messenger } from './discord/messages/messenger.js';
import type { OpenReplies } from './discord/messages/openReplies.js';
import type { Renderer } from './discord/messages/renderer.js';
import type { I18n } from './i18n/index.js';
import type { Job } from './jobs/model.js';
import type { QueueService } from './jobs/queueService.js';
import type { RunningCancel } from './jobs/runningCancel.js';
import type { JobService } from './jobs/service.js';
import type { Tracker } from './jobs/tracker.js';
import type { Logger } from './log.js';
import type { KvStore } from './store/keyvStore.js';
import type { Repositories } from './store/repositories.js';
import type { MediaStore } from './http/mediaStore.js';
import type { MaskWork } from './images/maskWork.js';
import type { ImgOpenClient } from './upstream/imgOpen.js';
import type { MjProxyClient } from './upstream/mjProxy.js';
import type { PicwishClient } from './upstream/picwish.js';
import type { Outbound } from './net/outbound.js';

/** Everything a handler may use, passed in explicitly (no hidden globals). */
export interface Services {
  /** a server's rules, limits, bans and log channel */
  community: Community;
  /** fast-time budgets: fast GPU minutes per member and server per day, and the fall back to relax (community/fastBudget.ts) */
  fastBudget: FastBudget;
  /** what /healthz reports (gateway, store, upstream circuits, in-flight jobs) */
  health(): Promise<HealthReport>;
  config: Config;
  logger: Logger;
  i18n: I18n;
  store: KvStore;
  repos: Repositories;
  mj: MjProxyClient;
  /** Img Open (face swap V1/V2/multi-face); only when IMGOPEN_* is configured */
  imgOpen?: ImgOpenClient | undefined;
  /** PicWish (inpaint, background removal, upscale, face restore); only when PICWISH_API_KEY is configured */
  picwish?: PicwishClient | undefined;
  /** the bot's own short-lived image URLs for Img Open (IMAGE_INGRESS_MODE=rehost) */
  media?: MediaStore | undefined;
  jobs: JobService;
  /** the servers' fair queues, as /admin status reads them (waiting and running jobs of a server) */
  queue: Pick<QueueService, 'overview'>;
  /** Cancel on a job the upstream accepted: stopped there where it can be (src/jobs/runningCancel.ts) */
  cancelRunning(job: Job): Promise<RunningCancel>;
  tracker: Tracker;
  delivery: Delivery;
  /** interactions whose deferred reply is still loading: a job's follow-up waits for them */
  openReplies: OpenReplies;
  messenger: Messenger;
  renderer: Renderer;
  /** masks decoded and drawn off the event loop, within the image budgets (src/images/budgets.ts) */
  masks: MaskWork;
  /** download a user's attachment (size-capped; private addresses refused, see src/net/outbound.ts) */
  download(url: string, maxBytes: number): Promise<Buffer>;
  /** outbound fetches: the guarded downloader and the check of links an upstream will fetch (/describe link) */
  outbound: Outbound;
  now(): number;
}
