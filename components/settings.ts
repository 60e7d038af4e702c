import { component, UserError } from '../src/discord/interactions/interactionKit.js';
import { settingsChoice, settingsPanel } from '../src/discord/flows/settingsPanel.js';

/** A /settings select (`mj:set:<field>`): the choice is saved for the member, then the panel shows it. */
export const settings = component({
  route: 'settings',
  accepts: 'select',
  async parse(field, i) {
    const patch = settingsChoice(field, i.values[0]);
    if (!patch) throw new UserError('settings.invalid');
    return patch;
  },
  // the panel is updated in place once the choice is saved (one answer, no deferral)
  ack: 'none',
  async run(i, patch, ctx) {
    const next = await ctx.services.repos.users.updateSettings(i.user.id, patch);
    const panel = settingsPanel(next, ctx, ctx.t('settings.saved'));
    await i.update({ content: panel.content, components: panel.components as never, allowedMentions: { parse: [] } });
  },
});
