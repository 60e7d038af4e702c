import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { World } from '../support/world.js';

describe('foundation: the real bot against the fake Discord and fake proxy', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.start();
  });
  afterAll(async () => {
    await world?.close();
  });

  it('registers its commands with one bulk PUT in the configured guild', () => {
    const puts = world.discord.commandPuts();
    expect(puts).toHaveLength(1);
    expect(puts[0]!.scope).toBe('guild');
    expect(puts[0]!.guildId).toBe(world.discord.guild.id);
    const names = (puts[0]!.body as { name: string }[]).map((c) => c.name);
    expect(names).toContain('imagine');
    expect(world.discord.openApiProblems).toEqual([]);
  });

  it('does not register again after a restart with unchanged commands', async () => {
    await world.restart();
    expect(world.discord.commandPuts()).toHaveLength(1);
  });

  it('acknowledges the first command inside the 3 s window', async () => {
    const ix = await world.discord.slash({ name: 'imagine', options: { prompt: 'a lighthouse at dusk' } });
    const cb = await ix.firstCallback(3000);
    expect(cb.type).toBe(5); // deferred
    expect(cb.latencyMs).toBeLessThan(3000);
  });
});
