import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * The one typed configuration object, validated once at start from the environment.
 * Variable names are part of the public contract (README, deployments, tests).
 */

const SECRET_VARS = new Set(['DISCORD_TOKEN', 'MJ_API_SECRET', 'IMGOPEN_ACCESS_KEY_ID', 'IMGOPEN_ACCESS_KEY_SECRET', 'PICWISH_API_KEY']);

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const httpUrl = (example: string) =>
  z
    .string()
    .trim()
    .refine((v) => /^https?:\/\/[^\s/]+/i.test(v), { message: `must be an http(s) URL, e.g. ${example}` })
    .transform((v) => v.replace(/\/+$/, ''));

const optionalHttpUrl = (example: string) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()))
    .pipe(httpUrl(example).optional());

const intInRange = (def: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? String(def) : v.trim()))
    .refine((v) => /^\d+$/.test(v) && Number(v) >= min && Number(v) <= max, {
      message: `must be a whole number from ${min} to ${max}`,
    })
    .transform(Number);

const oneOf = <T extends string>(values: readonly [T, ...T[]], def?: T) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? def : v.trim().toLowerCase()))
    .refine((v) => v === undefined || (values as readonly string[]).includes(v), {
      message: `must be one of: ${values.join(', ')}`,
    })
    .transform((v) => v as T | undefined);

const optionalInt = (max: number) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()))
    .refine((v) => v === undefined || (/^\d+$/.test(v) && Number(v) <= max), { message: `must be a whole number from 0 to ${max}` })
    .transform((v) => (v === undefined ? undefined : Number(v)));

const snowflake = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()))
  .refine((v) => v === undefined || /^\d{17,20}$/.test(v), { message: 'must be a Discord id (17–20 digits)' });

const idList = z
  .string()
  .optional()
  .transform((v) => (v ?? '').split(/[\s,]+/).filter(Boolean))
  .refine((ids) => ids.every((id) => /^\d{17,20}$/.test(id)), { message: 'must be a comma-separated list of Discord ids' });

const storeUrl = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? 'sqlite://./data/mj-relay.sqlite' : v.trim()))
  .refine((v) => /^(sqlite|redis|rediss|postgres|postgresql):\/\//.test(v), {
    message: 'must start with sqlite://, redis:// or postgres://, e.g. sqlite://./data/mj-relay.sqlite',
  });

const patternList = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const out: RegExp[] = [];
    for (const part of (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      try {
        out.push(new RegExp(part));
      } catch {
        ctx.addIssue({ code: 'custom', message: `"${part}" is not a valid regular expression` });
      }
    }
    return out;
  });

const envSchema = z.object({
  DISCORD_TOKEN: z
    .string({ message: 'is required: the bot token from the Discord Developer Portal (Bot → Reset Token)' })
    .trim()
    .min(1, 'is required: the bot token from the Discord Developer Portal (Bot → Reset Token)'),
  DISCORD_GUILD_ID: snowflake,
  /** servers the bot serves: ids, or `*` for every server; unset = DISCORD_GUILD_ID (or every server without it) */
  DISCORD_ALLOWED_GUILDS: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim() === '*' ? ('*' as const) : v.split(/[\s,]+/).filter(Boolean)))
    .refine((v) => v === undefined || v === '*' || v.every((id) => /^\d{17,20}$/.test(id)), {
      message: 'must be a comma-separated list of Discord server ids, or * for every server',
    }),
  DISCORD_DM_COMMANDS: oneOf(['on', 'off'] as const, 'off'),
  DISCORD_API_URL: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? 'https://discord.com/api' : v.trim()))
    .pipe(httpUrl('https://discord.com/api')),

  MJ_BASE_URL: z
    .string({ message: 'is required: where your Midjourney Proxy listens, e.g. http://proxy:8080' })
    .trim()
    .min(1, 'is required: where your Midjourney Proxy listens, e.g. http://proxy:8080')
    .pipe(httpUrl('http://proxy:8080')),
  MJ_API_SECRET: optionalString,
  MJ_AUTH_HEADER: oneOf(['mj-api-secret', 'authorization', 'bearer'] as const, 'mj-api-secret'),
  MJ_FLAVOR: oneOf(['trueai', 'plus', 'novicezk', 'task-form'] as const, 'trueai'),
  MJ_MODE: oneOf(['fast', 'relax', 'turbo'] as const),
  MJ_DISABLED_BUTTONS: patternList,
  MJ_FACE_SWAP: oneOf(['on', 'off'] as const, 'on'),
  /** the Midjourney version the proxy's accounts run when a prompt names none (their /settings), e.g. 7 or 6.1 */
  MJ_DEFAULT_VERSION: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? '7' : v.trim().replace(/^v\s*/i, '')))
    .refine((v) => /^\d{1,2}(\.\d)?$/.test(v), { message: 'must be a Midjourney version number, e.g. 7 or 6.1' }),

  IMGOPEN_BASE_URL: optionalHttpUrl('https://api.zhiqite.com'),
  IMGOPEN_ACCESS_KEY_ID: optionalString,
  IMGOPEN_ACCESS_KEY_SECRET: optionalString,
  PICWISH_BASE_URL: optionalHttpUrl('https://techhk.aoscdn.com'),
  PICWISH_API_KEY: optionalString,
  IMAGE_INGRESS_MODE: oneOf(['discord-url', 'rehost'] as const, 'discord-url'),
  MASK_EDITOR: oneOf(['on', 'off'] as const, 'on'),

  STORE_URL: storeUrl,
  HTTP_PORT: intInRange(8080, 0, 65535),
  // loopback unless told otherwise: /healthz, /metrics and the callback route are not for the whole network
  // (the Docker image sets 0.0.0.0: a container is reached through its published port)
  HTTP_HOST: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? '127.0.0.1' : v.trim().replace(/^\[(.*)\]$/, '$1')))
    .refine((v) => isIP(v) !== 0 || /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(v), {
      message: 'must be an IP address or a host name to listen on, e.g. 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)',
    }),
  PUBLIC_URL: optionalHttpUrl('https://relay.example.com'),
  LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),

  // tuning (optional; defaults are what a server wants)
  POLL_INTERVAL_MS: intInRange(3000, 50, 60_000),
  WEBHOOK_SAFETY_POLL_MS: intInRange(60_000, 100, 3_600_000),
  JOB_TIMEOUT_MS: intInRange(30 * 60_000, 1000, 24 * 3_600_000),
  QUEUE_BACKOFF_MS: intInRange(30_000, 100, 3_600_000),
  PROGRESS_EDIT_INTERVAL_MS: intInRange(3000, 100, 60_000),
  UPSTREAM_TIMEOUT_MS: intInRange(30_000, 200, 300_000),
  DISCORD_CHANNEL_WRITES_PER_5S: intInRange(5, 1, 1000),
  DEFAULT_CONCURRENT_JOBS: intInRange(2, 0, 100),
  BUTTON_ACCESS: oneOf(['owner', 'anyone', 'roles'] as const, 'owner'),
  BUTTON_ROLES: idList,
  DISCORD_WAIT_GUILD_TIMEOUT_MS: intInRange(15_000, 0, 120_000),

  // several processes (Redis store): one gateway shard per process, jobs shared through leases
  SHARD_ID: optionalInt(4095),
  SHARD_COUNT: intInRange(1, 1, 4096),
  LEASE_TTL_MS: intInRange(30_000, 1000, 600_000),
  // how long finished jobs, their buttons and users' recent lists are kept (TTLs on Redis, a periodic sweep elsewhere)
  JOB_RETENTION_DAYS: intInRange(90, 1, 3650),
});

export type RawEnv = z.input<typeof envSchema>;

export interface Config {
  discord: {
    token: string;
    guildId: string | undefined;
    /** the servers whose interactions the bot serves (DISCORD_ALLOWED_GUILDS); undefined = every server */
    allowedGuilds: string[] | undefined;
    /** the server whose rules slash commands in DMs follow: DISCORD_GUILD_ID, else the single allowed server */
    homeGuildId: string | undefined;
    /** slash commands are offered (and served) in the bot's DMs (DISCORD_DM_COMMANDS=on) */
    dmCommands: boolean;
    apiUrl: string;
    waitGuildTimeoutMs: number;
    /** message writes (posts and edits) the bot allows itself per channel per 5 s */
    channelWritesPer5s: number;
    /** the gateway shards this process runs (SHARD_ID), or undefined: all of them */
    shardIds: number[] | undefined;
    /** how many shards the bot has in all (SHARD_COUNT) */
    shardCount: number;
  };
  mj: {
    baseUrl: string;
    secret: string | undefined;
    authStyle: 'mj-api-secret' | 'authorization' | 'bearer';
    flavor: 'trueai' | 'plus' | 'novicezk' | 'task-form';
    mode: 'fast' | 'relax' | 'turbo' | undefined;
    disabledButtons: RegExp[];
    /** offer the proxy's InsightFace swap as a /faceswap engine (MJ_FACE_SWAP, default on where the flavour has it) */
    faceSwap: boolean;
    /** the version a prompt without `--v`/`--niji` runs on (MJ_DEFAULT_VERSION, default 7): decides which parameters fit */
    defaultVersion?: string | undefined;
  };
  imgOpen: { baseUrl: string; accessKeyId: string; accessKeySecret: string } | undefined;
  picwish: { baseUrl: string; apiKey: string } | undefined;
  /** how Img Open gets input images: the fresh Discord attachment URL, or a short-lived URL of the bot's own under PUBLIC_URL */
  imageIngress: 'discord-url' | 'rehost';
  storeUrl: string;
  /**
   * host: the address the HTTP server listens on (HTTP_HOST); maskEditor: the browser mask editor is offered under
   * PUBLIC_URL (MASK_EDITOR=on and PUBLIC_URL set; off keeps the modal, e.g. when only the proxy reaches PUBLIC_URL)
   */
  http: { port: number; host: string; publicUrl: string | undefined; maskEditor: boolean };
  logLevel: string;
  jobs: {
    pollIntervalMs: number;
    webhookSafetyPollMs: number;
    timeoutMs: number;
    /** how long a job waits in the bot's queue after the upstream said its own queue was full (code 23) */
    queueBackOffMs: number;
    progressEditIntervalMs: number;
    /** the longest one upstream HTTP call may take */
    upstreamTimeoutMs: number;
    /** Redis store: how long a process's lease on a job outlives the process (LEASE_TTL_MS) */
    leaseTtlMs: number;
    /** how long a finished job and its buttons are kept (JOB_RETENTION_DAYS); a press on an older button says it expired */
    retentionMs: number;
  };
  buttons: { access: 'owner' | 'anyone' | 'roles'; roles: string[] };
  /** limits of a server whose admin set none (0 = no limit) */
  defaultLimits: { concurrent: number };
  /** every secret value, so logs and messages can be scrubbed of them */
  secrets: string[];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(formatProblems(problems));
    this.name = 'ConfigError';
  }
}

function formatProblems(problems: string[]): string {
  return [
    `mj-relay cannot start: ${problems.length} configuration problem${problems.length === 1 ? '' : 's'}.`,
    ...problems.map((p) => `  - ${p}`),
    'Set these in the environment or in a .env file next to package.json (see .env.example and the README).',
  ].join('\n');
}

/** Validate the environment into a Config, or throw ConfigError listing every problem (values of secrets are never echoed). */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? '?');
      const value = env[name];
      const shown = value === undefined || value === '' || SECRET_VARS.has(name) ? '' : ` (got "${redactUrlCredentials(value).slice(0, 60)}")`;
      problems.push(`${name} ${issue.message}${shown}`);
    }
  }
  // cross-field rules read the raw environment so they are reported together with schema problems
  const has = (k: string) => (env[k] ?? '').trim() !== '';
  if (
    (has('IMGOPEN_ACCESS_KEY_ID') || has('IMGOPEN_ACCESS_KEY_SECRET') || has('IMGOPEN_BASE_URL')) &&
    !(has('IMGOPEN_ACCESS_KEY_ID') && has('IMGOPEN_ACCESS_KEY_SECRET'))
  ) {
    problems.push('IMGOPEN_ACCESS_KEY_ID and IMGOPEN_ACCESS_KEY_SECRET must be set together (face swap via Img Open needs both), or leave all IMGOPEN_* unset');
  }
  if (has('PICWISH_BASE_URL') && !has('PICWISH_API_KEY')) {
    problems.push('PICWISH_API_KEY is required when PICWISH_BASE_URL is set (or unset PICWISH_BASE_URL to disable inpaint and image tools)');
  }
  if ((env.IMAGE_INGRESS_MODE ?? '').trim().toLowerCase() === 'rehost' && !has('PUBLIC_URL')) {
    problems.push('PUBLIC_URL is required when IMAGE_INGRESS_MODE=rehost (Img Open downloads the images from this bot under that address)');
  }
  const allowedList = (env.DISCORD_ALLOWED_GUILDS ?? '').split(/[\s,]+/).filter(Boolean);
  if (has('DISCORD_GUILD_ID') && allowedList.length > 0 && !allowedList.includes('*') && !allowedList.includes((env.DISCORD_GUILD_ID ?? '').trim())) {
    problems.push('DISCORD_ALLOWED_GUILDS must include DISCORD_GUILD_ID (the commands are registered in that server only)');
  }
  if ((env.BUTTON_ACCESS ?? '').trim().toLowerCase() === 'roles' && !has('BUTTON_ROLES')) {
    problems.push('BUTTON_ROLES must list at least one role id when BUTTON_ACCESS=roles');
  }
  if (has('SHARD_ID')) {
    const id = Number((env.SHARD_ID ?? '').trim());
    const count = has('SHARD_COUNT') ? Number((env.SHARD_COUNT ?? '').trim()) : 1;
    if (!(id < count)) problems.push(`SHARD_ID must be below SHARD_COUNT (shards are numbered 0 to SHARD_COUNT-1; got ${env.SHARD_ID} of ${count})`);
    else if (count > 1 && !/^rediss?:\/\//.test((env.STORE_URL ?? '').trim())) {
      problems.push('STORE_URL must be redis://… when SHARD_ID is set: the processes of the other shards share jobs, buttons and settings through it');
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const e = parsed.data;
  const imgOpen =
    e.IMGOPEN_ACCESS_KEY_ID && e.IMGOPEN_ACCESS_KEY_SECRET
      ? { baseUrl: e.IMGOPEN_BASE_URL ?? 'https://api.zhiqite.com', accessKeyId: e.IMGOPEN_ACCESS_KEY_ID, accessKeySecret: e.IMGOPEN_ACCESS_KEY_SECRET }
      : undefined;
  const allowedGuilds = e.DISCORD_ALLOWED_GUILDS === '*' ? undefined : (e.DISCORD_ALLOWED_GUILDS ?? (e.DISCORD_GUILD_ID ? [e.DISCORD_GUILD_ID] : undefined));
  const picwish = e.PICWISH_API_KEY ? { baseUrl: e.PICWISH_BASE_URL ?? 'https://techhk.aoscdn.com', apiKey: e.PICWISH_API_KEY } : undefined;
  return {
    discord: {
      token: e.DISCORD_TOKEN,
      guildId: e.DISCORD_GUILD_ID,
      allowedGuilds,
      homeGuildId: e.DISCORD_GUILD_ID ?? (allowedGuilds?.length === 1 ? allowedGuilds[0] : undefined),
      dmCommands: e.DISCORD_DM_COMMANDS === 'on',
      apiUrl: e.DISCORD_API_URL,
      waitGuildTimeoutMs: e.DISCORD_WAIT_GUILD_TIMEOUT_MS,
      channelWritesPer5s: e.DISCORD_CHANNEL_WRITES_PER_5S,
      shardIds: e.SHARD_ID === undefined ? undefined : [e.SHARD_ID],
      shardCount: e.SHARD_COUNT,
    },
    mj: {
      baseUrl: e.MJ_BASE_URL,
      secret: e.MJ_API_SECRET,
      authStyle: e.MJ_AUTH_HEADER ?? 'mj-api-secret',
      flavor: e.MJ_FLAVOR ?? 'trueai',
      mode: e.MJ_MODE,
      disabledButtons: e.MJ_DISABLED_BUTTONS,
      faceSwap: (e.MJ_FACE_SWAP ?? 'on') === 'on',
      defaultVersion: e.MJ_DEFAULT_VERSION,
    },
    imgOpen,
    picwish,
    imageIngress: e.IMAGE_INGRESS_MODE ?? 'discord-url',
    storeUrl: e.STORE_URL,
    http: { port: e.HTTP_PORT, host: e.HTTP_HOST, publicUrl: e.PUBLIC_URL, maskEditor: Boolean(e.PUBLIC_URL) && e.MASK_EDITOR === 'on' },
    logLevel: e.LOG_LEVEL ?? 'info',
    jobs: {
      pollIntervalMs: e.POLL_INTERVAL_MS,
      webhookSafetyPollMs: e.WEBHOOK_SAFETY_POLL_MS,
      timeoutMs: e.JOB_TIMEOUT_MS,
      queueBackOffMs: e.QUEUE_BACKOFF_MS,
      progressEditIntervalMs: e.PROGRESS_EDIT_INTERVAL_MS,
      upstreamTimeoutMs: e.UPSTREAM_TIMEOUT_MS,
      leaseTtlMs: e.LEASE_TTL_MS,
      retentionMs: e.JOB_RETENTION_DAYS * 24 * 3600_000,
    },
    buttons: { access: e.BUTTON_ACCESS ?? 'owner', roles: e.BUTTON_ROLES },
    defaultLimits: { concurrent: e.DEFAULT_CONCURRENT_JOBS },
    secrets: [
      ...new Set(
        [e.DISCORD_TOKEN, e.MJ_API_SECRET, e.IMGOPEN_ACCESS_KEY_ID, e.IMGOPEN_ACCESS_KEY_SECRET, e.PICWISH_API_KEY, ...urlPasswords(e.STORE_URL)].filter(
          (s): s is string => typeof s === 'string' && s.length > 0,
        ),
      ),
    ],
  };
}

/** `redis://user:pass@host` → `redis://user:***@host`, anywhere in a text (config problems, log lines). */
export function redactUrlCredentials(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s/@:]*):[^\s/@]*@/gi, '$1:***@');
}

/** The password of a URL with credentials, as written and decoded (either may be echoed); none when it has none. */
function urlPasswords(url: string): string[] {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^\s/@:]*:([^\s/@]*)@/i.exec(url);
  if (!m?.[1]) return [];
  let decoded = m[1];
  try {
    decoded = decodeURIComponent(m[1]);
  } catch {
    // not valid percent-encoding: the raw form is the password
  }
  return [decoded, m[1]];
}
