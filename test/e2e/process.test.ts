import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { BotProcess } from '../support/botProcess.js';
import { waitForResult } from '../support/discordHelpers.js';
import { World } from '../support/world.js';

/** Test-only preload: SIGUSR2 raises a fault inside the real bot process (the product has no such hook). */
const FAULT_PRELOAD = fileURLToPath(new URL('../support/faultOnSignal.mjs', import.meta.url));

/**
 * A bug nobody caught leaves the process in an unknown state: it logs the error and exits non-zero, and the
 * supervisor's restart resumes the jobs from the store.
 */
describe('process crash behaviour (the bot as its own process)', () => {
  let world: World | undefined;
  let bots: BotProcess[] = [];
  afterEach(async () => {
    for (const b of bots) await b.close();
    bots = [];
    await world?.close();
    world = undefined;
  });

  async function bot(extra: Record<string, string> = {}): Promise<BotProcess> {
    const b = await BotProcess.start({ ...world!.env(), LOG_LEVEL: 'info', ...extra });
    bots.push(b);
    return b;
  }

  for (const [fault, message, logged] of [
    ['exception', 'a bug nobody caught', 'uncaught exception'],
    ['rejection', 'a promise nobody awaited', 'unhandled promise rejection'],
  ] as const) {
    it(`an ${logged} is logged with its stack and the process exits non-zero; the restarted bot delivers the job in flight`, async () => {
      world = await World.fakesOnly({ proxy: { stepMs: 300 } });
      const { discord, proxy } = world;
      const faulty = await bot({ NODE_OPTIONS: `--import ${FAULT_PRELOAD}`, TEST_FAULT_ON_SIGUSR2: fault });
      const prompt = `through an ${fault}`;
      discord.slash({ name: 'imagine', options: { prompt }, user: discord.alice });
      await discord.waitFor(() => [...proxy.tasks.values()].find((t) => t.prompt === prompt), { timeoutMs: 10_000 });
      // the bot recorded the accepted task (it polls it) before the fault: a crash mid-submit is another story
      const submitted = proxy.requests.length;
      await discord.waitFor(() => proxy.requests.slice(submitted).find((r) => /list-by-condition|\/fetch$/.test(r.route)), { timeoutMs: 10_000 });

      faulty.kill('SIGUSR2');
      const exit = await faulty.exit(5000);
      expect(exit.signal).toBeNull(); // it exited by itself, not by the test's SIGKILL past the bound
      expect(exit.code).toBe(1);
      const line = faulty.lines.find((l) => l.includes(logged));
      expect(line, faulty.lines.slice(-5).join('\n')).toBeDefined();
      const entry = JSON.parse(line!) as { level: number; err: { message: string; stack: string } };
      expect(entry.level).toBe(60); // fatal
      expect(entry.err.message).toContain(message);
      expect(entry.err.stack).toContain('faultOnSignal');

      // the supervisor restarts it; the job in flight is resumed from the store and delivered once
      await bot();
      const result = await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes(prompt), timeoutMs: 20_000 });
      expect(result.attachments).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 500));
      expect(discord.allMessages().filter((m) => !m.deleted && m.attachments.length > 0 && m.content.includes(prompt))).toHaveLength(1);
    }, 60_000);
  }
});
