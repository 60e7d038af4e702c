import type { Job } from '../src/jobs/model.js';
import { validatePrompt } from '../src/mj/prompts.js';
import { component, UserError } from '../src/discord/interactions/interactionKit.js';
import { acceptedReply } from '../src/discord/flows/jobOptions.js';
import { submitRemix } from '../src/discord/flows/mjAction.js';
import { MODAL_TEXT_MAX } from '../src/discord/interactions/modals.js';
import { remixJob } from './remix.js';

/** The remix prompt's modal (`mj:x:<jobId>`), opened from "Edit prompt": the edited prompt goes to the waiting job. */
export const remixModal = component({
  route: 'remixModal',
  accepts: 'modal',
  async parse(jobId, i, ctx): Promise<{ job: Job; prompt: string; fromMessage: boolean }> {
    const job = await remixJob(i, jobId, ctx);
    const checked = validatePrompt(i.fields.getTextInputValue('prompt'), { maxLength: MODAL_TEXT_MAX });
    if (!checked.ok) throw new UserError(checked.key, checked.params);
    return { job, prompt: checked.prompt, fromMessage: i.isFromMessage() };
  },
  // opened from the "Edit prompt" button: the message with the two buttons is updated in place
  ack: ({ fromMessage }) => (fromMessage ? 'update' : 'ephemeral'),
  async run(i, { job, prompt }, ctx) {
    await submitRemix(job, prompt, ctx);
    await i.editReply({ content: acceptedReply(job, ctx), components: [] });
  },
});
