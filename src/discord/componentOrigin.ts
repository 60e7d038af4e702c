import { SEED_ROUTE } from '../mj/resultButtons.js';
import type { Repositories } from '../store/repositories.js';
import { TOOL_MODAL_ROUTE, TOOL_ROUTE } from './toolButtons.js';

/** Routes whose custom_id carries a button key (`mj:<prefix>:<key>`): Midjourney buttons and their modals, tool buttons, ✉️. */
const BY_BUTTON_KEY = new Set(['b', 'f', TOOL_ROUTE, TOOL_MODAL_ROUTE, SEED_ROUTE]);
/** Routes whose custom_id carries a job id (`mj:<prefix>:<jobId>[:…]`): the remix prompt the upstream asked for. */
const BY_JOB_ID = new Set(['r', 'x']);

/**
 * The server a pressed component's job came from (undefined when it is not known, or the component acts on no job,
 * such as the /settings menus). Read from the store: a button pressed in a DM follows its origin server's rules.
 */
export async function originGuildOf(prefix: string, rest: string, repos: Repositories): Promise<string | undefined> {
  if (BY_BUTTON_KEY.has(prefix)) {
    const record = await repos.buttons.get(rest);
    if (!record) return undefined;
    return record.guildId ?? (await repos.jobs.get(record.jobId))?.owner.guildId;
  }
  if (BY_JOB_ID.has(prefix)) return (await repos.jobs.get(rest.split(':')[0] ?? ''))?.owner.guildId;
  return undefined;
}
