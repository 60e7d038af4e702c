import { randomBytes } from 'node:crypto';
import { Client, Events, GatewayIntentBits, type RESTPostAPIApplicationCommandsJSONBody } from 'discord.js';
import { allCommands } from '../commands/index.js';
import type { Config } from './config.js';
import { Delivery, type ImageFetcher } from './discord/delivery.js';
import { Dispatcher } from './discord/dispatcher.js';
import type { Command, ComponentRoute } from './discord/interactionKit.js';
import { Messenger } from './discord/messenger.js';
import { mjButtonRoutes } from './discord/mjButtons.js';
import { CommandLocalizer, registerCommands } from './discord/registry.js';
import { Renderer } from './discord/renderer.js';
import { HttpServer } from './http/server.js';
import { createI18n } from './i18n/index.js';
import { sniffImage } from './images/sniff.js';
import { describeMjError, MjProvider } from './jobs/mjProvider.js';
import type { Provider } from './jobs/model.js';
import type { ProviderAdapter } from './jobs/provider.js';
import { JobService } from './jobs/service.js';
import { Tracker } from './jobs/tracker.js';
import { createLogger, type Logger } from './log.js';
import { layoutButtons, mapButtons } from './mj/buttons.js';
import type { Services } from './services.js';
import { openKvStore, type KvStore } from './store/keyvStore.js';
import { createRepositories } from './store/repositories.js';
import { downloadBytes } from './upstream/http.js';
import { MjProxyClient } from './upstream/mjProxy.js';

/** Permissions the bot needs in a channel: View Channel, Send Messages, Send Messages in Threads, Embed Links, Attach Files, Read Message History. */
export const REQUIRED_PERMISSIONS = (1n << 10n) | (1n << 11n) | (1n << 38n) | (1n << 14n) | (1n << 15n) | (1n << 16n);

export function inviteUrl(applicationId: string): string {
  return `https://discord.com/oauth2/authorize?client_id=${applicationId}&scope=bot%20applications.commands&permissions=${REQUIRED_PERMISSIONS}`;
}

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
  const repos = createRepositories(store);

  const hookSecret = await hookSecretFrom(repos.meta);
  const notifyHookUrl = config.http.publicUrl ? `${config.http.publicUrl}/hooks/mj/${hookSecret}` : undefined;

  const mj = new MjProxyClient({
    baseUrl: config.mj.baseUrl,
    flavor: config.mj.flavor,
    authStyle: config.mj.authStyle,
    secret: config.mj.secret,
    defaultMode: config.mj.mode,
    notifyHookUrl,
    disabledButtonPatterns: config.mj.disabledButtons,
    timeouts: { headersMs: config.jobs.upstreamTimeoutMs, bodyMs: config.jobs.upstreamTimeoutMs, totalMs: config.jobs.upstreamTimeoutMs },
    logger: logger.child({ upstream: 'mj' }),
  });

  const client = new Client({
    intents: [GatewayIntentBits.Guilds],
    rest: { api: config.discord.apiUrl },
    waitGuildTimeout: config.discord.waitGuildTimeoutMs,
  });
  const messenger = new Messenger(client.rest);
  const renderer = new Renderer(i18n);

  const fetchImage: ImageFetcher = async (url, maxBytes) => {
    const data = await downloadBytes(url, { maxBytes, timeoutMs: 60_000 });
    const info = sniffImage(data);
    if (!info) throw Object.assign(new Error('the upstream result is not an image'), { kind: 'not-image' });
    return { data, contentType: info.mime, ext: info.ext };
  };

  const delivery = new Delivery({
    messenger,
    repos,
    renderer,
    i18n,
    logger: logger.child({ part: 'delivery' }),
    fetchImage,
    planButtons: (job) => (job.provider === 'mj' ? layoutButtons(mapButtons(job.result?.buttons, { flavor: config.mj.flavor, disabled: config.mj.disabledButtons })) : []),
    progressIntervalMs: config.jobs.progressEditIntervalMs,
    now,
  });

  const providers = new Map<Provider, ProviderAdapter>([['mj', new MjProvider(mj, { flavor: config.mj.flavor, logger })]]);
  const tracker = new Tracker({
    repos,
    providers,
    sink: delivery,
    logger: logger.child({ part: 'tracker' }),
    pollIntervalMs: config.jobs.pollIntervalMs,
    safetyPollMs: notifyHookUrl ? config.jobs.webhookSafetyPollMs : undefined,
    now,
  });
  const jobs = new JobService({ repos, tracker, delivery, logger: logger.child({ part: 'jobs' }), timeoutMs: config.jobs.timeoutMs, now, describeError: describeMjError });

  const services: Services = {
    config,
    logger,
    i18n,
    store,
    repos,
    mj,
    jobs,
    tracker,
    delivery,
    messenger,
    renderer,
    download: (url, maxBytes) => downloadBytes(url, { maxBytes, timeoutMs: 30_000 }),
    now,
  };

  const commands = [...allCommands, ...(opts.commands ?? [])].filter((c) => c.enabled?.(services) ?? true);
  const routes: ComponentRoute[] = [...mjButtonRoutes()];
  const dispatcher = new Dispatcher(services, commands, routes);
  client.on(Events.InteractionCreate, (interaction) => void dispatcher.handle(interaction));
  client.on(Events.Error, (err) => logger.error({ err }, 'discord client error'));
  client.rest.on('rateLimited', (info) => logger.debug({ route: info.route, retryAfter: info.retryAfter, global: info.global }, 'discord rate limit'));

  const http = new HttpServer({
    logger: logger.child({ part: 'http' }),
    hookSecret,
    nudge: (provider, id) => tracker.nudge(provider, id),
    health: async () => {
      const storeOk = await store.check();
      const gateway = client.ws.status === 0;
      const upstream = mj.circuitState();
      return { ok: storeOk && gateway, checks: { gateway, store: storeOk, upstream, inFlightJobs: tracker.size } };
    },
  });

  let started = false;
  const app: App = {
    services,
    client,
    dispatcher,
    http,
    httpPort: 0,
    async start() {
      const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
      await client.login(config.discord.token);
      await ready;
      started = true;
      const applicationId = client.application!.id;
      const loc = new CommandLocalizer(i18n);
      const body: RESTPostAPIApplicationCommandsJSONBody[] = commands.map((c) => c.data(loc));
      await registerCommands({ rest: client.rest, applicationId, guildId: config.discord.guildId, commands: body, meta: repos.meta, logger });
      const resumed = await tracker.start();
      app.httpPort = await http.listen(opts.httpPort ?? config.http.port);
      logger.info(
        {
          user: client.user?.tag,
          commands: commands.map((c) => c.name),
          proxy: { flavor: config.mj.flavor, auth: config.mj.authStyle, callbacks: Boolean(notifyHookUrl) },
          faceSwapImgOpen: Boolean(config.imgOpen),
          inpaintPicwish: Boolean(config.picwish),
          httpPort: app.httpPort,
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
      await tracker.stop();
      await delivery.coalescer.closeAll();
      await http.close().catch(() => undefined);
      if (started) await client.destroy();
      await store.close();
    },
  };
  return app;
}

async function hookSecretFrom(meta: { get<T>(k: string): Promise<T | undefined>; set(k: string, v: unknown): Promise<void> }): Promise<string> {
  const existing = await meta.get<string>('hook-secret');
  if (existing) return existing;
  const secret = randomBytes(24).toString('base64url');
  await meta.set('hook-secret', secret);
  return secret;
}
