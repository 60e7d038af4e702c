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

/** Secrets shorter than this are not scrubbed (they would blank out ordinary words); config values are longer. */
const MIN_SECRET_LENGTH = 4;

const formsCache = new WeakMap<readonly string[], { size: number; first: string | undefined; last: string | undefined; forms: string[] }>();

/**
 * Every form a secret can take in text — as is, URL-encoded (in a URL or query), JSON-escaped (inside a log
 * line) — longest first, so a secret that contains another is replaced whole. Cached per list while it is unchanged.
 */
export function secretForms(secrets: readonly string[]): string[] {
  const cached = formsCache.get(secrets);
  if (cached && cached.size === secrets.length && cached.first === secrets[0] && cached.last === secrets[secrets.length - 1]) return cached.forms;
  const forms = new Set<string>();
  for (const s of secrets) {
    if (!s || s.length < MIN_SECRET_LENGTH) continue;
    forms.add(s);
    forms.add(encodeURIComponent(s));
    forms.add(JSON.stringify(s).slice(1, -1));
  }
  const sorted = [...forms].sort((a, b) => b.length - a.length);
  formsCache.set(secrets, { size: secrets.length, first: secrets[0], last: secrets[secrets.length - 1], forms: sorted });
  return sorted;
}

/** Strip base64 payloads and any of the given secret strings (in any of their forms) out of free text (error messages, upstream bodies). */
export function scrub(text: string, secrets: readonly string[] = []): string {
  let out = text
    .replace(DATA_URL, (m) => `${m.slice(0, m.indexOf(',') + 1)}[${m.length} chars]`)
    // interaction tokens travel in Discord webhook/callback URLs
    .replace(/\/(webhooks|interactions)\/(\d+)\/[A-Za-z0-9_.-]{20,}/g, '/$1/$2/[token]');
  for (const s of secretForms(secrets)) {
    if (out.includes(s)) out = out.split(s).join('[redacted]');
  }
  return out;
}

export interface LoggerOptions {
  level?: string;
  /**
   * secret values that must never appear in a log line, whatever field they hide in; read at every write, so
   * secrets created at run time and added to this list (the callback secret) are scrubbed too
   */
  secrets?: readonly string[];
  /** force pretty (terminal) output; default: when stdout is a TTY */
  pretty?: boolean;
  destination?: DestinationStream;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const secrets = opts.secrets ?? [];
  const pretty = opts.pretty ?? (process.stdout.isTTY === true && !opts.destination);
  const base = {
    level: opts.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // last line of defence: a secret echoed back inside any string field is scrubbed at serialisation
    hooks: { streamWrite: (s: string) => (secrets.length ? scrub(s, secrets) : s) },
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
