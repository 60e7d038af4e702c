import type { Interaction } from 'discord.js';
import type { GuildRules } from '../../community/rules.js';
import type { Config } from '../../config.js';
import type { Job } from '../../jobs/model.js';
import type { ButtonRecord } from '../../store/repositories.js';
import { memberRoleIds, replyEphemeral, UserError, type Ctx } from './interactionKit.js';
import { findButton } from './jobAccess.js';

/**
 * What every component on a result's button shares: the guard that turns a pressed key into its record, its parent
 * job and the permission to press it, and the step after a press (double-click claim, release on failure, drawn as
 * used). Buttons are keyed in the store, so a press works the same after a restart.
 */

/** A second press of the same button inside this window is a double click. */
export const PRESS_WINDOW_MS = 5000;

export interface Pressed<S> {
  /** the key in the custom_id */
  key: string;
  record: ButtonRecord;
  parent: Job;
  /** what the record stands for, as the route reads it (an upstream button, a tool action …) */
  spec: S;
}

/** Owner only by default; the server's rule (/admin rules buttons) or BUTTON_ACCESS=anyone|roles widens it. */
export function mayPress(interaction: Interaction, ownerId: string, config: Config, rules?: GuildRules): boolean {
  if (interaction.user.id === ownerId) return true;
  const access = rules?.buttons ?? config.buttons;
  if (access.access === 'anyone') return true;
  if (access.access === 'roles') {
    const roles = memberRoleIds(interaction);
    return access.roles.some((r) => roles.includes(r));
  }
  return false;
}

/** A pressed key whose record passed the guard (known, not expired, this member may press it, this route's); no parent read yet. */
export type PressedKey<S> = Omit<Pressed<S>, 'parent'>;

/**
 * The first half of the pressed-button guard, one store read: key → stored record (expired past JOB_RETENTION_DAYS,
 * or unknown: says so) → may this member press it → what the route makes of the record (`read`, undefined: not this
 * route's). A route whose acknowledgement depends on the record reads this much before acknowledging, no more.
 */
export async function pressedKey<S>(i: Interaction, key: string, ctx: Ctx, read: (record: ButtonRecord) => S | undefined): Promise<PressedKey<S>> {
  const record = await findButton(i, key, ctx);
  if (!mayPress(i, record.ownerId, ctx.services.config, ctx.rules)) throw new UserError('errors.notYourJob', { user: `<@${record.ownerId}>` });
  const spec = read(record);
  if (spec === undefined) throw new UserError('errors.buttonExpired');
  return { key, record, spec };
}

/** The second half: the pressed key's parent job (gone: the button has expired). */
export async function withParent<S>(pressed: PressedKey<S>, ctx: Ctx): Promise<Pressed<S>> {
  const parent = await ctx.services.jobs.get(pressed.record.jobId);
  if (!parent) throw new UserError('errors.buttonExpired');
  return { ...pressed, parent };
}

/** The whole pressed-button guard: the key's record and the member's right to press it, then its parent job. */
export async function pressedButton<S>(i: Interaction, key: string, ctx: Ctx, read: (record: ButtonRecord) => S | undefined): Promise<Pressed<S>> {
  return withParent(await pressedKey(i, key, ctx, read), ctx);
}

/**
 * The one step after a press that starts work: claim the key against a double click (`claim`: a button press;
 * a modal submit is one deliberate act and is not claimed), release the claim if the work fails, and on success
 * draw the button as used on the parent's results. Returns undefined when the press was a double click (told so).
 */
export async function afterPress<T>(i: Interaction, p: Pressed<unknown>, ctx: Ctx, opts: { claim: true }, work: () => Promise<T>): Promise<T | undefined>;
export async function afterPress<T>(i: Interaction, p: Pressed<unknown>, ctx: Ctx, opts: { claim: false }, work: () => Promise<T>): Promise<T>;
export async function afterPress<T>(i: Interaction, p: Pressed<unknown>, ctx: Ctx, opts: { claim: boolean }, work: () => Promise<T>): Promise<T | undefined> {
  const buttons = ctx.services.repos.buttons;
  if (opts.claim && !(await buttons.claim(p.key, PRESS_WINDOW_MS))) {
    if (i.isRepliable()) await replyEphemeral(i, ctx.t('errors.alreadyPressed'));
    return undefined;
  }
  let out: T;
  try {
    out = await work();
  } catch (err) {
    if (opts.claim) await buttons.release(p.key);
    throw err;
  }
  await markUsed(p.parent, p.record.customId, ctx);
  return out;
}

/** Draw the pressed button as used on the parent's result messages. */
async function markUsed(parent: Job, pressedId: string, ctx: Ctx): Promise<void> {
  if (parent.usedButtons?.includes(pressedId)) return;
  const saved = await ctx.services.repos.jobs.update(
    parent.id,
    (j) => {
      j.usedButtons = [...new Set([...(j.usedButtons ?? []), pressedId])];
    },
    ctx.services.now(),
  );
  if (saved) await ctx.services.delivery.redrawButtons(saved.id);
}
