import type { Logger } from '../log.js';

/** pass ✓, fail ✗ (with a fix), skip – (not configured, or needs a check that failed first) */
export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  id: string;
  title: string;
  status: CheckStatus;
  /** what was found (never a secret) */
  detail?: string | undefined;
  /** for a failure: what to change, naming the variable */
  fix?: string | undefined;
}

export interface DoctorContext {
  logger: Logger;
  /** bound on each network call */
  timeoutMs: number;
}

export const pass = (id: string, title: string, detail?: string): CheckResult => ({ id, title, status: 'pass', detail });
export const fail = (id: string, title: string, detail: string, fix: string): CheckResult => ({ id, title, status: 'fail', detail, fix });
export const skip = (id: string, title: string, detail: string): CheckResult => ({ id, title, status: 'skip', detail });

/** A URL fit to print: no user-info, no query string. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(invalid URL)';
  }
}

/** Resolve with the fallback when the promise takes longer than ms (the promise is left to settle on its own). */
export async function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout()), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

export function errorText(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const cause = e instanceof Error && e.cause instanceof Error ? ` (${(e.cause as { code?: string }).code ?? e.cause.message})` : '';
  return `${msg}${cause}`.slice(0, 300);
}
