import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Paths whose values are replaced by "[redacted]". pino's redaction is path based; wildcards cover one level.
 * Secrets are also kept out of log calls by construction (config values are never logged as a whole).
 */
export const REDACT_PATHS = [
  'token',
  '*.token',
  'secret',
  '*.secret',
  'apiKey',
  '*.apiKey',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'Authorization',
  '*.Authorization',
  'headers.authorization',
  'headers["mj-api-secret"]',
  'headers["x-api-key"]',
  'headers["X-API-KEY"]',
  'headers["X-Request-req-accessKeyId"]',
  'headers["X-Request-req-accessKeySecret"]',
  '*.headers.authorization',
  '*.headers["mj-api-secret"]',
  'req.headers.authorization',
  'base64',
  '*.base64',
  'base64Array',
  '*.base64Array',
  'maskBase64',
  '*.maskBase64',
  'sourceBase64',
  '*.sourceBase64',
  'targetBase64',
  '*.targetBase64',
  'image_file',
  'mask_file',
];

const DATA_URL = /data:[a-z]+\/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=]{16,}/gi;

/** Strip base64 payloads and any of the given secret strings out of free text (error messages, upstream bodies). */
export function scrub(text: string, secrets: readonly string[] = []): string {
  let out = text
    .replace(DATA_URL, (m) => `${m.slice(0, m.indexOf(',') + 1)}[${m.length} chars]`)
    // interaction tokens travel in Discord webhook/callback URLs
    .replace(/\/(webhooks|interactions)\/(\d+)\/[A-Za-z0-9_.-]{20,}/g, '/$1/$2/[token]');
  for (const s of secrets) {
    if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  }
  return out;
}

export interface LoggerOptions {
  level?: string;
  /** secret values that must never appear in a log line, whatever field they hide in */
  secrets?: readonly string[];
  /** force pretty (terminal) output; default: when stdout is a TTY */
  pretty?: boolean;
  destination?: DestinationStream;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const secrets = (opts.secrets ?? []).filter((s) => s && s.length >= 4);
  const pretty = opts.pretty ?? (process.stdout.isTTY === true && !opts.destination);
  const base = {
    level: opts.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // last line of defence: a secret echoed back inside any string field is scrubbed at serialisation
    hooks: secrets.length
      ? {
          streamWrite: (s: string) => scrub(s, secrets),
        }
      : {},
    serializers: {
      err: (e: unknown) => serializeError(e, secrets),
    },
  };
  if (pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss' } } });
  }
  return opts.destination ? pino(base, opts.destination) : pino(base);
}

function serializeError(e: unknown, secrets: readonly string[]): Record<string, unknown> {
  if (!(e instanceof Error)) return { message: scrub(String(e), secrets) };
  const out: Record<string, unknown> = { type: e.name, message: scrub(e.message, secrets) };
  if (e.stack) out.stack = scrub(e.stack, secrets);
  const extra = e as unknown as Record<string, unknown>;
  for (const k of ['code', 'status', 'kind', 'details', 'method', 'url']) {
    if (extra[k] !== undefined) out[k] = typeof extra[k] === 'string' ? scrub(extra[k] as string, secrets) : extra[k];
  }
  return out;
}
