import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { button, waitForResult } from '../support/discordHelpers.js';
import { World } from '../support/world.js';

/** Count of the ack-latency histogram and of handled interactions, read from the bot's own /metrics. */
async function scrape(port: number): Promise<{ acks: number; components: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const acks = Number(/^mjrelay_interaction_ack_seconds_count (\S+)$/m.exec(text)?.[1] ?? NaN);
  let components = 0;
  for (const m of text.matchAll(/^mjrelay_interactions_total\{command="component:[^"]*",outcome="ok"\} (\S+)$/gm)) components += Number(m[1]);
  return { acks, components };
}

/** Button presses are acknowledged by the dispatcher like commands: they show up in the ack-latency histogram. */
describe('component acknowledgements', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.start({ proxy: { stepMs: 50 } });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('a button press is acknowledged within the window and counted in the ack-latency histogram', async () => {
    const { discord } = world;
    discord.slash({ name: 'imagine', options: { prompt: 'a paper boat' }, user: discord.alice });
    const result = await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes('paper boat') && m.attachments.length > 0 });
    const before = await scrape(world.app.httpPort);
    expect(before.acks).toBeGreaterThanOrEqual(1); // the /imagine itself

    const u1 = button(result, 'U1');
    const ix = discord.clickButton({ messageId: result.id, customId: u1.customId, user: discord.alice });
    await ix.firstCallback(3000);
    await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes('paper boat') && m.content.includes('Image #1') });

    const after = await scrape(world.app.httpPort);
    expect(after.acks).toBe(before.acks + 1);
    expect(after.components).toBe(before.components + 1);
  });
});
