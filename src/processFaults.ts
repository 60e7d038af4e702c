import type { Logger } from './log.js';

export interface ProcessFaultDeps {
  logger: Logger;
  /** the process whose faults are handled (tests may pass an EventEmitter of their own) */
  proc?: Pick<NodeJS.Process, 'on'>;
  /** how to leave: process.exit by default */
  exit?: (code: number) => void;
}

/** The exit code after a fault nobody handled (a supervisor restarts on any non-zero code). */
export const FAULT_EXIT_CODE = 1;

/**
 * After an uncaught exception or an unhandled promise rejection some piece of work stopped half way, and nobody
 * knows which: a lock may be held for ever, a job may never be delivered. Carrying on in that state is worse
 * than a restart, which loses nothing (jobs and button keys are in the store and resume on start), so both are
 * logged with their stack and the process exits non-zero at once, without a graceful stop that could itself
 * hang on the broken state. Rejections are treated like exceptions (Node's own default since v15): in this
 * code base every promise is awaited or deliberately `void`ed with its own catch, so an unhandled one is a bug.
 */
export function exitOnProcessFaults(d: ProcessFaultDeps): void {
  const proc = d.proc ?? process;
  const exit = d.exit ?? ((code: number) => process.exit(code));
  let exiting = false;
  const fault = (what: string) => (err: unknown) => {
    if (exiting) return; // a second fault while leaving: the first one is what the log shows
    exiting = true;
    try {
      d.logger.fatal({ err }, `${what}: exiting so that a restart resumes the jobs from the store`);
    } finally {
      exit(FAULT_EXIT_CODE);
    }
  };
  proc.on('uncaughtException', fault('uncaught exception'));
  proc.on('unhandledRejection', fault('unhandled promise rejection'));
}
