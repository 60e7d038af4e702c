import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolveLocale } from '../../i18n/index.js';
import type { I18n } from '../../i18n/index.js';
import { IMAGE_BUDGETS } from '../../images/budgets.js';
import type { Logger } from '../../log.js';
import { editorAsset } from './assets.js';
import { ASSET_PATH, EDITOR_PATH, editorPage, notUsablePage, PAGE_HEADERS } from './page.js';
import { EditorSessions, type EditorSession } from './sessions.js';
import { TokenRateLimit } from './rateLimit.js';

/**
 * The mask editor's HTTP routes under PUBLIC_URL/editor/:
 *   GET  /editor/<token>          the page (or a page saying why the link does not work)
 *   GET  /editor/<token>/image    the picture, through the token only
 *   POST /editor/<token>/submit   the drawn mask (JSON: base64 PNG and the prompt), continued by the backend
 *   GET  /editor/assets/<file>    the page's script, style sheet and pure logic module
 * The first browser to open a link gets a cookie bound to it; any other browser is told the link is someone else's.
 * Bodies are capped, each token has a request budget, and the page's Content-Security-Policy is strict.
 */

/** What the routes need from the bot (src/discord/flows/maskEditor.ts): no Discord type crosses this line. */
export interface EditorBackend {
  /** the member's language for this session (server override, else the member's client) */
  locale(s: EditorSession): Promise<string>;
  image(s: EditorSession): Promise<{ bytes: Buffer; mime: string }>;
  submit(s: EditorSession, mask: { png: Buffer; prompt?: string | undefined }): Promise<{ ok: boolean; message: string }>;
}

export interface EditorRoutesDeps {
  sessions: EditorSessions;
  backend: EditorBackend;
  i18n: I18n;
  logger: Logger;
  /** PUBLIC_URL: a submit must come from this origin; the cookie is Secure when it is https */
  publicUrl: string;
  /** the prompt box's limit (a modal's) */
  maxPromptLength?: number;
  limits?: Partial<EditorLimits>;
}

export interface EditorLimits {
  /** submits per token per minute */
  submitsPerMinute: number;
  /** requests of any kind per token per minute */
  requestsPerMinute: number;
  /** the JSON body of a submit: the mask budget in base64, plus the prompt */
  maxBodyBytes: number;
  /** pictures kept in memory for the pages open on this process */
  imageCacheBytes: number;
}

export const EDITOR_LIMITS: EditorLimits = {
  submitsPerMinute: 6,
  requestsPerMinute: 60,
  maxBodyBytes: Math.ceil((IMAGE_BUDGETS.mask.maxBytes * 4) / 3) + 64 * 1024,
  imageCacheBytes: 64 * 1024 * 1024,
};

const COOKIE = 'mjr_editor';
const ROUTE = /^\/editor\/([A-Za-z0-9_-]{1,64})(\/image|\/submit)?$/;

export class EditorRoutes {
  private readonly limits: EditorLimits;
  private readonly rate: TokenRateLimit;
  private readonly submits: TokenRateLimit;
  private readonly images = new Map<string, { bytes: Buffer; mime: string; until: number }>();
  private imageBytes = 0;
  private readonly origin: string;
  private readonly secure: boolean;

  constructor(private readonly d: EditorRoutesDeps) {
    this.limits = { ...EDITOR_LIMITS, ...d.limits };
    this.rate = new TokenRateLimit(this.limits.requestsPerMinute, 60_000);
    this.submits = new TokenRateLimit(this.limits.submitsPerMinute, 60_000);
    const url = new URL(d.publicUrl);
    this.origin = url.origin;
    this.secure = url.protocol === 'https:';
  }

  /** Whether the request is the editor's (then it has been answered). */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    if (!url.pathname.startsWith(EDITOR_PATH)) return false;
    if (url.pathname.startsWith(ASSET_PATH)) {
      await this.asset(req, res, url.pathname.slice(ASSET_PATH.length));
      return true;
    }
    const m = ROUTE.exec(url.pathname);
    if (!m) return false;
    const token = m[1]!;
    const what = m[2] ?? '';
    if (!this.rate.take(token)) {
      req.resume();
      sendJson(res, 429, { ok: false, message: this.d.i18n.t(this.acceptLocale(req), 'editor.page.tooMany') }, { 'retry-after': '60' });
      return true;
    }
    if (what === '/submit' && req.method === 'POST') await this.submit(req, res, token);
    else if (what === '/image' && (req.method === 'GET' || req.method === 'HEAD')) await this.image(req, res, token);
    else if (what === '' && (req.method === 'GET' || req.method === 'HEAD')) await this.page(req, res, token);
    else {
      req.resume();
      sendJson(res, 405, { ok: false, message: 'method not allowed' });
    }
    return true;
  }

  private async asset(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    const asset = req.method === 'GET' || req.method === 'HEAD' ? editorAsset(name) : undefined;
    if (!asset) {
      req.resume();
      sendJson(res, 404, { ok: false, message: 'not found' });
      return;
    }
    const { body, contentType } = await asset;
    res.writeHead(200, { ...PAGE_HEADERS, 'content-type': contentType, 'content-length': body.length, 'cache-control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  /** The editor page, binding the link to this browser when it is the first to open it. */
  private async page(req: IncomingMessage, res: ServerResponse, token: string): Promise<void> {
    const found = await this.d.sessions.open(token);
    if (!found.ok) return this.notUsable(req, res, found.why === 'unknown' ? 'invalid' : found.why);
    const s = found.session;
    const lang = await this.d.backend.locale(s);
    const headers: Record<string, string> = {};
    const browser = this.d.sessions.browserOf(s, cookieOf(req));
    if (browser === 'stranger') return this.notUsable(req, res, 'foreign', lang);
    if (browser === 'first') {
      const cookie = randomBytes(24).toString('base64url');
      await this.d.sessions.bindBrowser(token, s, cookie);
      const maxAge = Math.max(1, Math.ceil((s.expiresAt - Date.now()) / 1000));
      headers['set-cookie'] = `${COOKIE}=${cookie}; Path=${EDITOR_PATH}${token}; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${this.secure ? '; Secure' : ''}`;
    }
    const t = (key: string) => this.d.i18n.t(lang, key);
    const html = editorPage(
      { token, lang, flow: s.flow, width: s.width, height: s.height, prompt: s.prompt, maxPromptLength: this.d.maxPromptLength ?? 4000 },
      t,
    );
    sendHtml(res, 200, html, headers);
  }

  private async image(req: IncomingMessage, res: ServerResponse, token: string): Promise<void> {
    const s = await this.usable(req, res, token);
    if (!s) return;
    let img = this.images.get(token);
    if (!img || img.until <= Date.now()) {
      try {
        const fetched = await this.d.backend.image(s);
        img = { ...fetched, until: s.expiresAt };
        this.keepImage(token, img);
      } catch (err) {
        this.d.logger.warn({ err, flow: s.flow }, 'mask editor: the picture could not be fetched');
        sendJson(res, 502, { ok: false, message: 'image unavailable' });
        return;
      }
    }
    res.writeHead(200, { ...PAGE_HEADERS, 'content-type': img.mime, 'content-length': img.bytes.length });
    res.end(req.method === 'HEAD' ? undefined : img.bytes);
  }

  /** A submit: read (capped), checked, held against a second submit, continued by the backend, then the link is spent. */
  private async submit(req: IncomingMessage, res: ServerResponse, token: string): Promise<void> {
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== this.origin) {
      req.resume();
      sendJson(res, 403, { ok: false, message: 'forbidden' });
      return;
    }
    const lang0 = this.acceptLocale(req);
    if (!this.submits.take(token)) {
      req.resume();
      sendJson(res, 429, { ok: false, message: this.d.i18n.t(lang0, 'editor.page.tooMany') }, { 'retry-after': '60' });
      return;
    }
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      req.resume();
      sendJson(res, 415, { ok: false, message: this.d.i18n.t(lang0, 'editor.page.badRequest') });
      return;
    }
    const body = await readCapped(req, this.limits.maxBodyBytes);
    if (body === null) {
      sendJson(res, 413, { ok: false, message: this.d.i18n.t(lang0, 'editor.page.tooLarge') });
      return;
    }
    const s = await this.usable(req, res, token, true);
    if (!s) return;
    const lang = await this.d.backend.locale(s);
    const input = parseSubmit(body, this.d.maxPromptLength ?? 4000);
    if (!input) {
      sendJson(res, 400, { ok: false, message: this.d.i18n.t(lang, 'editor.page.badRequest') });
      return;
    }
    const hold = await this.d.sessions.hold(token);
    if (!hold) {
      sendJson(res, 409, { ok: false, message: this.d.i18n.t(lang, 'editor.page.busy') });
      return;
    }
    try {
      // read again under the hold: a submit that finished on another process meanwhile has spent the link
      const again = await this.d.sessions.open(token);
      if (!again.ok) {
        sendJson(res, 410, { ok: false, why: again.why, message: this.d.i18n.t(lang, `editor.page.${again.why === 'unknown' ? 'invalid' : again.why}.title`) });
        return;
      }
      const out = await this.d.backend.submit(again.session, input);
      if (out.ok) await this.d.sessions.markUsed(token, again.session);
      sendJson(res, out.ok ? 200 : 422, out);
    } finally {
      await this.d.sessions.unhold(token, hold);
    }
  }

  /** The session when the link works for this browser; otherwise the answer saying why has been sent. */
  private async usable(req: IncomingMessage, res: ServerResponse, token: string, json = false): Promise<EditorSession | undefined> {
    const found = await this.d.sessions.open(token);
    if (!found.ok) {
      const why = found.why === 'unknown' ? 'invalid' : found.why;
      req.resume();
      if (json)
        sendJson(res, found.why === 'unknown' ? 404 : 410, { ok: false, why, message: this.d.i18n.t(this.acceptLocale(req), `editor.page.${why}.title`) });
      else sendJson(res, found.why === 'unknown' ? 404 : 410, { ok: false, why });
      return undefined;
    }
    if (this.d.sessions.browserOf(found.session, cookieOf(req)) !== 'owner') {
      req.resume();
      const lang = await this.d.backend.locale(found.session);
      sendJson(res, 403, { ok: false, why: 'foreign', message: this.d.i18n.t(lang, 'editor.page.foreign.title') });
      return undefined;
    }
    return found.session;
  }

  private async notUsable(req: IncomingMessage, res: ServerResponse, why: 'invalid' | 'expired' | 'used' | 'foreign', locale?: string): Promise<void> {
    const lang = locale ?? this.acceptLocale(req);
    const status = why === 'invalid' ? 404 : why === 'foreign' ? 403 : 410;
    sendHtml(
      res,
      status,
      notUsablePage(lang, why, (key) => this.d.i18n.t(lang, key)),
    );
  }

  /** A visitor without a session: the browser's language, among the two the bot speaks. */
  private acceptLocale(req: IncomingMessage): string {
    const first = (req.headers['accept-language'] ?? '').split(',')[0]?.split(';')[0]?.trim();
    return resolveLocale(first);
  }

  private keepImage(token: string, img: { bytes: Buffer; mime: string; until: number }): void {
    const now = Date.now();
    for (const [k, v] of this.images) if (v.until <= now) this.dropImage(k);
    this.images.set(token, img);
    this.imageBytes += img.bytes.length;
    for (const k of this.images.keys()) {
      if (this.imageBytes <= this.limits.imageCacheBytes || k === token) break;
      this.dropImage(k);
    }
  }

  private dropImage(key: string): void {
    const v = this.images.get(key);
    if (!v) return;
    this.images.delete(key);
    this.imageBytes -= v.bytes.length;
  }
}

/** `{"mask": "<base64 PNG>", "prompt": "…"}`; undefined when it is anything else. */
export function parseSubmit(body: Buffer, maxPromptLength: number): { png: Buffer; prompt?: string | undefined } | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!json || typeof json !== 'object') return undefined;
  const { mask, prompt } = json as { mask?: unknown; prompt?: unknown };
  if (typeof mask !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(mask)) return undefined;
  if (prompt !== undefined && (typeof prompt !== 'string' || prompt.length > maxPromptLength)) return undefined;
  return { png: Buffer.from(mask, 'base64'), prompt };
}

function cookieOf(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, v] = part.trim().split('=');
    if (k === COOKIE && v) return v;
  }
  return undefined;
}

async function readCapped(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return null;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      return null;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function sendHtml(res: ServerResponse, status: number, html: string, headers: Record<string, string> = {}): void {
  const body = Buffer.from(html, 'utf8');
  res.writeHead(status, { ...PAGE_HEADERS, ...headers, 'content-type': 'text/html; charset=utf-8', 'content-length': body.length });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(status, { ...PAGE_HEADERS, ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': text.length });
  res.end(text);
}
