import type { Job } from '../jobs/model.js';
import { ImageToolError, type ImageToolErrorKind } from '../upstream/imageToolError.js';
import { MjError } from '../upstream/mjTypes.js';

/**
 * What went wrong with a job, in the words an admin needs (each kind has a label in `community.failure.kind.*`).
 * A member's own mistake (a banned prompt, a bad parameter, an unusable picture) is no failure and has no kind.
 */
export const FAILURE_KINDS = [
  // the upstream refused the submit
  'unreachable',
  'timeout',
  'serverError',
  'badAnswer',
  'refused',
  'busy',
  'setup',
  // after the submit
  'failed',
  'timedOut',
  'lost',
  // the bot's side
  'delivery',
  'other',
] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

/** Message keys of a job that ended through its member's own doing: not a failure of the service. */
const MEMBERS_OWN = new Set([
  'errors.bannedPrompt',
  'errors.bannedWord',
  'errors.invalidParameter',
  'errors.validation',
  'errors.tools.moderation',
  'errors.tools.noFace',
  'errors.tools.invalidImage',
  'errors.tools.tooLarge',
]);

const TOOL_KINDS: Record<ImageToolErrorKind, FailureKind | undefined> = {
  auth: 'setup',
  credit: 'setup',
  rejected: 'refused',
  'rate-limited': 'busy',
  unreachable: 'unreachable',
  'bad-response': 'badAnswer',
  'not-found': 'lost',
  'too-large': undefined,
  'invalid-image': undefined,
  'download-failed': 'refused',
  timeout: 'timeout',
  failed: 'refused',
  moderation: undefined,
  'no-face': undefined,
};

/** Our own HTTP layer words its timeouts this way (src/upstream/http.ts); the proxy client keeps that text. */
const TIMED_OUT = /\btimed out\b/;

/** The kind of a submit the upstream refused; undefined when the refusal was the member's own doing. */
export function submitFailureKind(err: unknown): FailureKind | undefined {
  if (err instanceof MjError) {
    if (err.details.gate) return 'setup';
    const status = err.details.httpStatus ?? 0;
    switch (err.kind) {
      case 'banned-prompt':
      case 'validation':
        return undefined;
      case 'unreachable':
        return TIMED_OUT.test(err.message) ? 'timeout' : 'unreachable';
      case 'bad-response':
        return status >= 500 ? 'serverError' : 'badAnswer';
      case 'failure':
        return status >= 500 ? 'serverError' : 'refused';
      case 'queue-full':
      case 'rate-limited':
        return 'busy';
      case 'no-account':
      case 'auth':
      case 'unsupported':
        return 'setup';
      case 'not-found':
        return 'lost';
    }
  }
  if (err instanceof ImageToolError) {
    if (err.notSent && err.kind !== 'rate-limited') return undefined; // refused here, before anything was sent
    if (err.kind === 'unreachable' && TIMED_OUT.test(err.message)) return 'timeout';
    if (err.kind === 'unreachable' && (err.status ?? 0) >= 500) return 'serverError';
    return TOOL_KINDS[err.kind];
  }
  return 'other';
}

/**
 * The kind of a job that failed after it was submitted; undefined when its member's input made it fail, or when the
 * upstream never took it (a refused submit: `submitFailureKind` names that one, from what the upstream threw).
 */
export function jobFailureKind(job: Pick<Job, 'status' | 'error' | 'upstreamId'>): FailureKind | undefined {
  if (job.status !== 'failed') return undefined;
  const key = job.error?.key ?? '';
  if (MEMBERS_OWN.has(key)) return undefined;
  // a job may also end before reaching the upstream: lost in a crash while being sent, or out of time in the bot's queue
  if (key === 'errors.timeout' || key === 'errors.timeoutSeconds' || key === 'errors.upstreamTimeout' || key === 'errors.tools.timeout') return 'timedOut';
  if (key === 'errors.lostDuringRestart' || key === 'errors.taskNotFound' || key === 'errors.tools.lostTrack') return 'lost';
  if (!job.upstreamId) return undefined;
  if (key === 'errors.upstreamAccount') return 'setup';
  return 'failed';
}
