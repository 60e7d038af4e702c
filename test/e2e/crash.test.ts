import { afterEach, describe, expect, it } from 'vitest';
import type { FakeMessage } from '../fakes/discord/index.js';
import { BotProcess } from '../support/botProcess.js';
import { button, waitForResult } from '../support/discordHelpers.js';
import { World } from '../support/world.js';

/** kill -9 and SIGTERM against the real process: nothing is lost, nothing is delivered twice. */
describe('crash safety and shutdown (the bot as its own process)', () => {
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

  it('kill -9 with 20 jobs in flight (queued, running, one waiting in a modal): 20/20 delivered exactly once, old buttons work', async () => {
    world = await World.fakesOnly({ proxy: { stepMs: 350, maxConcurrent: 6 } });
    const { discord, proxy } = world;
    const first = await bot();

    // an earlier, finished result whose buttons must survive
    discord.slash({ name: 'imagine', options: { prompt: 'before the crash' }, user: discord.alice });
    const old = await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes('before the crash'), timeoutMs: 20_000 });

    // one job waiting for the user in a modal (the account's Remix asked for a prompt unannounced)
    proxy.setOptions({ remix: true });
    const v1 = discord.clickButton({ messageId: old.id, customId: button(old, 'V1').customId, user: discord.alice });
    const remix = await discord.waitFor(() => v1.followups().find((m) => m.content.includes('Remix')), { timeoutMs: 10_000 });
    proxy.setOptions({ remix: false });

    // 19 more, over two channels and two users
    const tags = Array.from({ length: 19 }, (_, i) => `crash job ${i}`);
    tags.forEach((tag, i) =>
      discord.slash({
        name: 'imagine',
        options: { prompt: tag },
        user: i % 2 ? discord.bob : discord.alice,
        channelId: i % 3 ? discord.channel.id : discord.channel2.id,
      }),
    );
    await discord.waitFor(() => tags.every((t) => [...proxy.tasks.values()].some((k) => k.prompt === t)), { timeoutMs: 20_000 });
    await discord.waitFor(() => [...proxy.tasks.values()].some((k) => k.status === 'IN_PROGRESS'), { timeoutMs: 10_000 });
    const queued = [...proxy.tasks.values()].filter((k) => tags.includes(String(k.prompt)) && k.status === 'NOT_START').length;
    expect(queued).toBeGreaterThan(0); // some were still queued upstream when the process died

    first.kill('SIGKILL');
    expect((await first.exit()).signal).toBe('SIGKILL');
    await new Promise((r) => setTimeout(r, 1000)); // some finish while the bot is down
    await bot();

    // the modal job: its buttons still work after the restart
    const edit = discord.clickButton({ messageId: remix.id, customId: button(remix, 'Submit unchanged').customId, user: discord.alice });
    await edit.firstCallback();

    const delivered = (tag: string) => discord.allMessages().filter((m) => !m.deleted && m.attachments.length > 0 && m.content.includes(`**${tag} --v 7**`));
    await discord.waitFor(() => tags.every((t) => delivered(t).length >= 1), { timeoutMs: 60_000 });
    const variation = await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes('Variations by'), timeoutMs: 20_000 }).catch((e) => {
      throw new Error(
        `modal job not delivered: ${JSON.stringify(
          discord
            .allMessages()
            .filter((m) => m.content.includes('before the crash'))
            .map((m) => [m.content, m.attachments.length, m.deleted]),
        )} edit said ${JSON.stringify(edit.callbacks.map((c) => [c.type, c.status]))} ${edit.original()?.content ?? ''} ${edit
          .followups()
          .map((m) => m.content)
          .join('|')}; ${bots
          .at(-1)!
          .lines.filter((l) => /warn|error|modal/i.test(l))
          .slice(-5)
          .join('\n')}; ${e}`,
      );
    });
    expect(variation.attachments).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1000));
    for (const t of tags) expect(delivered(t), t).toHaveLength(1); // exactly once

    // a button of a result from before the crash
    const u2 = discord.clickButton({ messageId: old.id, customId: button(old, 'U2').customId, user: discord.alice });
    expect((await u2.firstCallback()).type).toBe(6);
    await waitForResult(discord, discord.channel.id, {
      match: (m: FakeMessage) => m.content.includes('before the crash') && m.content.includes('Image #2'),
      timeoutMs: 20_000,
    });
  }, 120_000);

  it('SIGTERM: stops taking work, persists, closes the gateway, exits 0 within a few seconds; the next start resumes', async () => {
    world = await World.fakesOnly({ proxy: { stepMs: 300 } });
    const { discord, proxy } = world;
    const b = await bot();
    discord.slash({ name: 'imagine', options: { prompt: 'through a restart' }, user: discord.alice });
    await discord.waitFor(() => [...proxy.tasks.values()].find((t) => t.prompt === 'through a restart'), { timeoutMs: 10_000 });
    b.kill('SIGTERM');
    const exit = await b.exit();
    expect(exit.code).toBe(0);
    expect(exit.ms).toBeLessThan(5000);
    expect(b.lines.join('\n')).toContain('"msg":"stopped"');
    await discord.waitFor(() => !discord.gatewayConnected);

    await bot();
    const result = await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes('through a restart'), timeoutMs: 20_000 });
    expect(result.attachments).toHaveLength(1);
  }, 60_000);
});
