// The REST pipeline: parse → record → route → auth → injected faults → rate limits →
// OpenAPI validation → handler → Discord-shaped reply.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DiscordHttpError, Errors } from './errors.js';
import { parseBody, readRaw, sendJson } from './http.js';
import type { OpenApiValidator } from './openapi.js';
import type { RateLimiter } from './rateLimits.js';
import type { FailRule, OpenApiProblem, RecordedCall, RecordedFile } from './types.js';

export interface RouteContext {
  method: string;
  path: string;
  query: URLSearchParams;
  /** Values of `:id` / `:token` segments, in order. */
  params: string[];
  body: unknown;
  files: RecordedFile[];
  authenticated: boolean;
  at: number;
}

export interface RouteResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RouteDef {
  method: string;
  /** e.g. '/channels/:id/messages/:id'; `:id` matches digits, `:token` any segment. */
  template: string;
  /** OpenAPI path whose requestBody validates this route's body. */
  openApi?: string;
  /** Requires `Authorization: Bot ...`. */
  auth: boolean;
  /** Interaction callbacks are exempt from rate limits. */
  exemptFromRateLimits?: boolean;
  handler: (ctx: RouteContext) => RouteResult | Promise<RouteResult>;
}

export interface RestHost {
  now(): number;
  readonly calls: RecordedCall[];
  readonly openApiProblems: OpenApiProblem[];
  readonly limiter: RateLimiter;
  readonly validator: OpenApiValidator | null;
  readonly rejectInvalidBodies: boolean;
  /** Crashes inside the fake (answered with 500); tests can assert this stays empty. */
  readonly internalErrors: string[];
  takeFailRule(method: string, path: string): FailRule | null;
  log(line: string): void;
}

export const API_PREFIX = '/api/v10';

/** Generic templating for unknown routes: snowflakes → :id. */
export function templatePath(path: string): string {
  return path.replace(/\/\d{17,19}(?=\/|$)/g, '/:id');
}

function matchTemplate(template: string, path: string): string[] | null {
  const t = template.split('/');
  const p = path.split('/');
  if (t.length !== p.length) return null;
  const params: string[] = [];
  for (let i = 0; i < t.length; i++) {
    const ts = t[i] ?? '';
    const ps = p[i] ?? '';
    if (ts === ':id') {
      if (!/^\d{1,20}$/.test(ps)) return null;
      params.push(ps);
    } else if (ts === ':token') {
      if (ps.length === 0) return null;
      params.push(ps);
    } else if (ts !== ps) {
      return null;
    }
  }
  return params;
}

/** Converts ajv errors into Discord's nested 50035 `errors` object. */
function toDiscordErrors(errors: OpenApiProblem['errors']): Record<string, unknown> {
  const root: Record<string, any> = {};
  for (const e of errors) {
    const parts = e.path.split('/').filter(Boolean);
    let node = root;
    for (const part of parts) node = node[part] ??= {};
    (node['_errors'] ??= []).push({ code: `SCHEMA_${e.keyword.toUpperCase()}`, message: e.message });
  }
  return root;
}

export class RestPipeline {
  constructor(
    private readonly host: RestHost,
    private readonly routes: RouteDef[],
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    // Clients percent-encode some characters (e.g. `@original` → `%40original`).
    const path = (url.pathname.slice(API_PREFIX.length) || '/')
      .split('/')
      .map((seg) => {
        try {
          return decodeURIComponent(seg);
        } catch {
          return seg;
        }
      })
      .join('/');
    const authenticated = /^Bot \S+/.test(String(req.headers.authorization ?? ''));
    const call: RecordedCall = {
      method,
      path,
      query: Object.fromEntries(url.searchParams.entries()),
      route: `${method} ${templatePath(path)}`,
      body: undefined,
      files: [],
      authenticated,
      status: 0,
      at: this.host.now(),
    };
    this.host.calls.push(call);
    let extraHeaders: Record<string, string> = {};
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}, code?: number) => {
      call.status = status;
      if (code !== undefined) call.discordCode = code;
      this.host.log(`[rest] ${method} ${path} → ${status}${code !== undefined ? ` (${code})` : ''}`);
      sendJson(res, status, body, { ...extraHeaders, ...headers });
    };
    try {
      const raw = await readRaw(req);
      const parsed = await parseBody(req, raw);
      call.body = parsed.json;
      call.files = parsed.files;

      let def: RouteDef | undefined;
      let params: string[] = [];
      for (const d of this.routes) {
        if (d.method !== method) continue;
        const m = matchTemplate(d.template, path);
        if (m) {
          def = d;
          params = m;
          break;
        }
      }
      if (!def) throw Errors.notFound();
      call.route = `${method} ${def.template}`;
      if (def.auth && !authenticated) throw Errors.unauthorized();

      const fail = this.host.takeFailRule(method, path);
      if (fail) {
        if (fail.status === 429) {
          const retry = fail.retryAfterSec ?? 1;
          this.host.limiter.hits.push({ method, path, route: call.route, bucket: 'failNext', scope: 'user', retryAfterMs: retry * 1000, at: this.host.now() });
          throw new DiscordHttpError(429, fail.code, fail.message, undefined, {
            'Retry-After': String(Math.max(1, Math.ceil(retry))),
            'X-RateLimit-Limit': '1',
            'X-RateLimit-Remaining': '0',
            'X-RateLimit-Reset-After': retry.toFixed(3),
            'X-RateLimit-Reset': ((Date.now() + retry * 1000) / 1000).toFixed(3),
            'X-RateLimit-Bucket': 'fake-fail-next',
            'X-RateLimit-Scope': 'user',
          });
        }
        throw new DiscordHttpError(fail.status, fail.code, fail.message, fail.errors);
      }

      if (!def.exemptFromRateLimits) {
        const decision = this.host.limiter.check(method, path, call.route, authenticated);
        extraHeaders = decision.headers;
        if (decision.limited) {
          reply(429, decision.limited.body, decision.limited.headers);
          return;
        }
      }

      const validator = this.host.validator;
      if (validator && def.openApi && parsed.json !== undefined) {
        const result = validator.validate(def.openApi, method, parsed.json);
        if (!result.ok) {
          this.host.openApiProblems.push({
            route: call.route,
            method,
            path,
            operationId: result.operationId,
            errors: result.errors,
            body: parsed.json,
            at: this.host.now(),
          });
          this.host.log(`[openapi] ${call.route}: ${result.errors.map((e) => `${e.path} ${e.message}`).join('; ')}`);
          if (this.host.rejectInvalidBodies) throw Errors.invalidFormBody(toDiscordErrors(result.errors));
        }
      }

      const result = await def.handler({
        method,
        path,
        query: url.searchParams,
        params,
        body: parsed.json,
        files: parsed.files,
        authenticated,
        at: this.host.now(),
      });
      reply(result.status, result.body, result.headers ?? {});
    } catch (err) {
      if (err instanceof DiscordHttpError) {
        const body =
          err.status === 429
            ? { message: err.message, retry_after: Number(err.headers['X-RateLimit-Reset-After'] ?? 1), global: false, code: err.code }
            : err.body();
        reply(err.status, body, err.headers, err.code);
        return;
      }
      const text = `${method} ${path}: ${(err as Error).stack ?? String(err)}`;
      this.host.internalErrors.push(text);
      this.host.log(`[rest] crashed: ${text}`);
      reply(500, { message: '500: Internal Server Error', code: 0 });
    }
  }
}
