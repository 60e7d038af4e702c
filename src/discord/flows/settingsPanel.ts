import { ComponentType, type APIActionRowComponent, type APIComponentInMessageActionRow, type APISelectMenuOption } from 'discord.js';
import type { UserSettings } from '../../store/repositories.js';
import { encode } from '../interactions/customId.js';
import type { Ctx } from '../interactions/interactionKit.js';

/**
 * The /settings panel: one select per setting (route `settings`, handled by components/settings.ts), saved per
 * user on every choice.
 * Jobs read the settings when they start (delivery, bot, speed) and when a button is pressed (remix).
 */

type Field = 'delivery' | 'bot' | 'speed' | 'remix';

interface FieldSpec {
  values: readonly string[];
  current(s: UserSettings): string;
  patch(value: string): Partial<UserSettings>;
  label(value: string, ctx: Ctx): string;
}

const FIELDS: Record<Field, FieldSpec> = {
  delivery: {
    values: ['channel', 'dm', 'both'],
    current: (s) => s.delivery ?? 'channel',
    // choosing DMs again means the user opened them: forget that they were closed
    patch: (v) => ({ delivery: v as UserSettings['delivery'], ...(v === 'channel' ? {} : { dmClosed: false }) }),
    label: (v, ctx) => ctx.t(`commands.choices.delivery.${v}.name`),
  },
  bot: {
    values: ['MID_JOURNEY', 'NIJI_JOURNEY'],
    current: (s) => s.botType ?? 'MID_JOURNEY',
    patch: (v) => ({ botType: v as UserSettings['botType'] }),
    label: (v, ctx) => ctx.t(v === 'NIJI_JOURNEY' ? 'commands.choices.bot.niji.name' : 'commands.choices.bot.midjourney.name'),
  },
  speed: {
    values: ['default', 'fast', 'relax', 'turbo'],
    current: (s) => s.speed ?? 'default',
    patch: (v) => ({ speed: v === 'default' ? undefined : (v as UserSettings['speed']) }),
    label: (v, ctx) => (v === 'default' ? ctx.t('settings.speedDefault') : ctx.t(`commands.choices.speed.${v}.name`)),
  },
  remix: {
    values: ['off', 'on'],
    current: (s) => (s.remix ? 'on' : 'off'),
    patch: (v) => ({ remix: v === 'on' }),
    label: (v, ctx) => ctx.t(v === 'on' ? 'settings.remixOn' : 'settings.remixOff'),
  },
};

const ORDER: Field[] = ['delivery', 'bot', 'speed', 'remix'];

/** The panel's message: a summary and the four selects showing the current choices. */
export function settingsPanel(
  s: UserSettings,
  ctx: Ctx,
  note?: string,
): { content: string; components: APIActionRowComponent<APIComponentInMessageActionRow>[] } {
  const lines = [`**${ctx.t('settings.title')}**`, ctx.t('settings.intro'), settingsSummary(s, ctx)];
  if (note) lines.push(note);
  return {
    content: lines.join('\n'),
    components: ORDER.map((field) => {
      const spec = FIELDS[field];
      const current = spec.current(s);
      const options: APISelectMenuOption[] = spec.values.map((v) => ({ label: spec.label(v, ctx).slice(0, 100), value: v, default: v === current }));
      return {
        type: ComponentType.ActionRow,
        components: [
          {
            type: ComponentType.StringSelect,
            custom_id: encode('settings', field),
            placeholder: ctx.t(`settings.placeholder.${field}`).slice(0, 150),
            min_values: 1,
            max_values: 1,
            options,
          },
        ],
      };
    }),
  };
}

/** One line: "Delivery: … · Bot: … · Speed: … · Remix: …" */
export function settingsSummary(s: UserSettings, ctx: Ctx): string {
  return ORDER.map((field) => `${ctx.t(`settings.field.${field}`)}: ${FIELDS[field].label(FIELDS[field].current(s), ctx)}`).join(' · ');
}

/** What choosing `value` in the select of `field` changes; undefined for a field or value the panel never offers. */
export function settingsChoice(field: string, value: string | undefined): Partial<UserSettings> | undefined {
  const spec = (FIELDS as Partial<Record<string, FieldSpec>>)[field];
  if (!spec || value === undefined || !spec.values.includes(value)) return undefined;
  return spec.patch(value);
}
