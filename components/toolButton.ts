import { admitBeforeDownload } from '../src/discord/interactions/admission.js';
import { component } from '../src/discord/interactions/interactionKit.js';
import { afterPress, pressedKey, withParent, type PressedKey } from '../src/discord/interactions/pressedButton.js';
import { imageToolOf, readToolAction, type ToolAction, toolOrigin, type ToolPressed } from '../src/discord/flows/toolButtons.js';
import { limitsFor, PICWISH_LIMITS, resultImage } from '../src/discord/flows/toolInputs.js';
import { startTool, type ImageTool } from '../src/discord/flows/toolJobs.js';
import { drawsInEditor, offerInpaintEditor } from '../src/discord/flows/maskEditor.js';
import { toolButtonModalFor } from './toolButtonModal.js';

/** Swap again / inpaint again open their modal (read whole: it shows the parent); the image tools start work (parent read after the acknowledgement). */
type ToolPress = { tool: undefined; editor: boolean; pressed: ToolPressed } | { tool: ImageTool; pressed: PressedKey<ToolAction> };

/**
 * A button the bot adds to face-swap, inpaint and image-tool results (`mj:t:<key>`): restore face, remove background
 * and upscale start at once on the result image; swap again and inpaint again open their modal first.
 */
export const toolButton = component({
  route: 'toolButton',
  accepts: 'button',
  // only the record (what the button stands for) is read before the acknowledgement, unless a modal needs the parent
  async parse(key, i, ctx): Promise<ToolPress> {
    const pressed = await pressedKey(i, key, ctx, readToolAction);
    const tool = imageToolOf(pressed.spec);
    // Inpaint again with PUBLIC_URL: an ephemeral "Open editor" link instead of the mask modal
    return tool ? { tool, pressed } : { tool, editor: drawsInEditor(pressed.spec, ctx.services), pressed: await withParent(pressed, ctx) };
  },
  // a modal must be the first answer: everything it shows comes from the store
  ack: (press) => (press.tool ? 'update' : press.editor ? 'ephemeral' : 'none'),
  async run(i, press, ctx) {
    const { tool } = press;
    if (!tool) {
      if (press.editor) return offerInpaintEditor(i, press.pressed, ctx);
      await i.showModal(toolButtonModalFor(press.pressed, ctx));
      return;
    }
    await admitBeforeDownload(i, ctx); // refused by a limit: not even the result image is fetched again
    const p = await withParent(press.pressed, ctx);
    await afterPress(i, p, ctx, { claim: true }, async () => {
      const image = await resultImage(p.parent, ctx, limitsFor(PICWISH_LIMITS, i.attachmentSizeLimit));
      await startTool(await toolOrigin(i, p, ctx), { tool, image });
    });
  },
});
