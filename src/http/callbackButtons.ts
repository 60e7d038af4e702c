import { z } from 'zod';
import type { MjButton } from '../upstream/mjTypes.js';

/**
 * The buttons a Midjourney Proxy callback body carries for its task (the body is the full task, as /fetch returns it,
 * `buttons` included). The form reseller (task-form) names no buttons on `/fetch`: its customIds come only with the
 * callback, so they are what an upscale's panel is drawn from there. Read only from callbacks that passed the secret
 * check, and bounded: at most MAX_BUTTONS buttons, each a Midjourney customId (`MJ::…`) Discord could carry.
 */
export const MAX_CALLBACK_BUTTONS = 25;

const text = (max: number) => z.string().max(max).optional().catch(undefined);

const buttonSchema = z.object({
  customId: z
    .string()
    .min(5)
    .max(100)
    .regex(/^MJ::[A-Za-z0-9_:.-]+$/),
  label: text(80),
  emoji: text(64),
  style: z.number().int().min(1).max(5).optional().catch(undefined),
  type: z.number().int().optional().catch(undefined),
});

const bodySchema = z.object({ buttons: z.array(z.unknown()).max(MAX_CALLBACK_BUTTONS) });

/** The valid buttons of a callback body (invalid entries dropped); undefined when it carries none or too many. */
export function callbackButtons(json: unknown): MjButton[] | undefined {
  const parsed = bodySchema.safeParse(json);
  if (!parsed.success) return undefined;
  const out: MjButton[] = [];
  for (const raw of parsed.data.buttons) {
    const b = buttonSchema.safeParse(raw);
    if (!b.success) continue;
    const { customId, label, emoji, style, type } = b.data;
    out.push({
      customId,
      ...(label !== undefined ? { label } : {}),
      ...(emoji !== undefined ? { emoji } : {}),
      ...(style !== undefined ? { style } : {}),
      ...(type !== undefined ? { type } : {}),
    });
  }
  return out.length > 0 ? out : undefined;
}
