import { component, replyEphemeral } from '../src/discord/interactions/interactionKit.js';
import { readMjButton, startAction, type MjPressed } from '../src/discord/flows/mjAction.js';
import { afterPress, pressedButton } from '../src/discord/interactions/pressedButton.js';
import { mjButtonModalFor } from './mjButtonModal.js';
import { remixChoiceRows } from './remix.js';

/**
 * A Midjourney button on a result (U/V/🔄, upscale panel, zoom, pan, animate, describe picks …): `mj:b:<key>`.
 * A button that needs input (Custom Zoom, Vary Region, remix on, a describe pick) opens its modal first;
 * any other starts its job at once.
 */
export const mjButton = component({
  route: 'mjButton',
  accepts: 'button',
  async parse(key, i, ctx): Promise<{ p: MjPressed; modalFirst: boolean }> {
    const p = await pressedButton(i, key, ctx, readMjButton);
    const settings = await ctx.services.repos.users.settings(i.user.id);
    return { p, modalFirst: p.spec.modal === 'always' || (p.spec.modal === 'remix' && settings.remix === true) };
  },
  // a modal must be the first response: everything it shows comes from the store, nothing from the upstream
  ack: ({ modalFirst }) => (modalFirst ? 'none' : 'update'),
  async run(i, { p, modalFirst }, ctx) {
    if (modalFirst) {
      await i.showModal(mjButtonModalFor(p, ctx));
      return;
    }
    const job = await afterPress(i, p, ctx, { claim: true }, () => startAction(i, ctx, p, {}));
    // Remix is on for the upstream account: it wants the prompt confirmed, but a deferred click cannot open a modal
    if (job?.status === 'modal') await replyEphemeral(i, ctx.t('remix.prompted'), { components: remixChoiceRows(job, ctx) });
  },
});
