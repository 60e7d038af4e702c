import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import type { Provider } from '../jobs/model.js';
import { MEDIA_PATH, type MediaItem } from './mediaStore.js';

export const HOOK_BODY_LIMIT = 256 * 1024;

export interface HttpDeps {
  logger: Logger;
  /** per-deployment secret that must appear in the callback path */
  hookSecret: string;
  /** a callback names an upstream task: a hint to poll it (soon, or at once when it claims to be over); false for unknown tasks */
  nudge(provider: Provider, upstreamId: string, final: boolean): boolean;
  health(): Promise<{ ok: boolean; checks: Record<string, unknown> }>;
  metrics?(): Promise<{ contentType: string; body: string }>;
  /** short-lived input images served to upstreams that only take URLs (IMAGE_INGRESS_MODE=rehost) */
  media?: { get(name: string): MediaItem | undefined };
}

/**
 * The bot's own HTTP endpoint: upstream callbacks (`POST /hooks/<provider>/<secret>`), `/healthz`, `/metrics`.
 * With IMAGE_INGRESS_MODE=rehost also `GET /media/<token>`: input images for Img Open, short-lived and unguessable.
 * Callbacks are hints only: the body is never trusted (the task is re-fetched before anything changes),
 * requests without the secret are refused, bodies are capped, and the answer is immediate.
 */
export class HttpServer {
  private server: Server;
  readonly stats = { hooksAccepted: 0, hooksRejected: 0 };

  constructor(private d: HttpDeps) {
    this.server = createServer((req, res) => {
      this.route(req, res).catch((err) => {
        d.logger.error({ err }, 'http handler failed');
        if (!res.headersSent) send(res, 500, { error: 'internal' });
      });
    });
    this.server.requestTimeout = 10_000;
    this.server.headersTimeout = 5_000;
  }

  async listen(port: number, host = '0.0.0.0'): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/healthz') {
      const h = await this.d.health();
      send(res, h.ok ? 200 : 503, h);
      return;
    }
    if (req.method === 'GET' && url.pathname === '/metrics' && this.d.metrics) {
      const m = await this.d.metrics();
      res.writeHead(200, { 'content-type': m.contentType });
      res.end(m.body);
      return;
    }
    if ((req.method === 'GET' || req.method === 'HEAD') && this.d.media && url.pathname.startsWith(MEDIA_PATH)) {
      const item = this.d.media.get(url.pathname.slice(MEDIA_PATH.length));
      if (!item) return send(res, 404, { error: 'not found' });
      res.writeHead(200, { 'content-type': item.contentType, 'content-length': item.bytes.length, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      res.end(req.method === 'HEAD' ? undefined : item.bytes);
      return;
    }
    const hook = /^\/hooks\/(mj|imgopen|picwish)\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'POST' && hook) {
      await this.callback(req, res, hook[1] as Provider, hook[2]!);
      return;
    }
    send(res, 404, { error: 'not found' });
  }

  private async callback(req: IncomingMessage, res: ServerResponse, provider: Provider, secret: string): Promise<void> {
    if (!sameSecret(secret, this.d.hookSecret)) {
      this.stats.hooksRejected++;
      req.resume();
      send(res, 403, { error: 'forbidden' });
      return;
    }
    const body = await readCapped(req, HOOK_BODY_LIMIT);
    if (body === null) {
      this.stats.hooksRejected++;
      send(res, 413, { error: 'too large' });
      return;
    }
    const hint = hintOf(body);
    // answer at once; whatever the body says is only a reason to look
    send(res, 200, { code: '200' });
    if (!hint) {
      this.stats.hooksRejected++;
      return;
    }
    if (this.d.nudge(provider, hint.id, hint.final)) this.stats.hooksAccepted++;
    else this.stats.hooksRejected++;
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The task a callback names, and whether it claims the task is over (decides how soon we look; never trusted). */
function hintOf(body: Buffer): { id: string; final: boolean } | undefined {
  try {
    const json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    const data = (json.data ?? {}) as Record<string, unknown>;
    const id = json.id ?? json.taskId ?? json.task_id ?? json.businessTaskId ?? data.task_id ?? data.businessTaskId;
    if (typeof id !== 'string' && typeof id !== 'number') return undefined;
    const status = String(json.status ?? data.status ?? data.state ?? '');
    const final = /^(SUCCESS|FAILURE|CANCEL|1|-\d+)$/.test(status) || !status;
    return { id: String(id).slice(0, 100), final };
  } catch {
    return undefined;
  }
}

async function readCapped(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.destroy();
      return null;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
