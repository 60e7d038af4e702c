/**
 * The one custom_id codec: every custom_id the bot writes is `mj:<prefix>:<rest>`, built by `encode` and read back
 * by `parse`. The prefixes are the wire format of buttons already posted (restart-proof buttons keep working after
 * an upgrade): never change or reuse one; add a new route instead.
 */

/** What the rest of a route's custom_id carries (a DM press finds its server's rules through it). */
export type Carries = 'buttonKey' | 'jobId' | 'nothing';

/** route name → its prefix on the wire and what follows it. `components/index.ts` holds one handler per route. */
export const ROUTES = {
  /** an upstream Midjourney button on a result: `mj:b:<buttonKey>` */
  mjButton: { prefix: 'b', carries: 'buttonKey' },
  /** the modal such a button opens first: `mj:f:<buttonKey>` */
  mjButtonModal: { prefix: 'f', carries: 'buttonKey' },
  /** "Edit prompt" / "Submit unchanged" when the proxy asks for a remix prompt: `mj:r:<jobId>:edit|go` */
  remix: { prefix: 'r', carries: 'jobId' },
  /** the remix prompt's modal: `mj:x:<jobId>` */
  remixModal: { prefix: 'x', carries: 'jobId' },
  /** the bot's own buttons on face-swap, inpaint and image-tool results: `mj:t:<buttonKey>` */
  toolButton: { prefix: 't', carries: 'buttonKey' },
  /** their modals (swap again, inpaint again): `mj:tm:<buttonKey>` */
  toolButtonModal: { prefix: 'tm', carries: 'buttonKey' },
  /** ✉️ the seed of a result: `mj:s:<buttonKey>` */
  seed: { prefix: 's', carries: 'buttonKey' },
  /** a /settings select: `mj:set:<field>` */
  settings: { prefix: 'set', carries: 'nothing' },
  /** Cancel on a job waiting in its server's queue: `mj:q:<jobId>` */
  cancelJob: { prefix: 'q', carries: 'jobId' },
} as const satisfies Record<string, { prefix: string; carries: Carries }>;

export type RouteName = keyof typeof ROUTES;

/** Discord's limit for a custom_id. */
export const CUSTOM_ID_MAX = 100;

const ROOT = 'mj';
const WIRE = /^mj:([a-z]{1,8}):([A-Za-z0-9:_-]{1,90})$/;
const BY_PREFIX = new Map<string, RouteName>(Object.entries(ROUTES).map(([name, r]) => [r.prefix, name as RouteName]));

/** `mj:<prefix>:<part>[:<part>…]`; throws when it would exceed 100 characters or would not parse back to `route`. */
export function encode(route: RouteName, ...parts: string[]): string {
  const id = `${ROOT}:${ROUTES[route].prefix}:${parts.join(':')}`;
  if (id.length > CUSTOM_ID_MAX) throw new Error(`custom_id too long (${id.length} > ${CUSTOM_ID_MAX}): ${route}`);
  if (parse(id)?.route !== route) throw new Error(`custom_id would not parse back to its route: ${route}`);
  return id;
}

/** The route and the rest of one of our custom_ids; undefined for anything else (foreign, forged, retired). */
export function parse(customId: string): { route: RouteName; rest: string } | undefined {
  const m = WIRE.exec(customId);
  const route = m ? BY_PREFIX.get(m[1]!) : undefined;
  return route ? { route, rest: m![2]! } : undefined;
}

/** The route behind a wire prefix (e.g. a planned button's `route`); throws for a prefix no route has. */
export function routeOfPrefix(prefix: string): RouteName {
  const route = BY_PREFIX.get(prefix);
  if (!route) throw new Error(`no custom_id route has the prefix ${JSON.stringify(prefix)}`);
  return route;
}
