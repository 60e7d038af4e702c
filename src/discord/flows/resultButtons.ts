import type { Config } from '../../config.js';
import type { Job } from '../../jobs/model.js';
import type { MappedButton } from '../../mj/buttons.js';
import { planMjButtons } from '../../mj/resultButtons.js';
import { isToolJob, planToolButtons, type ToolCaps } from './toolButtons.js';

/**
 * The buttons under a job's result, per job kind: the bot's own follow-ups for face swap, inpaint and image tools
 * (as far as this deployment can serve them), the upstream's buttons for a Midjourney job (minus the disabled
 * ones; ✉️ seed where the flavour can report one), none for anything else.
 */
export function planResultButtons(job: Job, mj: Pick<Config['mj'], 'flavor' | 'disabledButtons'>, toolCaps: ToolCaps): MappedButton[][] {
  if (isToolJob(job)) return planToolButtons(job, toolCaps);
  if (job.provider === 'mj')
    return planMjButtons(job, { flavor: mj.flavor, disabled: mj.disabledButtons, seed: mj.flavor === 'trueai' || mj.flavor === 'plus' });
  return [];
}
