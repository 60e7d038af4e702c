// The fake gateway's sharding, driven by real discord.js clients: each session gets only its shard's guilds and events.
import { Client, Events, GatewayIntentBits, type Interaction } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDiscord, type FakeDiscord, type FakeGuild } from './discord/index.js';

async function login(fake: FakeDiscord, shard: number, count: number): Promise<Client> {
  const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.apiUrl }, waitGuildTimeout: 500, shards: [shard], shardCount: count });
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  await client.login('fake-bot-token');
  await ready;
  return client;
}

describe('fake Discord: one gateway session per shard', () => {
  let fake: FakeDiscord;
  let shard0: Client;
  let shard1: Client;
  let g0: FakeGuild;
  let g1: FakeGuild;
  const seen: { shard: number; interaction: Interaction }[] = [];

  beforeAll(async () => {
    fake = await startFakeDiscord();
    g0 = fake.addGuild({ name: 'on shard 0', onShard: [0, 2] });
    g1 = fake.addGuild({ name: 'on shard 1', onShard: [1, 2] });
    for (const g of [g0, g1]) {
      fake.addMember(g.id, fake.alice.id);
      fake.addChannel(g.id, { name: 'general' });
    }
    shard0 = await login(fake, 0, 2);
    shard1 = await login(fake, 1, 2);
    shard0.on(Events.InteractionCreate, (interaction) => seen.push({ shard: 0, interaction }));
    shard1.on(Events.InteractionCreate, (interaction) => seen.push({ shard: 1, interaction }));
  });
  afterAll(async () => {
    await shard0?.destroy();
    await shard1?.destroy();
    await fake?.close();
  });

  it('picks guild ids by the shard formula', () => {
    expect(fake.shardOf(g0.id, 2)).toBe(0);
    expect(fake.shardOf(g1.id, 2)).toBe(1);
    expect(Number((BigInt(g1.id) >> 22n) % 2n)).toBe(1);
    expect(fake.shardOf(null, 2)).toBe(0);
  });

  it('announces each guild only to its shard', async () => {
    await fake.waitFor(() => shard0.guilds.cache.has(g0.id) && shard1.guilds.cache.has(g1.id));
    expect(shard0.guilds.cache.has(g1.id)).toBe(false);
    expect(shard1.guilds.cache.has(g0.id)).toBe(false);
    const defaultShard = fake.shardOf(fake.guild.id, 2);
    expect((defaultShard === 0 ? shard0 : shard1).guilds.cache.has(fake.guild.id)).toBe(true);
    expect((defaultShard === 0 ? shard1 : shard0).guilds.cache.has(fake.guild.id)).toBe(false);
  });

  it('routes interactions by guild, and DMs to shard 0, each to exactly one session', async () => {
    const a = fake.slash({ name: 'ping', guildId: g0.id, user: fake.alice });
    const b = fake.slash({ name: 'ping', guildId: g1.id, user: fake.alice });
    const dm = fake.slash({ name: 'ping', guildId: null, user: fake.alice });
    await fake.waitFor(() => seen.length >= 3);
    await new Promise((r) => setTimeout(r, 200)); // nothing more arrives
    const where = (id: string) => seen.filter((s) => s.interaction.id === id).map((s) => s.shard);
    expect(where(a.id)).toEqual([0]);
    expect(where(b.id)).toEqual([1]);
    expect(where(dm.id)).toEqual([0]);
  });

  it('keeps one-shard sessions receiving everything (the default)', async () => {
    const single = await login(fake, 0, 1);
    try {
      expect(single.guilds.cache.has(g0.id) && single.guilds.cache.has(g1.id)).toBe(true);
    } finally {
      await single.destroy();
    }
  });
});
