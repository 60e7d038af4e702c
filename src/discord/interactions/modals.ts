import { ComponentType, TextInputStyle, type APIModalInteractionResponseCallbackData } from 'discord.js';

/** Modal JSON (Label-wrapped inputs, the current Discord layout). Titles ≤ 45, labels ≤ 45, text ≤ 4000. */

export const MODAL_TEXT_MAX = 4000;

const clip = (s: string, n: number) => (s.length > n ? s.slice(0, n) : s);

export interface TextField {
  id: string;
  label: string;
  description?: string;
  value?: string;
  placeholder?: string;
  required?: boolean;
  paragraph?: boolean;
  maxLength?: number;
}

export interface FileField {
  id: string;
  label: string;
  description?: string;
  required?: boolean;
}

export function modal(customId: string, title: string, fields: (TextField | (FileField & { file: true }))[]): APIModalInteractionResponseCallbackData {
  return {
    custom_id: customId,
    title: clip(title, 45),
    components: fields.slice(0, 5).map((f) => {
      if ('file' in f) {
        return {
          type: ComponentType.Label,
          label: clip(f.label, 45),
          ...(f.description ? { description: clip(f.description, 100) } : {}),
          component: { type: ComponentType.FileUpload, custom_id: f.id, min_values: f.required ? 1 : 0, max_values: 1, required: f.required ?? false },
        };
      }
      const max = Math.min(f.maxLength ?? MODAL_TEXT_MAX, MODAL_TEXT_MAX);
      return {
        type: ComponentType.Label,
        label: clip(f.label, 45),
        ...(f.description ? { description: clip(f.description, 100) } : {}),
        component: {
          type: ComponentType.TextInput,
          custom_id: f.id,
          style: f.paragraph === false ? TextInputStyle.Short : TextInputStyle.Paragraph,
          required: f.required ?? true,
          max_length: max,
          ...(f.value ? { value: clip(f.value, max) } : {}),
          ...(f.placeholder ? { placeholder: clip(f.placeholder, 100) } : {}),
        },
      };
    }),
  } as APIModalInteractionResponseCallbackData;
}
