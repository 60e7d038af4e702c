import type { Interaction } from 'discord.js';
import type { Job } from '../src/jobs/model.js';
import { encode } from '../src/discord/interactions/customId.js';
import { component, UserError, type Ctx } from '../src/discord/interactions/interactionKit.js';
import { acceptedReply } from '../src/discord/flows/jobOptions.js';
import { submitRemix } from '../src/discord/flows/mjAction.js';
import { modal, MODAL_TEXT_MAX } from '../src/discord/interactions/modals.js';

/**
 * The upstream asked for a remix prompt on a press that could not open a modal (remix on for its account):
 * `mj:r:<jobId>:edit` opens the prompt's modal (`mj:x:<jobId>`), `mj:r:<jobId>:go` submits it unchanged.
 */
export const remix = component({
  route: 'remix',
  accepts: 'button',
  // "Edit prompt" opens a modal (the first answer) prefilled from the waiting job, so that job is read first;
  // "Submit unchanged" is acknowledged before any store read
  async parse(rest, i, ctx): Promise<{ edit: true; job: Job } | { edit: false; jobId: string }> {
    const [jobId = '', what] = rest.split(':');
    return what === 'edit' ? { edit: true, job: await remixJob(i, jobId, ctx) } : { edit: false, jobId };
  },
  ack: ({ edit }) => (edit ? 'none' : 'update'),
  async run(i, press, ctx) {
    if (press.edit) {
      await i.showModal(remixPromptModal(press.job, remixPrefill(press.job), ctx));
      return;
    }
    const job = await remixJob(i, press.jobId, ctx); // no longer waiting, or not the presser's: told in an ephemeral follow-up
    await submitRemix(job, remixPrefill(job), ctx);
    await i.editReply({ content: acceptedReply(job, ctx), components: [] });
  },
});

/** The two buttons offered with "the upstream wants the prompt confirmed". */
export function remixChoiceRows(job: Job, ctx: Ctx) {
  return [
    {
      type: 1,
      components: [
        { type: 2, style: 1, custom_id: encode('remix', job.id, 'edit'), label: ctx.t('remix.editButton'), emoji: { name: '✏️' } },
        { type: 2, style: 2, custom_id: encode('remix', job.id, 'go'), label: ctx.t('remix.submitButton') },
      ],
    },
  ] as never;
}

/** "Edit prompt": the prompt the upstream proposed, to edit. */
export function remixPromptModal(job: Job, prefill: string, ctx: Ctx) {
  return modal(encode('remixModal', job.id), ctx.t('modals.remix.title'), [
    { id: 'prompt', label: ctx.t('modals.prompt.label'), value: prefill.slice(0, MODAL_TEXT_MAX) },
  ]);
}

/** The job waiting for its remix prompt, if it still waits and is the presser's. */
export async function remixJob(i: Interaction, jobId: string, ctx: Ctx): Promise<Job> {
  const job = await ctx.services.jobs.get(jobId);
  if (!job || job.status !== 'modal') throw new UserError('errors.remixExpired');
  if (i.user.id !== job.owner.userId) throw new UserError('errors.notYourJob', { user: `<@${job.owner.userId}>` });
  return job;
}

function remixPrefill(job: Job): string {
  return String(job.upstream.prefill ?? job.prompt);
}
