import { checkVersionRules } from '../../mj/versionRules.js';
import { UserError, type Ctx } from '../interactions/interactionKit.js';

/** Midjourney's default when MJ_DEFAULT_VERSION is not set. */
export const DEFAULT_MJ_VERSION = '7';

/**
 * Refuse (UserError, before anything is sent) a prompt with a parameter its model version does not take. The
 * version is the prompt's own, else `fallbackVersion` (a button's parent as the proxy reported it, "v 8.1"), else
 * the configured default (MJ_DEFAULT_VERSION).
 */
export function refuseUnfitParams(
  prompt: string,
  ctx: Ctx,
  o: { botType?: string | undefined; fallbackVersion?: string | undefined; extraParams?: readonly string[] | undefined } = {},
): void {
  const defaultVersion = o.fallbackVersion ?? ctx.services.config.mj.defaultVersion ?? DEFAULT_MJ_VERSION;
  const refusal = checkVersionRules(prompt, { botType: o.botType, defaultVersion, extraParams: o.extraParams });
  if (refusal) throw new UserError(refusal.key, refusal.params);
}
