import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * A submit as the Midjourney Proxy client would send it — route, body, speed — kept instead of sent, so that a job
 * waiting in the bot's queue can be sent later, by any process, even after a restart (it is stored with the job).
 */
export interface RecordedSubmit {
  op: string;
  route: string;
  json?: Record<string, unknown> | undefined;
  /** a form-encoded body (the task-form dialect), as its query string */
  form?: string | undefined;
  mode?: string | undefined;
}

/** Thrown inside a recording by the client's submit: the work that would follow a real answer must not run. */
export class SubmitRecorded extends Error {
  constructor(readonly request: RecordedSubmit) {
    super('submit recorded, not sent');
    this.name = 'SubmitRecorded';
  }
}

const recording = new AsyncLocalStorage<true>();

/** Inside `record`: the client keeps its submit (throws SubmitRecorded) instead of sending it. */
export function isRecording(): boolean {
  return recording.getStore() === true;
}

/**
 * Run a job's submit function so that its one submit is recorded, not sent. Undefined when it sent nothing through
 * the client's submit (a submit this mechanism does not cover): such a job cannot wait in the queue.
 */
export async function record(submit: () => Promise<unknown>): Promise<RecordedSubmit | undefined> {
  try {
    await recording.run(true, submit);
    return undefined;
  } catch (err) {
    if (err instanceof SubmitRecorded) return err.request;
    throw err;
  }
}
