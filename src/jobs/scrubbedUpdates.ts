import { scrub } from '../log.js';
import type { JobUpdate, Msg, Provider } from './model.js';
import type { ProviderAdapter } from './provider.js';

/**
 * The boundary where upstream text becomes a job's message: every text parameter of a message, and the text
 * results (describe, shorten, the final prompt), are scrubbed of every configured secret — the deployment's one
 * list (`config.secrets`, the callback secret included), so an upstream echoing another provider's key shows none.
 */

export function scrubMsg(msg: Msg, secrets: readonly string[]): Msg {
  if (!msg.params) return msg;
  const params: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(msg.params)) params[k] = typeof v === 'string' ? scrub(v, secrets) : v;
  return { ...msg, params };
}

export function scrubUpdate(update: JobUpdate, secrets: readonly string[]): JobUpdate {
  const out: JobUpdate = { ...update };
  if (out.error) out.error = scrubMsg(out.error, secrets);
  if (out.result) {
    const r = { ...out.result };
    if (typeof r.text === 'string') r.text = scrub(r.text, secrets);
    if (typeof r.finalPrompt === 'string') r.finalPrompt = scrub(r.finalPrompt, secrets);
    out.result = r;
  }
  return out;
}

/** The same adapter, its poll answers scrubbed. */
export function scrubbedProvider(adapter: ProviderAdapter, secrets: readonly string[]): ProviderAdapter {
  return {
    provider: adapter.provider,
    async poll(jobs) {
      const updates = await adapter.poll(jobs);
      for (const [id, u] of updates) updates.set(id, scrubUpdate(u, secrets));
      return updates;
    },
    ...(adapter.abandon ? { abandon: (job) => adapter.abandon!(job) } : {}),
  };
}

/** Every adapter of a registry, scrubbed. */
export function scrubbedProviders(adapters: ReadonlyMap<Provider, ProviderAdapter>, secrets: readonly string[]): Map<Provider, ProviderAdapter> {
  return new Map([...adapters].map(([p, a]) => [p, scrubbedProvider(a, secrets)]));
}
