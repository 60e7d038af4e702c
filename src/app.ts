import { randomBytes } from 'node:crypto';
import { Client, Events, GatewayIntentBits, type RESTPostAPIApplicationCommandsJSONBody } from 'discord.js';
import { offeredCommands } from '../commands/index.js';
import { allComponents } from '../components/index.js';
import { Community } from './community/community.js';
import { FailureCounts } from './community/failureLog.js';
import { FastBudget } from './community/fastBudget.js';
import { TaskTimesSeen } from './community/taskTimesSeen.js';
import { describeReach } from './community/reach.js';
import { DEFAULT_QUEUED, GuildRulesRepo, defaultRules, effectiveLimits } from './community/rules.js';
import type { Config } from './config.js';
import { Delivery } from './discord/messages/delivery.js';
import { OpenReplies } from './discord/messages/openReplies.js';
import { resultImageFetcher } from './discord/messages/resultImage.js';
import { resultVideoFetcher } from './discord/messages/resultMedia.js';
import { Dispatcher } from './discord/interactions/dispatcher.js';
import type { Command } from './discord/interactions/interactionKit.js';
import { ChannelBudget } from './discord/messages/channelBudget.js';
import { Messenger } from './discord/messages/messenger.js';
import { planResultButtons } from './discord/flows/resultButtons.js';
import { swapEngines, toolProviders } from './discord/flows/toolJobs.js';
import { inviteUrl, REQUIRED_PERMISSIONS } from './discord/invite.js';
import { CommandLocalizer, registerCommands } from './discord/interactions/registry.js';
import { Renderer } from './discord/messages/renderer.js';
import { MediaStore } from './http/mediaStore.js';
import { HttpServer } from './http/server.js';
import { EditorRoutes } from './http/editor/routes.js';
import { EditorSessions } from './http/editor/sessions.js';
import { MaskEditorFlows } from './discord/flows/maskEditor.js';
import { createHealthCheck, gatewayConnected } from './health.js';
import { createI18n } from './i18n/index.js';
import { MaskWork } from './images/maskWork.js';
import { ImgOpenProvider, imgOpenScheduleFor } from './jobs/imgOpenProvider.js';
import { MjProvider } from './jobs/mjProvider.js';
import { PicwishProvider } from './jobs/picwishProvider.js';
import type { Job, Provider } from './jobs/model.js';
import type { ProviderAdapter } from './jobs/provider.js';
import { QueueService, queueFreeingSink } from './jobs/queueService.js';
import { cancelRunning } from './jobs/runningCancel.js';
import { JobService } from './jobs/service.js';
import { QueueRepo } from './store/queueRepo.js';
import { submitResult } from './discord/flows/mjJobs.js';
import { scrubbedProviders } from './jobs/scrubbedUpdates.js';
import { describeSubmitError } from './jobs/submitErrors.js';
import { Tracker, deliveryRetryFor } from './jobs/tracker.js';
import { createLogger, type Logger } from './log.js';
import { Metrics, circuitStates } from './metrics.js';
import type { Services } from './services.js';
import { openKvStore, type KvStore } from './store/keyvStore.js';
import { createRepositories } from './store/repositories.js';
import { RedisJobOwnership, leaseMsFor, renewIntervalFor } from './store/leases.js';
import { NudgeRelay } from './store/nudgeRelay.js';
import { RetentionSweeper } from './store/retention.js';
import { createOutbound, upstreamOrigins } from './net/outbound.js';
import { ImgOpenClient } from './upstream/imgOpen.js';
import { mjClientOptionsFrom, MjProxyClient } from './upstream/mjProxy.js';
import { PicwishClient } from './upstream/picwish.js';
import { RateLimiters } from './upstream/rateLimiter.js';

export { REQUIRED_PERMISSIONS, inviteUrl }; // the doctor's story checks the invite link against these

export interface AppOptions {
  logger?: Logger;
  now?: () => number;
  /** the HTTP port to listen on (default: config.http.port; 0 = any free port) */
  httpPort?: number;
  /** extra commands/routes (tests) */
  commands?: Command[];
}

export interface App {
  readonly services: Services;
  readonly client: Client;
  readonly dispatcher: Dispatcher;
  readonly http: HttpServer;
  /** Prometheus instruments of this app (its own registry), served at /metrics */
  readonly metrics: Metrics;
  /** the port the HTTP server listens on, after start */
  httpPort: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Build the whole bot from a config: every service created here and passed in explicitly. */
export async function createApp(config: Config, opts: AppOptions = {}): Promise<App> {
  const logger = opts.logger ?? createLogger({ level: config.logLevel, secrets: config.secrets });
  const now = opts.now ?? Date.now;
  const i18n = await createI18n();
  const store: KvStore = await openKvStore(config.storeUrl, logger);
  const repos = createRepositories(store, { retentionMs: config.jobs.retentionMs });
  const sweeper = new RetentionSweeper({ store, logger: logger.child({ part: 'retention' }) }); // SQLite/Postgres: expired rows
  // one registry per app; gauges read their sources when /metrics is scraped. Add every upstream client to `upstreams`.
  const upstreams: Record<string, { circuitState(): string }> = {};
  const metrics: Metrics = new Metrics({
    inFlightJobs: (): number => tracker.size,
    gatewayConnected: () => gatewayConnected(client),
    circuits: () => circuitStates(upstreams),
    queues: () => queue.totals(),
  });

  const hookSecret = await hookSecretFrom(repos.meta);
  // config.secrets is the one list every scrubber reads (the logger at each write included): add the run-time secret
  if (!config.secrets.includes(hookSecret)) config.secrets.push(hookSecret);
  const notifyHookUrl = config.http.publicUrl ? `${config.http.publicUrl}/hooks/mj/${hookSecret}` : undefined;

  const mj = new MjProxyClient({
    ...mjClientOptionsFrom(config.mj),
    notifyHookUrl,
    alsoScrub: config.secrets,
    timeouts: { headersMs: config.jobs.upstreamTimeoutMs, bodyMs: config.jobs.upstreamTimeoutMs, totalMs: config.jobs.upstreamTimeoutMs },
    observer: (o) => metrics.upstream(o),
    logger: logger.child({ upstream: 'mj' }),
  });
  upstreams['mj-proxy'] = mj;

  // image tools: each upstream exists only when configured (its commands and buttons follow)
  const imgOpen = config.imgOpen
    ? new ImgOpenClient({ ...config.imgOpen, alsoScrub: config.secrets, observer: (o) => metrics.upstream(o), logger: logger.child({ upstream: 'imgopen' }) })
    : undefined;
  const limiters = new RateLimiters(); // one per vendor key, shared by its creates and polls; closed on stop
  const picwish = config.picwish
    ? new PicwishClient({
        ...config.picwish,
        alsoScrub: config.secrets,
        limiters,
        observer: (o) => metrics.upstream(o),
        logger: logger.child({ upstream: 'picwish' }),
      })
    : undefined;
  const media = imgOpen && config.imageIngress === 'rehost' && config.http.publicUrl ? new MediaStore({ publicUrl: config.http.publicUrl }) : undefined;
  if (imgOpen) upstreams.imgopen = imgOpen;
  if (picwish) upstreams.picwish = picwish;
  const toolCaps = () => ({ engines: swapEngines({ config, mj, imgOpen }), picwish: Boolean(picwish) });

  const client = new Client({
    intents: [GatewayIntentBits.Guilds],
    rest: { api: config.discord.apiUrl },
    waitGuildTimeout: config.discord.waitGuildTimeoutMs,
    // SHARD_ID/SHARD_COUNT: this process runs one shard of several (undefined: all; ShardingManager's SHARDS env still applies)
    shards: config.discord.shardIds,
    shardCount: config.discord.shardCount,
  });
  const messenger = new Messenger(
    client.rest,
    new ChannelBudget({ perWindow: config.discord.channelWritesPer5s, windowMs: 5250 /* 5 s plus a margin for request latency */ }),
  );
  // Cancel on a job the upstream accepted, only where the upstream can stop its task (plus)
  const canCancelRunning = (job: Job): boolean => job.provider === 'mj' && mj.capabilities().cancelRunning;
  const renderer = new Renderer(i18n, { canCancelRunning });
  // every download of a URL the bot was handed goes through here: private addresses are refused at connect time
  const outbound = createOutbound(upstreamOrigins(config));

  // a result image is re-uploaded, never decoded: its byte budget, its deadline, and its pixel budget on the header
  const fetchImage = resultImageFetcher(outbound.download);
  const masks = new MaskWork({ logger: logger.child({ part: 'masks' }) });

  const openReplies = new OpenReplies();
  const delivery = new Delivery({
    messenger,
    openReplies,
    repos,
    renderer,
    i18n,
    logger: logger.child({ part: 'delivery' }),
    fetchImage,
    fetchVideo: resultVideoFetcher(outbound.download),
    planButtons: (job) => planResultButtons(job, config.mj, toolCaps()),
    progressIntervalMs: config.jobs.progressEditIntervalMs,
    now,
  });

  const taskTimes = new TaskTimesSeen(); // finished tasks' startTime/finishTime as polled: fast minutes cost no extra request
  const providers = new Map<Provider, ProviderAdapter>([
    ['mj', new MjProvider(taskTimes.watch(mj), { flavor: config.mj.flavor, logger, secrets: config.secrets })],
  ]);
  if (imgOpen) {
    providers.set(
      'imgopen',
      new ImgOpenProvider(imgOpen, { logger: logger.child({ provider: 'imgopen' }), schedule: imgOpenScheduleFor(config.jobs.pollIntervalMs) }),
    );
  }
  if (picwish) providers.set('picwish', new PicwishProvider(picwish, { logger: logger.child({ provider: 'picwish' }) }));
  const ownership = store.redis
    ? new RedisJobOwnership(store.redis, { ttlMs: leaseMsFor(config.jobs.leaseTtlMs), logger: logger.child({ part: 'leases' }) })
    : undefined;
  const community = new Community({
    rules: new GuildRulesRepo(store, config.defaultLimits),
    defaultLimits: config.defaultLimits,
    repos,
    i18n,
    logger: logger.child({ part: 'community' }),
    now,
    post: (channelId, content) => messenger.send(channelId, { content }),
    failures: new FailureCounts(store),
  });
  const deliveryRetry = deliveryRetryFor(config.jobs.pollIntervalMs);
  const fastBudget = new FastBudget({
    store,
    rules: (guildId) => community.rules(guildId),
    defaultLimits: config.defaultLimits,
    logger: logger.child({ part: 'fast-budget' }),
    now,
    // a finished task's own timing (startTime/finishTime) is what its fast minutes are estimated from
    taskTimes: async (job) => (job.provider === 'mj' && job.upstreamId ? taskTimes.take(job.upstreamId) : undefined),
  });
  const tracker = new Tracker({
    repos,
    providers: scrubbedProviders(providers, config.secrets), // upstream text reaches a job's message free of every secret
    // every failure reaches the log channel, a result that could not be posted after every attempt too
    // a job that ends frees its place in its server's queue (the next one starts) before its result is posted
    sink: queueFreeingSink(
      () => queue,
      community.loggingSink(fastBudget.recordingSink(metrics.countingSink(delivery)), { giveUpAfter: deliveryRetry.attempts }),
    ),
    logger: logger.child({ part: 'tracker' }),
    pollIntervalMs: config.jobs.pollIntervalMs,
    safetyPollMs: notifyHookUrl ? config.jobs.webhookSafetyPollMs : undefined,
    callbackProviders: new Set<Provider>(['mj']), // Img Open and PicWish are polled at POLL_INTERVAL_MS: they send no callbacks
    now,
    // a Redis store may be shared by several processes: each in-flight job is polled and delivered by its lease holder
    ownership,
    ownershipIntervalMs: renewIntervalFor(config.jobs.leaseTtlMs),
    // a result Discord or the store would not take is tried again with backoff, not left until a restart
    deliveryRetry,
  });
  // each server's fair queue: over a member's limit or the server's cap, a Midjourney job waits its turn
  const queue: QueueService = new QueueService({
    repo: new QueueRepo(store),
    limits: async (job) => {
      const rules = (await community.rules(job.owner.guildId)) ?? defaultRules(config.defaultLimits);
      const l = effectiveLimits(rules, job.owner.roles ?? []);
      return { perMember: l.concurrent, maxWaiting: l.queued ?? DEFAULT_QUEUED, serverCap: rules.maxRunning ?? 0 };
    },
    serverCap: async (guildId) => (await community.rules(guildId))?.maxRunning ?? 0,
    held: (id) => tracker.get(id),
    send: async (request) => submitResult(await mj.send(request)),
    showPlace: (job) => delivery.progress(job),
    logger: logger.child({ part: 'queue' }),
    now,
    backOffMs: config.jobs.queueBackOffMs,
    onlyProcess: !store.redis,
  });
  const jobs = new JobService({
    repos,
    tracker,
    delivery,
    logger: logger.child({ part: 'jobs' }),
    timeoutMs: config.jobs.timeoutMs,
    now,
    describeError: (err) => describeSubmitError(err, config.secrets),
    onSubmitFailed: (job, err) => {
      metrics.jobFinished(job, true);
      void community.submitFailed(job, err); // counted in the store and told to the server's log channel
    },
    admit: (owner, o) => community.admissionRefusal(owner, undefined, o),
    counters: community,
    queue,
  });

  const health = createHealthCheck({ client, store, circuits: () => circuitStates(upstreams), inFlightJobs: () => tracker.size });
  const services: Services = {
    community,
    fastBudget,
    health,
    config,
    logger,
    i18n,
    store,
    repos,
    mj,
    imgOpen,
    picwish,
    media,
    jobs,
    queue,
    cancelRunning: (job) =>
      cancelRunning(job, {
        canCancel: canCancelRunning,
        cancelTask: (taskId) => mj.cancel(taskId),
        refund: (j) => community.refused(j),
        // the process following the job fetches the task now (another process hears of it through Redis)
        nudge: (j) => {
          if (!tracker.nudge(j.provider, j.upstreamId!, true)) relay?.publish({ provider: j.provider, upstreamId: j.upstreamId!, final: true });
        },
        logger: logger.child({ part: 'cancel' }),
      }),
    tracker,
    delivery,
    openReplies,
    messenger,
    renderer,
    masks,
    download: (url, maxBytes) => outbound.download(url, { maxBytes, timeoutMs: 30_000 }),
    outbound,
    now,
  };

  // which proxy features answer (video, image upload): /video and "Animate" are offered only where a video can start
  const features = await mj.probeFeatures();
  logger.info({ features, video: mj.capabilities().video }, 'Midjourney Proxy features');
  const commands = offeredCommands(services, opts.commands); // /help lists the same set
  const dispatcher = new Dispatcher(services, commands, allComponents, {
    handled: (name, outcome) => metrics.interaction(name, outcome),
    ack: (ms) => metrics.ack(ms),
  });
  client.on(Events.InteractionCreate, (interaction) => {
    // a job's public follow-up waits until the handler has answered its interaction (see OpenReplies)
    openReplies.opened(interaction.token);
    void dispatcher.handle(interaction).finally(() => openReplies.settle(interaction.token));
  });
  client.on(Events.Error, (err) => logger.error({ err }, 'discord client error'));
  client.rest.on('rateLimited', (info) => {
    metrics.rateLimited(info);
    logger.debug({ route: info.route, retryAfter: info.retryAfter, global: info.global }, 'discord rate limit');
  });
  client.rest.on('response', (_req, res) => metrics.discordResponse(res));

  // several processes: a callback for a job another process follows is passed on to it through Redis
  const relay = store.redis
    ? await NudgeRelay.start(store.redis, (n) => void tracker.nudge(n.provider, n.upstreamId, n.final), logger.child({ part: 'nudges' }))
    : undefined;
  const http = new HttpServer({
    logger: logger.child({ part: 'http' }),
    hookSecret,
    nudge: (provider, id, final, carried) => {
      if (tracker.nudge(provider, id, final, carried)) return true;
      relay?.publish({ provider, upstreamId: id, final });
      return false;
    },
    media,
    // the browser mask editor (Vary (Region), /inpaint, Inpaint again): only where members can reach PUBLIC_URL
    editor:
      config.http.maskEditor && config.http.publicUrl
        ? new EditorRoutes({
            sessions: new EditorSessions(store, now),
            backend: new MaskEditorFlows(services, client.rest),
            i18n,
            logger: logger.child({ part: 'editor' }),
            publicUrl: config.http.publicUrl,
          })
        : undefined,
    health,
    metrics: () => metrics.render(),
  });

  let started = false;
  const app: App = {
    services,
    client,
    dispatcher,
    http,
    metrics,
    httpPort: 0,
    async start() {
      const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
      await client.login(config.discord.token);
      await ready;
      started = true;
      const applicationId = client.application!.id;
      const loc = new CommandLocalizer(i18n);
      const body: RESTPostAPIApplicationCommandsJSONBody[] = commands.map((c) => c.data(loc, services));
      await registerCommands({
        rest: client.rest,
        applicationId,
        guildId: config.discord.guildId,
        commands: body,
        meta: repos.meta,
        logger,
        dmCommands: config.discord.dmCommands,
      });
      const resumed = await tracker.start();
      queue.start(jobs);
      sweeper.start();
      app.httpPort = await http.listen(opts.httpPort ?? config.http.port, config.http.host);
      logger.info(
        {
          user: client.user?.tag,
          commands: commands.map((c) => c.name),
          proxy: { flavor: config.mj.flavor, auth: config.mj.authStyle, callbacks: Boolean(notifyHookUrl) },
          tools: toolProviders(toolCaps(), config.imageIngress),
          httpPort: app.httpPort,
          httpHost: config.http.host,
          shards: [...client.ws.shards.keys()],
          leaseOwner: ownership?.owner ?? 'single process',
          ...describeReach(config.discord),
          startupMs: Math.round(process.uptime() * 1000),
          ...resumed,
        },
        'mj-relay is ready',
      );
      if (!(await repos.meta.get('invite-logged'))) {
        logger.info({ url: inviteUrl(applicationId) }, 'invite the bot to your server with this link');
        await repos.meta.set('invite-logged', true);
      }
    },
    async stop() {
      dispatcher.drain();
      queue.stop();
      await queue.idle();
      await tracker.stop();
      await ownership?.releaseAll(); // the other processes adopt this one's jobs at once instead of after the lease TTL
      await delivery.coalescer.closeAll();
      await http.close().catch(() => undefined);
      media?.clear();
      limiters.closeAll(); // requests still waiting for a PicWish slot are refused, none starts from here on
      await Promise.all([imgOpen?.close(), picwish?.close()].map((p) => p?.catch(() => undefined)));
      if (started) await client.destroy();
      await relay?.close();
      await sweeper.stop();
      await store.close();
      await outbound.close().catch(() => undefined);
      await masks.close();
    },
  };
  return app;
}

/** One secret for the callback URL, shared by every process on the store (created once, atomically on Redis). */
async function hookSecretFrom(meta: { getOrCreate<T>(k: string, make: () => T): Promise<T> }): Promise<string> {
  return meta.getOrCreate('hook-secret', () => randomBytes(24).toString('base64url'));
}
