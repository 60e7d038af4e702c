import { ImageToolError } from '../upstream/imageToolError.js';
import { MjError } from '../upstream/mjTypes.js';
import { describeImageToolError } from './imgOpenProvider.js';
import type { Msg } from './model.js';
import { describeMjError } from './mjProvider.js';
import { scrubMsg } from './scrubbedUpdates.js';

/**
 * What a member is told when an upstream refuses a job at submit: the image tools' wording for their errors
 * (Img Open and PicWish), a plain "what the admin must enable" when the proxy named a feature gate (video
 * disabled, Remix off, no able account, no route), the Midjourney proxy's wording for everything else; free of
 * every configured secret.
 */
export function describeSubmitError(err: unknown, secrets: readonly string[]): Msg {
  if (err instanceof ImageToolError) return scrubMsg(describeImageToolError(err), secrets);
  return scrubMsg(describeFeatureGate(err) ?? describeMjError(err), secrets);
}

/** `videoCommand.gate.<gate>` for a refusal that names a feature the admin must enable; undefined otherwise. */
export function describeFeatureGate(err: unknown): Msg | undefined {
  if (!(err instanceof MjError) || !err.details.gate || err.details.feature !== 'video') return undefined;
  return { key: `videoCommand.gate.${err.details.gate}` };
}
