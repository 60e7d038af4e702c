// Midjourney Proxy side of the doctor: reachable, credentials accepted, which dialect answers.
// Every probe names a task that does not exist, so nothing is ever started on the proxy:
//   GET  /mj/task/<probe>/fetch                 reachability and auth (unknown id → empty body / code 3)
//   POST /mj/task/list-by-condition {ids: []}   batch polling present?
//   POST /mj/submit/action (JSON), /mj/task/action (form), /mj/submit/change (JSON) with the probe id:
//        a route that exists answers with an envelope ("task not found"); a missing one answers 404/405.
import type { Config } from '../config.js';
import { HttpClient, UpstreamHttpError, type HttpRequest, type HttpResponse } from '../upstream/http.js';
import type { MjAuthStyle, MjFlavor } from '../upstream/mjTypes.js';
import { errorText, fail, pass, safeUrl, skip, type CheckResult, type DoctorContext } from './types.js';

const T = {
  reach: 'Midjourney Proxy reachable',
  auth: 'Midjourney Proxy auth accepted',
  dialect: 'Midjourney Proxy dialect',
} as const;

const AUTH_STYLES: readonly MjAuthStyle[] = ['mj-api-secret', 'authorization', 'bearer'];

/** The header each MJ_AUTH_HEADER style sends (the same as MjProxyClient). */
export function authHeaders(style: MjAuthStyle, secret: string | undefined): Record<string, string> {
  if (!secret) return {};
  if (style === 'mj-api-secret') return { 'mj-api-secret': secret };
  if (style === 'authorization') return { authorization: secret };
  return { authorization: `Bearer ${secret}` };
}

type Dialect = 'submit' | 'task-form' | 'change';

const DIALECT_OF: Record<MjFlavor, Dialect> = { trueai: 'submit', plus: 'submit', novicezk: 'change', 'task-form': 'task-form' };
const ROUTE_OF: Record<Dialect, string> = {
  submit: 'POST /mj/submit/action (JSON)',
  'task-form': 'POST /mj/task/action (form-encoded)',
  change: 'POST /mj/submit/change (JSON)',
};
const FLAVORS_FOR: Record<Dialect, string> = { submit: 'trueai (or plus)', 'task-form': 'task-form', change: 'novicezk' };

export async function proxyChecks(config: Config, ctx: DoctorContext): Promise<CheckResult[]> {
  const mj = config.mj;
  const http = new HttpClient({
    name: 'mj-proxy',
    logger: ctx.logger,
    retry: { retries: 0 },
    timeouts: { totalMs: ctx.timeoutMs },
    secrets: mj.secret ? [mj.secret] : [],
  });
  const root = proxyRoot(config);
  const probeId = `mjrelaydoctor${Date.now()}`;
  const send = (req: Omit<HttpRequest, 'headers'>, style: MjAuthStyle = mj.authStyle) => http.requestJson({ ...req, headers: authHeaders(style, mj.secret) });
  const fetchProbe = (style?: MjAuthStyle) => send({ method: 'GET', url: `${root}/mj/task/${probeId}/fetch` }, style);
  const shown = safeUrl(root);

  try {
    // reachable?
    let res: HttpResponse;
    try {
      res = await fetchProbe();
    } catch (e) {
      const why = e instanceof UpstreamHttpError ? e.message : errorText(e);
      return [
        fail(
          'proxy-reachable',
          T.reach,
          `no answer from ${shown}: ${why}`,
          "check MJ_BASE_URL (the proxy's root URL, e.g. http://proxy:8080) and that the proxy is running and reachable from this machine",
        ),
        skip('proxy-auth', T.auth, 'needs a reachable proxy'),
        skip('proxy-dialect', T.dialect, 'needs a reachable proxy'),
      ];
    }
    const notProxy = notAProxy(res, config);
    if (notProxy) return [notProxy, skip('proxy-auth', T.auth, 'needs the proxy API'), skip('proxy-dialect', T.dialect, 'needs the proxy API')];
    const reach = pass('proxy-reachable', T.reach, `${shown} answers (HTTP ${res.status})`);

    // credentials
    if (res.status === 401 || res.status === 403) {
      return [reach, await authFailure(res.status, config, fetchProbe), skip('proxy-dialect', T.dialect, 'needs accepted credentials')];
    }
    if (res.status === 429) {
      return [
        reach,
        fail(
          'proxy-auth',
          T.auth,
          'the proxy rate-limited the probe (HTTP 429)',
          'wait a minute and run the doctor again; if the proxy limits by IP, allow this machine',
        ),
        skip('proxy-dialect', T.dialect, 'needs an answer'),
      ];
    }
    const auth = pass('proxy-auth', T.auth, mj.secret ? `MJ_API_SECRET sent as MJ_AUTH_HEADER=${mj.authStyle}` : 'the proxy asks for no secret');

    // dialect
    return [reach, auth, await dialectCheck(config, send, root, probeId)];
  } finally {
    await http.close();
  }
}

/** Base URL as the client uses it: trailing /mj dropped; path-mode prefix when MJ_MODE is set (trueai/plus). */
function proxyRoot(config: Config): string {
  let root = config.mj.baseUrl.replace(/\/+$/, '').replace(/\/mj$/, '');
  const mode = config.mj.flavor === 'trueai' || config.mj.flavor === 'plus' ? config.mj.mode : undefined;
  if (mode) root = /\/mj-(fast|relax|turbo)$/.test(root) ? root.replace(/\/mj-(fast|relax|turbo)$/, `/mj-${mode}`) : `${root}/mj-${mode}`;
  return root;
}

/** A server answers, but not as the proxy API: HTML pages, 404 on the fetch route, server errors. */
function notAProxy(res: HttpResponse, config: Config): CheckResult | undefined {
  const base = safeUrl(config.mj.baseUrl);
  if (res.status === 404 || res.status === 405) {
    const modeHint =
      config.mj.mode && (config.mj.flavor === 'trueai' || config.mj.flavor === 'plus')
        ? `; MJ_MODE=${config.mj.mode} adds the path prefix /mj-${config.mj.mode}, which only some proxies have: unset MJ_MODE if yours does not`
        : '';
    return fail(
      'proxy-reachable',
      T.reach,
      `${base} answers, but GET …/mj/task/{id}/fetch is not there (HTTP ${res.status})`,
      `set MJ_BASE_URL to the proxy's root URL, e.g. http://proxy:8080 (the bot adds /mj/… itself)${modeHint}`,
    );
  }
  if (res.status >= 500) {
    return fail('proxy-reachable', T.reach, `${base} answers with a server error (HTTP ${res.status})`, "check the proxy's own log; it is running but failing");
  }
  if (/^\s*<(!doctype|html)/i.test(res.text)) {
    return fail(
      'proxy-reachable',
      T.reach,
      `${base} answers with an HTML page (HTTP ${res.status}), not the proxy API`,
      "MJ_BASE_URL points at a web page (a login page or another service?): set it to the proxy API's root URL",
    );
  }
  return undefined;
}

async function authFailure(status: number, config: Config, fetchProbe: (style?: MjAuthStyle) => Promise<HttpResponse>): Promise<CheckResult> {
  const mj = config.mj;
  const refused = `the proxy refused the credentials (HTTP ${status})`;
  if (!mj.secret) {
    return fail(
      'proxy-auth',
      T.auth,
      `${refused}: no MJ_API_SECRET is set`,
      "set MJ_API_SECRET to the proxy's API secret (mj.api-secret / admin token / gateway key) and MJ_AUTH_HEADER to how it expects it: mj-api-secret | authorization | bearer",
    );
  }
  // the same secret sent another way?
  for (const style of AUTH_STYLES.filter((s) => s !== mj.authStyle)) {
    const other = await fetchProbe(style).catch(() => undefined);
    if (other && other.status !== 401 && other.status !== 403 && other.status < 500) {
      return fail(
        'proxy-auth',
        T.auth,
        `${refused} with MJ_AUTH_HEADER=${mj.authStyle}, but accepted the same secret sent as ${style}`,
        `set MJ_AUTH_HEADER=${style} (MJ_API_SECRET is right)`,
      );
    }
  }
  return fail(
    'proxy-auth',
    T.auth,
    `${refused}; MJ_API_SECRET is sent as ${mj.authStyle} and no other header style was accepted either`,
    "set MJ_API_SECRET to the proxy's API secret (mj.api-secret / admin token / gateway key), and MJ_AUTH_HEADER to how the proxy expects it: mj-api-secret (NZ, DY), authorization (trueai), bearer (API gateways)",
  );
}

type Send = (req: Omit<HttpRequest, 'headers'>) => Promise<HttpResponse>;

async function dialectCheck(config: Config, send: Send, root: string, probeId: string): Promise<CheckResult> {
  const customId = 'MJ::JOB::upsample::1::mjrelaydoctor';
  const form = new URLSearchParams({ taskId: probeId, customId });
  const [list, submit, taskForm, change] = await Promise.all([
    present(send({ method: 'POST', url: `${root}/mj/task/list-by-condition`, json: { ids: [] } })),
    present(send({ method: 'POST', url: `${root}/mj/submit/action`, json: { taskId: probeId, customId } })),
    present(send({ method: 'POST', url: `${root}/mj/task/action`, form })),
    present(send({ method: 'POST', url: `${root}/mj/submit/change`, json: { taskId: probeId, action: 'UPSCALE', index: 1 } })),
  ]);
  const found: Dialect | undefined = submit ? 'submit' : taskForm ? 'task-form' : change ? 'change' : undefined;
  const flavor = config.mj.flavor;
  const want = DIALECT_OF[flavor];
  const routes = [submit && ROUTE_OF.submit, taskForm && ROUTE_OF['task-form'], change && ROUTE_OF.change].filter(Boolean).join(', ') || 'no button route';
  const listNote =
    flavor === 'task-form' ? '' : list ? '; list-by-condition present (batched polling)' : '; list-by-condition absent (the bot polls tasks one by one)';
  const ok = want === found || (want === 'change' && change);
  if (ok) return pass('proxy-dialect', T.dialect, `button presses via ${ROUTE_OF[want]}, as MJ_FLAVOR=${flavor} expects${listNote}`);
  if (!found) {
    return fail(
      'proxy-dialect',
      T.dialect,
      `MJ_FLAVOR=${flavor} presses buttons via ${ROUTE_OF[want]}, but the proxy has none of the button routes`,
      'upscale/variation buttons will not work with this proxy; check MJ_BASE_URL points at a Midjourney Proxy (trueai, plus, novicezk or a task-form reseller)',
    );
  }
  return fail(
    'proxy-dialect',
    T.dialect,
    `MJ_FLAVOR=${flavor} presses buttons via ${ROUTE_OF[want]}, but this proxy answers ${routes}${listNote}`,
    `set MJ_FLAVOR=${FLAVORS_FOR[found]}`,
  );
}

/** A route is there when it answers with anything but a bare 404/405 (an envelope saying "task not found" counts). */
async function present(p: Promise<HttpResponse>): Promise<boolean> {
  try {
    const res = await p;
    if (res.status !== 404 && res.status !== 405) return res.status < 500 || hasEnvelope(res.json);
    return hasEnvelope(res.json);
  } catch {
    return false;
  }
}

function hasEnvelope(json: unknown): boolean {
  return typeof json === 'object' && json !== null && !Array.isArray(json) && ('code' in json || 'success' in json);
}
