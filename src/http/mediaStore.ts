import { randomBytes } from 'node:crypto';

/**
 * Short-lived images the bot serves itself (IMAGE_INGRESS_MODE=rehost): an upstream that only takes URLs
 * (Img Open) downloads the input from `<PUBLIC_URL>/media/<token>` instead of a Discord CDN URL.
 * In memory only: tokens are unguessable (192 random bits), expire after `ttlMs`, and the oldest entries
 * are dropped when the total passes `maxBytes`. Nothing survives a restart (the vendor fetches at once).
 */

export interface MediaItem {
  bytes: Buffer;
  contentType: string;
}

interface Entry extends MediaItem {
  expiresAt: number;
}

export interface MediaStoreOptions {
  /** base URL the outside world reaches the bot's HTTP server at (PUBLIC_URL) */
  publicUrl: string;
  /** how long a URL stays valid (default 15 min) */
  ttlMs?: number;
  /** memory cap over all entries (default 256 MiB) */
  maxBytes?: number;
  now?: () => number;
}

export const MEDIA_PATH = '/media/';
const TOKEN = /^[A-Za-z0-9_-]{32}$/;
const EXT: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'image/gif': 'gif' };

export class MediaStore {
  private entries = new Map<string, Entry>();
  private total = 0;
  private readonly ttlMs: number;
  private readonly maxBytes: number;
  private readonly now: () => number;
  private readonly base: string;

  constructor(o: MediaStoreOptions) {
    this.base = o.publicUrl.replace(/\/+$/, '');
    this.ttlMs = o.ttlMs ?? 15 * 60_000;
    this.maxBytes = o.maxBytes ?? 256 * 1024 * 1024;
    this.now = o.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Keep the bytes for a while and return the public URL that serves them. */
  put(bytes: Buffer, contentType: string): string {
    this.sweep();
    const token = randomBytes(24).toString('base64url');
    this.entries.set(token, { bytes, contentType, expiresAt: this.now() + this.ttlMs });
    this.total += bytes.length;
    for (const [k, e] of this.entries) {
      if (this.total <= this.maxBytes || k === token) break;
      this.drop(k, e);
    }
    return `${this.base}${MEDIA_PATH}${token}.${EXT[contentType] ?? 'bin'}`;
  }

  /** The item behind a request path's last segment (`<token>` or `<token>.<ext>`), if it is still valid. */
  get(name: string): MediaItem | undefined {
    const token = name.replace(/\.[a-z]{2,4}$/, '');
    if (!TOKEN.test(token)) return undefined;
    const e = this.entries.get(token);
    if (!e) return undefined;
    if (this.now() >= e.expiresAt) {
      this.drop(token, e);
      return undefined;
    }
    return e;
  }

  clear(): void {
    this.entries.clear();
    this.total = 0;
  }

  private sweep(): void {
    const now = this.now();
    for (const [k, e] of this.entries) if (now >= e.expiresAt) this.drop(k, e);
  }

  private drop(key: string, e: Entry): void {
    this.entries.delete(key);
    this.total -= e.bytes.length;
  }
}
