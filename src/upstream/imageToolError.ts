// One typed error for the image-tool upstreams (Img Open, PicWish). Messages are safe to log: they never
// carry keys (scrubbed) or base64 payloads, and vendor text is shortened.

import { scrub } from '../log.js';
import { UpstreamHttpError } from './http.js';

export type ImageToolVendor = 'imgopen' | 'picwish';

export type ImageToolErrorKind =
  | 'auth' // bad key / service not enabled
  | 'credit' // out of credit (Img Open code "402", PicWish HTTP 402 — both unconfirmed)
  | 'rejected' // the request was refused (bad parameter, HTTP 400, other non-200 code)
  | 'rate-limited' // HTTP 429, or our own limiter's queue is full
  | 'unreachable' // network failure, timeout, 5xx, open circuit
  | 'bad-response' // an answer we cannot read
  | 'not-found' // unknown task id / wrong path
  | 'too-large' // input over the vendor's limit (HTTP 413, PicWish state -5)
  | 'invalid-image' // corrupt or unsupported input (PicWish state -7)
  | 'download-failed' // the vendor could not fetch an input URL (PicWish state -3)
  | 'timeout' // the vendor's processing timed out (PicWish state -8) or our deadline passed
  | 'failed' // processing failed (PicWish -1/-2, Img Open failure status)
  | 'moderation' // result blocked by the vendor's content filter
  | 'no-face'; // no usable face in a face-swap input

export interface ImageToolErrorDetails {
  /** HTTP status of the answer, when there was one */
  status?: number | undefined;
  /** vendor code (Img Open envelope `code`) or task state (PicWish `state`), as text */
  code?: string | undefined;
  /** the vendor's own words, sanitised (no keys, no links), ≤ 200 chars */
  reason?: string | undefined;
  /** for rate-limited: how long the vendor asked us to wait */
  retryAfterMs?: number | undefined;
  /** true when the request never left the bot (local validation, limiter queue full / wait aborted) */
  notSent?: boolean | undefined;
}

export class ImageToolError extends Error {
  readonly kind: ImageToolErrorKind;
  readonly vendor: ImageToolVendor;
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly reason: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly notSent: boolean;

  constructor(vendor: ImageToolVendor, kind: ImageToolErrorKind, message: string, details: ImageToolErrorDetails = {}) {
    super(message);
    this.name = 'ImageToolError';
    this.vendor = vendor;
    this.kind = kind;
    this.status = details.status;
    this.code = details.code;
    this.reason = details.reason;
    this.retryAfterMs = details.retryAfterMs;
    this.notSent = details.notSent ?? false;
  }
}

/** Vendor free text → something safe to log and show: secrets and base64 removed, links hidden, one line, short. */
export function cleanVendorText(text: unknown, secrets: readonly string[], max = 200): string | undefined {
  if (text === undefined || text === null) return undefined;
  const s = typeof text === 'string' ? text : JSON.stringify(text);
  const clean = scrub(s, secrets)
    .replace(/https?:\/\/\S+/g, '[link]')
    .replace(/\s+/g, ' ')
    .trim();
  if (!clean) return undefined;
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/** A transport failure from HttpClient as an ImageToolError (its message is already free of secrets). */
export function fromHttpError(vendor: ImageToolVendor, e: unknown, secrets: readonly string[]): ImageToolError {
  if (e instanceof ImageToolError) return e;
  if (e instanceof UpstreamHttpError) {
    const kind: ImageToolErrorKind = e.kind === 'unreachable' ? 'unreachable' : e.kind === 'invalid-request' ? 'rejected' : 'bad-response';
    return new ImageToolError(vendor, kind, `${vendor}: ${scrub(e.message, secrets)}`, {
      status: e.status,
      notSent: e.circuitOpen || e.kind === 'invalid-request',
    });
  }
  const msg = e instanceof Error ? e.message : String(e);
  return new ImageToolError(vendor, 'unreachable', `${vendor}: ${cleanVendorText(msg, secrets) ?? 'request failed'}`);
}

/** Variants of a secret that could show up in a message (raw, URL-encoded). */
export function secretVariants(values: readonly (string | undefined)[]): string[] {
  const out = new Set<string>();
  for (const v of values) {
    if (!v || v.length < 4) continue;
    out.add(v);
    out.add(encodeURIComponent(v));
  }
  return [...out];
}

/** Retry-After (seconds or an HTTP date) → ms; undefined when absent or unreadable. Capped at 60 s. */
export function parseRetryAfter(v: string | undefined, now = Date.now()): number | undefined {
  if (!v) return undefined;
  const t = v.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.min(60_000, Math.round(Number(t) * 1000));
  const at = Date.parse(t);
  if (Number.isNaN(at)) return undefined;
  return Math.min(60_000, Math.max(0, at - now));
}
