import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMessage } from '../fakes/discord/index.js';
import { button, waitForResult } from '../support/discordHelpers.js';
import { startRedis, type TestRedis } from '../support/redis.js';
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

/**
 * A press the route alone decides is acknowledged before its piece reads the store: with the store (Redis) not
 * answering, the acknowledgement still arrives; what the press asked for follows once the store answers again.
 */
describe('acknowledged before the store is read', () => {
  const PAUSE_MS = 2500;
  let redis: TestRedis;
  let world: World;
  beforeAll(async () => {
    redis = await startRedis();
    world = await World.start({ proxy: { stepMs: 50 }, storeUrl: redis.url });
  });
  afterAll(async () => {
    await world?.close();
    await redis?.stop();
  });

  let seq = 0;
  async function grid(prompt: string): Promise<{ ch: string; tag: string; result: FakeMessage }> {
    const ch = world.discord.addChannel(world.discord.guild.id, { name: `ack-${++seq}` }).id;
    const tag = `${prompt} ${seq}`;
    world.discord.slash({ name: 'imagine', options: { prompt: tag }, user: world.discord.alice, channelId: ch });
    return { ch, tag, result: await waitForResult(world.discord, ch, { match: (m) => m.content.includes(tag) }) };
  }

  /** Stop the store answering for PAUSE_MS; returns when it will answer again (the fake Discord's clock). */
  async function pauseStore(): Promise<number> {
    const until = world.discord.now() + PAUSE_MS;
    await redis.pause(PAUSE_MS);
    return until;
  }

  it('✉️ is acknowledged while the store does not answer; the seed follows once it does', async () => {
    const { ch, tag, result } = await grid('a copper kettle');
    world.discord.clickButton({ messageId: result.id, customId: button(result, 'U1').customId, user: world.discord.alice });
    const upscale = await waitForResult(world.discord, ch, { match: (m) => m.content.includes(tag) && m.content.includes('Image #1') });

    const answersAgainAt = await pauseStore();
    const ix = world.discord.clickButton({ messageId: upscale.id, customId: button(upscale, '✉️').customId, user: world.discord.alice });
    const ack = await ix.firstCallback(PAUSE_MS + 5000);
    expect(ack.type).toBe(5); // a deferred reply only the presser sees
    expect(ack.at).toBeLessThan(answersAgainAt);
    const said = await world.discord.waitFor(() => (ix.original()?.content.includes('seed of job') ? ix.original() : undefined), { timeoutMs: 10_000 });
    expect(said.ephemeral).toBe(true);
    expect(said.editedAt ?? said.createdAt).toBeGreaterThanOrEqual(answersAgainAt - 50); // it needed the store
  });

  /** A variation the upstream wants confirmed (remix on for its account): the offer with "Edit prompt" / "Submit unchanged". */
  async function remixOffer(prompt: string): Promise<FakeMessage> {
    const { result } = await grid(prompt);
    world.proxy.setOptions({ remix: true });
    try {
      const ix = world.discord.clickButton({ messageId: result.id, customId: button(result, 'V2').customId, user: world.discord.alice });
      return await world.discord.waitFor(() => ix.followups().find((m) => m.content.includes('Remix')), { timeoutMs: 10_000 });
    } finally {
      world.proxy.setOptions({ remix: false });
    }
  }

  it('a refusal after an update acknowledgement is an ephemeral follow-up, and nothing goes upstream', async () => {
    const offer = await remixOffer('a quiet harbour');
    const modalsBefore = world.proxy.requestsTo('/submit/modal').length;
    // Bob presses Alice's "Submit unchanged": the route alone decides the acknowledgement (an update), the job is read after
    const ix = world.discord.clickButton({ messageId: offer.id, customId: button(offer, 'Submit unchanged').customId, user: world.discord.bob });
    expect((await ix.firstCallback()).type).toBe(6);
    const told = await world.discord.waitFor(() => ix.followups()[0], { timeoutMs: 10_000 });
    expect(told.ephemeral).toBe(true);
    expect(told.content).toContain(`<@${world.discord.alice.id}>`);
    expect(world.proxy.requestsTo('/submit/modal')).toHaveLength(modalsBefore);
  });
});
