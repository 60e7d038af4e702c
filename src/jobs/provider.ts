import type { Job, JobUpdate, Provider } from './model.js';

/**
 * What the tracker needs from an upstream: a batched poll. Submitting is command-specific and goes
 * through JobService.run with a submit function; adapters know nothing of Discord.
 */
export interface ProviderAdapter {
  readonly provider: Provider;
  /** Poll many jobs at once. Jobs absent from the map had no news this time. */
  poll(jobs: Job[]): Promise<Map<string, JobUpdate>>;
  /** Optional: give up on a job that waits for user input (e.g. cancel an abandoned MODAL task). */
  abandon?(job: Job): Promise<void>;
}

export type ProviderRegistry = ReadonlyMap<Provider, ProviderAdapter>;
