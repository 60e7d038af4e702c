import { validatePrompt } from '../src/mj/prompts.js';
import { component, UserError } from '../src/discord/interactions/interactionKit.js';
import { acceptedReply } from '../src/discord/flows/jobOptions.js';
import { submitRemix } from '../src/discord/flows/mjAction.js';
import { MODAL_TEXT_MAX } from '../src/discord/interactions/modals.js';
import { refuseUnfitParams } from '../src/discord/flows/versionCheck.js';
import { remixJob } from './remix.js';

/** The remix prompt's modal (`mj:x:<jobId>`), opened from "Edit prompt": the edited prompt goes to the waiting job. */
export const remixModal = component({
  route: 'remixModal',
  accepts: 'modal',
  // what the member typed is checked at once; the waiting job is read after the acknowledgement
  async parse(jobId, i, ctx): Promise<{ jobId: string; prompt: string; fromMessage: boolean }> {
    const checked = validatePrompt(i.fields.getTextInputValue('prompt'), { maxLength: MODAL_TEXT_MAX });
    if (!checked.ok) throw new UserError(checked.key, checked.params);
    refuseUnfitParams(checked.prompt, ctx); // the prompt names its version (the upstream prefills it), else the default
    return { jobId, prompt: checked.prompt, fromMessage: i.isFromMessage() };
  },
  // opened from the "Edit prompt" button: the message with the two buttons is updated in place
  ack: ({ fromMessage }) => (fromMessage ? 'update' : 'ephemeral'),
  async run(i, { jobId, prompt }, ctx) {
    const job = await remixJob(i, jobId, ctx);
    await submitRemix(job, prompt, ctx);
    await i.editReply({ content: acceptedReply(job, ctx), components: [] });
  },
});
