import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import type { Provider } from '../jobs/model.js';
import { MEDIA_PATH, type MediaItem } from './mediaStore.js';
import { callbackButtons } from './callbackButtons.js';
import type { MjButton } from '../upstream/mjTypes.js';

export const HOOK_BODY_LIMIT = 256 * 1024;

/**
 * How long a client may take and how many may be connected at once. Node checks the header and request
 * timeouts only every `connectionsCheckingInterval` (30 s by default), so that interval is short too:
 * without it a silent or dribbling connection is held ~30 s whatever headersTimeout says.
 */
export interface HttpLimits {
  /** the whole request head must arrive within this (silent and dribbling connections included) */
  headersTimeoutMs: number;
  /** the whole request, body included (callback bodies are at most HOOK_BODY_LIMIT) */
  requestTimeoutMs: number;
  /** an idle keep-alive connection is closed after this (Node adds up to 1 s) */
  keepAliveTimeoutMs: number;
  /** how often the timeouts above are checked: they hold to within this */
  checkIntervalMs: number;
  /** connections beyond this are closed as they arrive */
  maxConnections: number;
}

export const HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  checkIntervalMs: 1_000,
  maxConnections: 256,
};

export interface HttpDeps {
  logger: Logger;
  /** per-deployment secret that must appear in the callback path */
  hookSecret: string;
  /** a callback names an upstream task: a hint to poll it (soon, or at once when it claims to be over); false for unknown tasks */
  nudge(provider: Provider, upstreamId: string, final: boolean, carried?: { buttons?: MjButton[] | undefined }): boolean;
  health(): Promise<{ ok: boolean; checks: Record<string, unknown> }>;
  metrics?(): Promise<{ contentType: string; body: string }>;
  /** short-lived input images served to upstreams that only take URLs (IMAGE_INGRESS_MODE=rehost) */
  media?: { get(name: string): MediaItem | undefined };
  /** the mask editor's pages, picture and submit under `/editor/` (with PUBLIC_URL; src/http/editor/routes.ts) */
  editor?: { handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> };
  /** default HTTP_LIMITS */
  limits?: Partial<HttpLimits>;
}

/**
 * The bot's own HTTP endpoint: upstream callbacks (`POST /hooks/<provider>/<secret>`), `/healthz`, `/metrics`.
 * With IMAGE_INGRESS_MODE=rehost also `GET /media/<token>`: input images for Img Open, short-lived and unguessable.
 * Callbacks are hints only: the body is never trusted (the task is re-fetched before anything changes),
 * requests without the secret are refused, bodies are capped, and the answer is immediate.
 */
export class HttpServer {
  private server: Server;
  readonly stats = { hooksAccepted: 0, hooksRejected: 0, connectionsDropped: 0 };
  private lastDropWarning = 0;

  constructor(private d: HttpDeps) {
    const limits = { ...HTTP_LIMITS, ...d.limits };
    this.server = createServer(
      {
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        connectionsCheckingInterval: limits.checkIntervalMs,
      },
      (req, res) => {
        this.route(req, res).catch((err) => {
          d.logger.error({ err }, 'http handler failed');
          if (!res.headersSent) send(res, 500, { error: 'internal' });
        });
      },
    );
    this.server.maxConnections = limits.maxConnections;
    this.server.on('drop', () => this.dropped(limits.maxConnections));
  }

  /** A connection over the cap was closed on arrival: counted, and said in the log at most once a minute. */
  private dropped(max: number): void {
    this.stats.connectionsDropped++;
    if (Date.now() - this.lastDropWarning < 60_000) return;
    this.lastDropWarning = Date.now();
    this.d.logger.warn(
      { maxConnections: max, droppedSoFar: this.stats.connectionsDropped },
      'HTTP connection cap reached: new connections are closed until some finish',
    );
  }

  async listen(port: number, host = '127.0.0.1'): Promise<number> {
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
    const url = requestTarget(req.url);
    if (!url) {
      // a malformed target is the client's mistake: a 400, and no error log an attacker could fill
      req.resume();
      send(res, 400, { error: 'bad request target' });
      return;
    }
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
      res.writeHead(200, {
        'content-type': item.contentType,
        'content-length': item.bytes.length,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      });
      res.end(req.method === 'HEAD' ? undefined : item.bytes);
      return;
    }
    if (this.d.editor && (await this.d.editor.handle(req, res, url))) return;
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
    const hint = hintOf(body, provider);
    // answer at once; whatever the body says is only a reason to look
    send(res, 200, { code: '200' });
    if (!hint) {
      this.stats.hooksRejected++;
      return;
    }
    if (this.d.nudge(provider, hint.id, hint.final, hint.buttons ? { buttons: hint.buttons } : undefined)) this.stats.hooksAccepted++;
    else this.stats.hooksRejected++;
  }
}

/**
 * The path and query of an origin-form request target (`/path?query`), or undefined when it is malformed.
 * Parsed against a fixed origin, so a target such as `//evil.example/healthz` is a path, never a host.
 */
export function requestTarget(raw: string | undefined): URL | undefined {
  // origin-form only, and every % starts a valid escape (RFC 3986 pct-encoded): `GET //%zz` is malformed
  if (!raw || !raw.startsWith('/') || /%(?![0-9a-f]{2})/i.test(raw)) return undefined;
  try {
    return new URL(`http://localhost${raw}`);
  } catch {
    return undefined;
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The task a callback names, and whether it claims the task is over (decides how soon we look; never trusted);
 * for the Midjourney Proxy also the buttons it carries (used only when the re-fetched task names none).
 */
function hintOf(body: Buffer, provider: Provider): { id: string; final: boolean; buttons?: MjButton[] | undefined } | undefined {
  try {
    const json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    const data = (json.data ?? {}) as Record<string, unknown>;
    const id = json.id ?? json.taskId ?? json.task_id ?? json.businessTaskId ?? data.task_id ?? data.businessTaskId;
    if (typeof id !== 'string' && typeof id !== 'number') return undefined;
    const status = String(json.status ?? data.status ?? data.state ?? '');
    const final = /^(SUCCESS|FAILURE|CANCEL|1|-\d+)$/.test(status) || !status;
    return { id: String(id).slice(0, 100), final, ...(provider === 'mj' ? { buttons: callbackButtons(json) } : {}) };
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
