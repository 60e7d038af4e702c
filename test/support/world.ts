import { Writable } from 'node:stream';
import { createApp, type App, type AppOptions } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startFakeDiscord, type FakeDiscord, type FakeDiscordOptions } from '../fakes/discord/index.js';
import { startFakeImgOpen, type FakeImgOpen, type FakeImgOpenOptions } from '../fakes/imgOpen/index.js';
import { startFakeMjProxy, type FakeMjProxy, type FakeMjProxyOptions } from '../fakes/mjProxy/index.js';
import { startFakePicwish, type FakePicwish, type FakePicwishOptions } from '../fakes/picwish/index.js';
import { tempDir } from './tmp.js';

export const BOT_TOKEN = 'fake-bot-token.for-tests-only.not-real';
export const PROXY_SECRET = 'fake-proxy-secret-for-tests';

export interface WorldOptions {
  discord?: FakeDiscordOptions;
  proxy?: FakeMjProxyOptions;
  /** also start a fake Img Open and configure the bot for it (IMGOPEN_*) */
  imgOpen?: FakeImgOpenOptions | true;
  /** also start a fake PicWish and configure the bot for it (PICWISH_*) */
  picwish?: FakePicwishOptions | true;
  /** the bot's STORE_URL (default: a SQLite file in a temporary directory), e.g. a test Redis (support/redis.ts) */
  storeUrl?: string;
  /** extra environment for the bot (tuning, flavour, PUBLIC_URL…) */
  env?: Record<string, string>;
  app?: AppOptions;
}

/** Every log line the bot wrote, for assertions (e.g. that no secret leaks). */
export class LogCapture {
  readonly lines: string[] = [];
  readonly stream = new Writable({
    write: (chunk, _enc, cb) => {
      this.lines.push(String(chunk));
      cb();
    },
  });

  text(): string {
    return this.lines.join('');
  }
}

/**
 * The real bot, started against a fake Discord and a fake Midjourney Proxy over loopback, with its own
 * SQLite store in a temporary directory. `restart()` stops the bot and starts a new one on the same store.
 */
export class World {
  app!: App;
  config!: Config;
  readonly logs = new LogCapture();
  /** the bot's clock runs this far ahead of real time (quotas, cooldowns, bans lapse without waiting) */
  clockOffsetMs = 0;

  advanceClock(ms: number): void {
    this.clockOffsetMs += ms;
  }
  private storeDir = tempDir('mj-relay-e2e-');
  /** the fake Img Open, when WorldOptions.imgOpen was given */
  imgOpen?: FakeImgOpen;
  /** the fake PicWish, when WorldOptions.picwish was given */
  picwish?: FakePicwish;

  private constructor(
    readonly discord: FakeDiscord,
    readonly proxy: FakeMjProxy,
    private o: WorldOptions,
  ) {}

  static async start(o: WorldOptions = {}): Promise<World> {
    const world = await World.fakesOnly(o);
    await world.startBot();
    return world;
  }

  /** Only the fakes and the store directory: for tests that run the bot as a separate process (see botProcess.ts). */
  static async fakesOnly(o: WorldOptions = {}): Promise<World> {
    const discord = await startFakeDiscord(o.discord);
    const proxy = await startFakeMjProxy({ secret: PROXY_SECRET, stepMs: 120, ...o.proxy });
    const world = new World(discord, proxy, o);
    if (o.imgOpen) world.imgOpen = await startFakeImgOpen(o.imgOpen === true ? {} : o.imgOpen);
    if (o.picwish) world.picwish = await startFakePicwish(o.picwish === true ? {} : o.picwish);
    return world;
  }

  env(): Record<string, string> {
    return {
      DISCORD_TOKEN: BOT_TOKEN,
      DISCORD_API_URL: this.discord.apiUrl,
      DISCORD_GUILD_ID: this.discord.guild.id,
      DISCORD_WAIT_GUILD_TIMEOUT_MS: '1000',
      MJ_BASE_URL: this.proxy.url,
      MJ_API_SECRET: PROXY_SECRET,
      MJ_FLAVOR: this.o.proxy?.flavor ?? 'trueai',
      MJ_AUTH_HEADER: this.o.proxy?.authStyle ?? 'mj-api-secret',
      STORE_URL: this.o.storeUrl ?? `sqlite://${this.storeDir.dir}/store.sqlite`,
      HTTP_PORT: '0',
      LOG_LEVEL: 'debug',
      POLL_INTERVAL_MS: '200',
      // tests run many jobs per member; the community tests set their limits explicitly
      DEFAULT_CONCURRENT_JOBS: '0',
      // the real per-channel write budget only where the fake enforces Discord's limits; elsewhere tests stay fast
      ...(this.o.discord?.rateLimits ? {} : { DISCORD_CHANNEL_WRITES_PER_5S: '200' }),
      ...(this.imgOpen
        ? {
            IMGOPEN_BASE_URL: this.imgOpen.url,
            IMGOPEN_ACCESS_KEY_ID: this.imgOpen.opts.accessKeyId,
            IMGOPEN_ACCESS_KEY_SECRET: this.imgOpen.opts.accessKeySecret,
          }
        : {}),
      ...(this.picwish ? { PICWISH_BASE_URL: this.picwish.url, PICWISH_API_KEY: this.picwish.opts.apiKeys[0] ?? '' } : {}),
      ...this.o.env,
    };
  }

  async startBot(extraEnv: Record<string, string> = {}): Promise<App> {
    this.config = loadConfig({ ...this.env(), ...extraEnv });
    // the product's own logger setup (redaction and secret scrubbing included), writing to memory
    const logger = createLogger({ level: 'debug', secrets: this.config.secrets, destination: this.logs.stream, pretty: false });
    this.app = await createApp(this.config, { logger, httpPort: 0, now: () => Date.now() + this.clockOffsetMs, ...this.o.app });
    await this.app.start();
    return this.app;
  }

  async stopBot(): Promise<void> {
    await this.app.stop();
  }

  async restart(extraEnv: Record<string, string> = {}): Promise<App> {
    await this.stopBot();
    return this.startBot(extraEnv);
  }

  async close(): Promise<void> {
    if (this.app) await this.app.stop().catch(() => undefined);
    await this.discord.close();
    await this.proxy.close();
    await this.imgOpen?.close();
    await this.picwish?.close();
    this.storeDir.cleanup();
  }
}
