// The rest of the doctor: image APIs (harmless queries of a task that does not exist), the store, PUBLIC_URL.
import type { Config } from '../config.js';
import { openKvStore } from '../store/keyvStore.js';
import { HttpClient, UpstreamHttpError } from '../upstream/http.js';
import { ImageToolError } from '../upstream/imageToolError.js';
import { ImgOpenClient, newBusinessTaskId } from '../upstream/imgOpen.js';
import { PICWISH_PATHS, PicwishClient } from '../upstream/picwish.js';
import { errorText, fail, pass, safeUrl, skip, withTimeout, type CheckResult, type DoctorContext } from './types.js';

const T = {
  imgOpen: 'Img Open (face swap) reachable, keys accepted',
  picwish: 'PicWish (inpaint, image tools) reachable, key accepted',
  store: 'Store writable',
  publicUrl: 'PUBLIC_URL reachable',
} as const;

export async function imgOpenCheck(config: Config, ctx: DoctorContext): Promise<CheckResult> {
  const c = config.imgOpen;
  if (!c) return skip('imgopen', T.imgOpen, 'not configured (IMGOPEN_ACCESS_KEY_ID / _SECRET unset): face swap is off');
  const client = new ImgOpenClient({ ...c, retry: { retries: 0 }, timeouts: { totalMs: ctx.timeoutMs }, logger: ctx.logger });
  try {
    await client.query('roop', newBusinessTaskId('doctor'));
    return pass('imgopen', T.imgOpen, `${safeUrl(c.baseUrl)} answers`);
  } catch (e) {
    return imageToolResult('imgopen', T.imgOpen, e, {
      base: `${safeUrl(c.baseUrl)} (IMGOPEN_BASE_URL)`,
      keys: 'IMGOPEN_ACCESS_KEY_ID and IMGOPEN_ACCESS_KEY_SECRET',
      baseVar: 'IMGOPEN_BASE_URL (default https://api.zhiqite.com)',
      // an unknown task is answered with a vendor code: the keys passed
      acceptedWhen: (err) => (err.kind === 'rejected' || err.kind === 'not-found') && err.code !== undefined && err.status !== 404,
    });
  } finally {
    await client.close();
  }
}

export async function picwishCheck(config: Config, ctx: DoctorContext): Promise<CheckResult> {
  const c = config.picwish;
  if (!c) return skip('picwish', T.picwish, 'not configured (PICWISH_API_KEY unset): inpaint and image tools are off');
  const client = new PicwishClient({ ...c, queryRetries: 0, timeouts: { totalMs: ctx.timeoutMs }, logger: ctx.logger });
  try {
    await client.query(PICWISH_PATHS.inpaint, `mjrelaydoctor${Date.now()}`);
    return pass('picwish', T.picwish, `${safeUrl(c.baseUrl)} answers`);
  } catch (e) {
    return imageToolResult('picwish', T.picwish, e, {
      base: `${safeUrl(c.baseUrl)} (PICWISH_BASE_URL)`,
      keys: 'PICWISH_API_KEY',
      baseVar: 'PICWISH_BASE_URL (default https://techhk.aoscdn.com; techsz.aoscdn.com in mainland China)',
      // the key is checked before the task is looked up: "task not found" means it passed
      acceptedWhen: (err) => err.kind === 'not-found' || err.kind === 'rejected',
    });
  } finally {
    await client.close();
  }
}

function imageToolResult(
  id: string,
  title: string,
  e: unknown,
  o: { base: string; keys: string; baseVar: string; acceptedWhen: (e: ImageToolError) => boolean },
): CheckResult {
  if (!(e instanceof ImageToolError)) return fail(id, title, `probe failed: ${errorText(e)}`, `check ${o.baseVar}`);
  if (o.acceptedWhen(e)) return pass(id, title, `${o.base} answers; the probe task is unknown, as expected`);
  switch (e.kind) {
    case 'auth':
      return fail(id, title, `${o.base} refused the credentials (${e.message})`, `set ${o.keys} to the values from the vendor's console`);
    case 'credit':
      return fail(id, title, `${o.base} accepted the credentials but the account has no credit`, "top up the account in the vendor's console");
    case 'unreachable':
      return fail(id, title, `no usable answer from ${o.base}: ${e.message}`, `check ${o.baseVar} and that this machine can reach it`);
    case 'rate-limited':
      return fail(id, title, `${o.base} rate-limited the probe`, 'wait a minute and run the doctor again');
    default:
      return fail(id, title, `${o.base} does not answer like the API (${e.message})`, `check ${o.baseVar}`);
  }
}

export async function storeCheck(config: Config, ctx: DoctorContext): Promise<CheckResult> {
  const url = config.storeUrl;
  const kind = url.slice(0, url.indexOf('://'));
  const shown = kind === 'sqlite' ? url : safeUrl(url);
  const fix =
    kind === 'sqlite'
      ? `make the directory of ${url.slice('sqlite://'.length)} exist and be writable by the user running the bot (in Docker: the /app/data volume), or change STORE_URL`
      : kind.startsWith('redis')
        ? 'start Redis and check STORE_URL (with docker compose: COMPOSE_PROFILES=redis and STORE_URL=redis://redis:6379)'
        : 'start PostgreSQL and check STORE_URL (user, password, host, database)';
  let closeStore: (() => Promise<void>) | undefined;
  try {
    const verdict = await withTimeout(
      (async (): Promise<true | string> => {
        const store = await openKvStore(url, ctx.logger);
        closeStore = () => store.close();
        if (await store.check()) return true;
        // check() only says no: write once more ourselves to learn why
        const key = `doctor-probe:${process.pid}`;
        const kv = store.namespace('meta');
        return kv.set(key, key, 60_000).then(
          async () => ((await kv.get(key)) === key ? 'the probe key read back wrong once' : 'the probe key did not read back'),
          (e: unknown) => `writing failed: ${errorText(e)}`,
        );
      })(),
      ctx.timeoutMs,
      () => `no answer within ${ctx.timeoutMs} ms`,
    );
    return verdict === true ? pass('store', T.store, `${shown}: a probe key was written and read back`) : fail('store', T.store, `${shown}: ${verdict}`, fix);
  } catch (e) {
    return fail('store', T.store, `${shown}: ${errorText(e)}`, fix);
  } finally {
    await closeStore?.().catch(() => undefined);
  }
}

export async function publicUrlCheck(config: Config, ctx: DoctorContext): Promise<CheckResult> {
  const publicUrl = config.http.publicUrl;
  if (!publicUrl) return skip('public-url', T.publicUrl, 'not set: the bot polls the proxy instead of receiving callbacks');
  const url = `${publicUrl}/healthz`;
  const fix = `PUBLIC_URL must be this bot's own address as the proxy sees it (the bot listens on HTTP_PORT=${config.http.port}; behind a reverse proxy, its public URL), or unset PUBLIC_URL to poll instead`;
  const http = new HttpClient({ name: 'public-url', logger: ctx.logger, retry: { retries: 0 }, timeouts: { totalMs: ctx.timeoutMs } });
  try {
    const res = await http.requestJson({ method: 'GET', url });
    const body = res.json as { ok?: unknown; checks?: Record<string, unknown> } | undefined;
    const looksLikeUs = typeof body?.ok === 'boolean' && typeof body.checks === 'object';
    if (!looksLikeUs) return fail('public-url', T.publicUrl, `${safeUrl(url)} answers HTTP ${res.status}, but not as this bot's /healthz`, fix);
    if (!body.ok) {
      const bad = Object.entries(body.checks ?? {})
        .filter(([, v]) => v === false)
        .map(([k]) => k);
      return fail(
        'public-url',
        T.publicUrl,
        `${safeUrl(url)} reaches the bot, but it reports unhealthy (${bad.join(', ') || 'see its checks'})`,
        "see the bot's log: /healthz is healthy while the Discord gateway is connected and the store works",
      );
    }
    return pass('public-url', T.publicUrl, `${safeUrl(url)} answers: the bot is healthy`);
  } catch (e) {
    const why = e instanceof UpstreamHttpError ? e.message : errorText(e);
    return fail('public-url', T.publicUrl, `nothing answers at ${safeUrl(url)}: ${why}`, `start the bot first (the doctor checks it from outside); ${fix}`);
  } finally {
    await http.close();
  }
}
