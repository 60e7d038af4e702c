import { ImageToolError } from '../upstream/imageToolError.js';
import { describeImageToolError } from './imgOpenProvider.js';
import type { Msg } from './model.js';
import { describeMjError } from './mjProvider.js';
import { scrubMsg } from './scrubbedUpdates.js';

/**
 * What a member is told when an upstream refuses a job at submit: the image tools' wording for their errors
 * (Img Open and PicWish), the Midjourney proxy's for everything else; free of every configured secret.
 */
export function describeSubmitError(err: unknown, secrets: readonly string[]): Msg {
  return scrubMsg(err instanceof ImageToolError ? describeImageToolError(err) : describeMjError(err), secrets);
}
