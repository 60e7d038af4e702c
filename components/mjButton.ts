import type { MappedButton } from '../src/mj/buttons.js';
import { component, replyEphemeral } from '../src/discord/interactions/interactionKit.js';
import { readMjButton, startAction, type MjPressed } from '../src/discord/flows/mjAction.js';
import { afterPress, pressedKey, withParent, type PressedKey } from '../src/discord/interactions/pressedButton.js';
import { drawsInEditor, offerRegionEditor } from '../src/discord/flows/maskEditor.js';
import { mjButtonModalFor } from './mjButtonModal.js';
import { remixChoiceRows } from './remix.js';

/** A press that opens its modal first (read whole, the modal shows the parent), or one that starts work (parent read after the acknowledgement). */
type MjPress = { modalFirst: true; pressed: MjPressed } | { modalFirst: false; editor?: boolean; pressed: PressedKey<MappedButton> };

/**
 * A Midjourney button on a result (U/V/🔄, upscale panel, zoom, pan, animate, describe picks …): `mj:b:<key>`.
 * A button that needs input (Custom Zoom, Vary Region, remix on, a describe pick) opens its modal first;
 * any other starts its job at once.
 */
export const mjButton = component({
  route: 'mjButton',
  accepts: 'button',
  // only what decides the acknowledgement is read before it: the record and the member's remix setting, side by side
  async parse(key, i, ctx): Promise<MjPress> {
    const [pressed, settings] = await Promise.all([pressedKey(i, key, ctx, readMjButton), ctx.services.repos.users.settings(i.user.id)]);
    // Vary (Region) with PUBLIC_URL: an ephemeral "Open editor" link instead of the mask modal
    const editor = drawsInEditor(pressed.spec.kind, ctx.services);
    const modalFirst = !editor && (pressed.spec.modal === 'always' || (pressed.spec.modal === 'remix' && settings.remix === true));
    return modalFirst ? { modalFirst, pressed: await withParent(pressed, ctx) } : { modalFirst, editor, pressed };
  },
  // a modal must be the first response: everything it shows comes from the store, nothing from the upstream
  ack: (press) => (press.modalFirst ? 'none' : press.editor ? 'ephemeral' : 'update'),
  async run(i, press, ctx) {
    if (press.modalFirst) {
      await i.showModal(mjButtonModalFor(press.pressed, ctx));
      return;
    }
    const p = await withParent(press.pressed, ctx); // gone meanwhile: told in an ephemeral follow-up
    if (press.editor) return offerRegionEditor(i, p, ctx);
    const job = await afterPress(i, p, ctx, { claim: true }, () => startAction(i, ctx, p, {}));
    // Remix is on for the upstream account: it wants the prompt confirmed, but a deferred click cannot open a modal
    if (job?.status === 'modal') await replyEphemeral(i, ctx.t('remix.prompted'), { components: remixChoiceRows(job, ctx) });
  },
});
