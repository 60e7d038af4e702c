import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The bot as its own OS process, for tests that must kill it (-9) or signal it, and for the benchmark.
 * By default it runs the sources through tsx (always current); `compiled: true` runs the transpiled `dist/` with
 * the same node flags as `npm start` (run `npm run build` first). Its JSON log lines are collected.
 */
export class BotProcess {
  readonly lines: string[] = [];
  private exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private constructor(readonly child: ChildProcess) {
    let buf = '';
    const onData = (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        this.lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  static async start(env: Record<string, string>, opts: { readyTimeoutMs?: number; compiled?: boolean } = {}): Promise<BotProcess> {
    const args = opts.compiled ? ['--max-semi-space-size=2', '--enable-source-maps', 'dist/src/main.js'] : ['--import', 'tsx', 'src/main.ts'];
    // profiling a run: MJ_RELAY_CPU_PROF=<dir> writes a V8 CPU profile of the bot process there
    if (process.env.MJ_RELAY_CPU_PROF) args.unshift('--cpu-prof', `--cpu-prof-dir=${process.env.MJ_RELAY_CPU_PROF}`);
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const bot = new BotProcess(child);
    await bot.waitForLog(/mj-relay is ready/, opts.readyTimeoutMs ?? 20_000);
    return bot;
  }

  /** Wait for a log line matching the pattern (bounded). */
  async waitForLog(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.find((l) => pattern.test(l));
      if (line) return line;
      if (this.child.exitCode !== null) throw new Error(`bot exited (${this.child.exitCode}) before logging ${pattern}:\n${this.lines.slice(-20).join('\n')}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; last lines:\n${this.lines.slice(-20).join('\n')}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child.kill(signal);
  }

  /** Resolves when the process has exited (bounded; kills it -9 past the timeout). */
  async exit(timeoutMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
    const started = Date.now();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const r = await this.exited;
    clearTimeout(timer);
    return { ...r, ms: Date.now() - started };
  }

  /** Stop the bot: SIGTERM (a clean shutdown), SIGKILL if it has not exited within 3 s. */
  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      await this.exit(process.env.MJ_RELAY_CPU_PROF ? 15_000 : 3000);
    }
  }
}
