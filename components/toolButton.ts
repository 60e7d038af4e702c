import { admitBeforeDownload } from '../src/discord/interactions/admission.js';
import { component } from '../src/discord/interactions/interactionKit.js';
import { afterPress, pressedButton } from '../src/discord/interactions/pressedButton.js';
import { imageToolOf, readToolAction, toolOrigin, type ToolPressed } from '../src/discord/flows/toolButtons.js';
import { limitsFor, PICWISH_LIMITS, resultImage } from '../src/discord/flows/toolInputs.js';
import { startTool } from '../src/discord/flows/toolJobs.js';
import { toolButtonModalFor } from './toolButtonModal.js';

/**
 * A button the bot adds to face-swap, inpaint and image-tool results (`mj:t:<key>`): restore face, remove background
 * and upscale start at once on the result image; swap again and inpaint again open their modal first.
 */
export const toolButton = component({
  route: 'toolButton',
  accepts: 'button',
  parse: (key, i, ctx): Promise<ToolPressed> => pressedButton(i, key, ctx, readToolAction),
  // a modal must be the first answer: everything it shows comes from the store
  ack: (p) => (imageToolOf(p.spec) ? 'update' : 'none'),
  async run(i, p, ctx) {
    const tool = imageToolOf(p.spec);
    if (!tool) {
      await i.showModal(toolButtonModalFor(p, ctx));
      return;
    }
    await admitBeforeDownload(i, ctx); // refused by a limit: not even the result image is fetched again
    await afterPress(i, p, ctx, { claim: true }, async () => {
      const image = await resultImage(p.parent, ctx, limitsFor(PICWISH_LIMITS, i.attachmentSizeLimit));
      await startTool(await toolOrigin(i, p, ctx), { tool, image });
    });
  },
});
