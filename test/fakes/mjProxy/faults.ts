// Transport faults, each for the next n matching requests (optional route substring).

export interface FailSpec {
  /** default 500 */
  status?: number;
  /** string sent as-is, anything else as JSON; default TA's 500 `Result` envelope "操作失败" */
  body?: unknown;
  contentType?: string;
}

export type Fault =
  | { kind: 'fail'; spec: FailSpec }
  | { kind: 'hang' }
  | { kind: 'reset' }
  | { kind: 'invalid-json' }
  | { kind: 'wrong-content-type' }
  | { kind: 'redirect'; location: string };

interface Entry {
  fault: Fault;
  remaining: number;
  match?: string | undefined;
}

export class FaultQueue {
  private entries: Entry[] = [];

  add(n: number, fault: Fault, match?: string): void {
    if (n > 0) this.entries.push({ fault, remaining: n, match });
  }

  /** The fault for a request to `path` (consumes one use), or undefined. */
  take(path: string): Fault | undefined {
    const e = this.entries.find((x) => x.remaining > 0 && (x.match === undefined || path.includes(x.match)));
    if (!e) return undefined;
    e.remaining -= 1;
    this.entries = this.entries.filter((x) => x.remaining > 0);
    return e.fault;
  }

  pending(): number {
    return this.entries.reduce((n, e) => n + e.remaining, 0);
  }

  clear(): void {
    this.entries = [];
  }
}

/** Forced submit outcomes (`nextSubmitCode`). */
export interface ForcedCode {
  code: number;
  description: string;
  remaining: number;
}

export const DEFAULT_DESCRIPTIONS: Record<number, string> = {
  3: '无可用的账号实例',
  4: '参数错误',
  9: '提交失败，队列已满，请稍后重试',
  21: 'Waiting for window confirm',
  22: '排队中',
  23: '队列已满，请稍后尝试',
  24: '可能包含敏感词',
};
