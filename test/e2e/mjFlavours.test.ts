import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeInteraction, FakeMessage } from '../fakes/discord/index.js';
import { makePng } from '../fakes/images.js';
import { botMessages, button, buttons, waitForResult } from '../support/discordHelpers.js';
import { World } from '../support/world.js';

/** Describe and shorten buttons work on proxies that lack (or reject) the upstream's own buttons. */

async function reply(world: World, ix: FakeInteraction, includes: string): Promise<FakeMessage> {
  return world.discord.waitFor(() => {
    const m = ix.original() ?? ix.followups()[0];
    return m?.content.includes(includes) ? m : undefined;
  });
}

function botMessage(world: World, match: (m: FakeMessage) => boolean): Promise<FakeMessage> {
  return world.discord.waitFor(() => botMessages(world.discord, world.discord.channel.id).find(match), { timeoutMs: 15_000 });
}

const imaginePrompts = (world: World) => world.proxy.requestsTo('/submit/imagine').map((r) => (r.body as { prompt: string }).prompt);

describe('plus proxy (no "Imagine all" upstream)', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.start({ proxy: { flavor: 'plus', stepMs: 60 } });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('Imagine all starts the four imagines itself', async () => {
    const ix = world.discord.slash({ name: 'describe', options: { image: { attachment: { name: 'tower.png', bytes: makePng(60, 40, { seed: 5 }) } } } });
    await reply(world, ix, 'accepted');
    const result = await botMessage(world, (m) => m.content.includes('tower.png') && m.content.includes('4️⃣'));
    const task = [...world.proxy.tasks.values()].find((t) => t.action === 'DESCRIBE')!;
    world.discord.clickButton({ messageId: result.id, customId: button(result, 'Imagine all').customId, user: world.discord.alice });
    await world.discord.waitFor(() => imaginePrompts(world).length === 4);
    expect(imaginePrompts(world)).toEqual(task.fake.prompts);
    expect(world.proxy.requestsTo('/submit/action')).toHaveLength(0);
    for (const p of task.fake.prompts!)
      await waitForResult(world.discord, world.discord.channel.id, { match: (m) => m.content.startsWith(`**${p.split(' --')[0]}`) });
  });
});

describe('trueai v11 proxy (PromptAnalyzer buttons rejected and disabled)', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.start({ proxy: { trueaiV11: true, stepMs: 60 }, env: { MJ_DISABLED_BUTTONS: 'PromptAnalyzer,BOOKMARK' } });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('still offers the five candidates; each starts a fresh imagine', async () => {
    const ix = world.discord.slash({ name: 'shorten', options: { prompt: 'an extremely tall and very old tree in the fog' } });
    await reply(world, ix, 'accepted');
    const result = await botMessage(world, (m) => m.content.includes('Shortened prompts'));
    const task = [...world.proxy.tasks.values()].find((t) => t.action === 'SHORTEN')!;
    expect(buttons(result).map((b) => b.label ?? b.emoji)).toEqual(['1', '2', '3', '4', '5']); // no Show Details: disabled
    world.discord.clickButton({ messageId: result.id, customId: button(result, '5').customId, user: world.discord.alice });
    await world.discord.waitFor(() => imaginePrompts(world).length === 1);
    expect(imaginePrompts(world)).toEqual([task.fake.prompts![4]]);
    expect(world.proxy.requestsTo('/submit/action')).toHaveLength(0);
  });
});

describe('novicezk proxy (no buttons, no shorten, no seed)', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.start({ proxy: { flavor: 'novicezk', stepMs: 60 } });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('registers no /shorten, draws the describe picks itself, and says clearly that seeds are not available', async () => {
    const names = world.discord.registeredCommands(world.discord.guild.id).map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['blend', 'describe', 'Describe image', 'seed', 'job', 'settings', 'info']));
    expect(names).not.toContain('shorten');

    const ix = world.discord.slash({ name: 'describe', options: { image: { attachment: { name: 'mill.png', bytes: makePng(48, 48, { seed: 9 }) } } } });
    await reply(world, ix, 'accepted');
    const result = await botMessage(world, (m) => m.content.includes('mill.png') && m.content.includes('4️⃣'));
    const task = [...world.proxy.tasks.values()].find((t) => t.action === 'DESCRIBE')!;
    expect(task.buttons ?? []).toHaveLength(0);
    expect(buttons(result).map((b) => b.label ?? b.emoji)).toEqual(['1', '2', '3', '4', 'Imagine all']);

    const pick = world.discord.clickButton({ messageId: result.id, customId: button(result, '1').customId, user: world.discord.alice });
    const modal =
      (await pick.firstCallback()).type === 9 ? (pick.modal() as { custom_id: string; components: { component: { value?: string } }[] }) : undefined;
    expect(modal?.components[0]?.component.value).toBe(task.fake.prompts![0]);
    const edited = `${task.fake.prompts![0]} --stylize 50`;
    const sub = world.discord.submitModal({ customId: modal!.custom_id, fields: { prompt: edited }, user: world.discord.alice, messageId: result.id });
    await reply(world, sub, 'accepted');
    expect(imaginePrompts(world)).toEqual([edited]);
    const grid = await waitForResult(world.discord, world.discord.channel.id, { match: (m) => m.content.includes('--stylize 50') });

    const jobId = (await world.app.services.repos.jobs.recentForUser(world.discord.alice.id, 1))[0]!.id;
    await reply(world, world.discord.slash({ name: 'seed', options: { job: jobId } }), "can't tell seeds");
    expect(grid.attachments).toHaveLength(1);
    expect(world.discord.openApiProblems).toEqual([]);
  });
});
