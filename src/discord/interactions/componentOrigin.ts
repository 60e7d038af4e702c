import type { Repositories } from '../../store/repositories.js';
import { ROUTES, type RouteName } from './customId.js';

/**
 * The server a pressed component's job came from (undefined when it is not known, or the component acts on no job,
 * such as the /settings menus). Read from the store through what the route's custom_id carries (a button key or a
 * job id): a button pressed in a DM follows its origin server's rules.
 */
export async function originGuildOf(route: RouteName, rest: string, repos: Repositories): Promise<string | undefined> {
  const carries = ROUTES[route].carries;
  if (carries === 'buttonKey') {
    const record = await repos.buttons.get(rest);
    if (!record) return undefined;
    return record.guildId ?? (await repos.jobs.get(record.jobId))?.owner.guildId;
  }
  if (carries === 'jobId') return (await repos.jobs.get(rest.split(':')[0] ?? ''))?.owner.guildId;
  return undefined;
}
