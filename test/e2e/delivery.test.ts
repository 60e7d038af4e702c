import { afterEach, describe, expect, it } from 'vitest';
import { botMessages, button, waitForResult } from '../support/discordHelpers.js';
import { World } from '../support/world.js';

/** Where results go, and that they get there whatever happens to tokens, messages, DMs and the process. */
describe('delivery', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('delivers to DMs with working buttons', async () => {
    world = await World.start({ proxy: { stepMs: 50 } });
    const { discord, proxy } = world;
    const ix = discord.slash({ name: 'imagine', options: { prompt: 'a quiet harbour', delivery: 'dm' }, user: discord.alice });
    await discord.waitFor(() => ix.original()?.content.includes('direct message'));
    const dm = discord.dmChannelOf(discord.alice.id);
    const result = await waitForResult(discord, dm.id);
    expect(result.attachments).toHaveLength(1);
    expect(botMessages(discord, discord.channel.id).filter((m) => m.content.includes('quiet harbour'))).toHaveLength(0);

    const click = discord.clickButton({ messageId: result.id, customId: button(result, 'U1').customId, user: discord.alice });
    await click.firstCallback();
    const upscale = await waitForResult(discord, dm.id, { match: (m) => m.content.includes('Image #1') });
    expect(upscale.attachments).toHaveLength(1);
    expect(proxy.requestsTo('/submit/action')).toHaveLength(1);
  });

  it('falls back to the channel with a mention when DMs are closed (50007), and remembers it', async () => {
    world = await World.start({ proxy: { stepMs: 50 } });
    const { discord } = world;
    discord.closeDms(discord.bob.id);
    discord.slash({ name: 'imagine', options: { prompt: 'a snowy owl', delivery: 'dm' }, user: discord.bob });
    const result = await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes('snowy owl') });
    expect(result.pingedUserIds).toEqual([discord.bob.id]);
    expect(result.content).toContain("couldn't send you a direct message");
    expect(result.attachments).toHaveLength(1);
    expect((await world.app.services.repos.users.settings(discord.bob.id)).dmClosed).toBe(true);
  });

  it('delivers a job that was in flight across a restart, and older buttons still work', async () => {
    world = await World.start({ proxy: { stepMs: 400 } });
    const { discord, proxy } = world;
    // an earlier, finished result
    discord.slash({ name: 'imagine', options: { prompt: 'an old map' }, user: discord.alice });
    const old = await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes('old map'), timeoutMs: 20_000 });

    // a job in flight when the bot stops
    discord.slash({ name: 'imagine', options: { prompt: 'a new planet' }, user: discord.alice });
    const task = await discord.waitFor(() => [...proxy.tasks.values()].find((t) => t.prompt === 'a new planet' && t.status === 'IN_PROGRESS'));
    await world.stopBot();
    await proxy.waitForStatus(task.id, 'SUCCESS', 10_000); // it finishes while we are down
    await world.startBot();

    const result = await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes('new planet'), timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 500));
    expect(botMessages(discord, discord.channel.id).filter((m) => m.content.includes('new planet') && m.attachments.length > 0)).toEqual([result]);

    // a button of the result from before the restart
    const click = discord.clickButton({ messageId: old.id, customId: button(old, 'V3').customId, user: discord.alice });
    expect((await click.firstCallback()).type).toBe(6);
    await discord.waitFor(() => proxy.requestsTo('/submit/action').find((r) => String((r.body as { customId: string }).customId).includes('variation::3')));
  }, 40_000);

  it('delivers a job that outlives the interaction token: its follow-up progress goes on as a channel message, the result too', async () => {
    world = await World.start({ proxy: { stepMs: 500 }, discord: { tokenLifetimeMs: 1500 }, env: { PROGRESS_EDIT_INTERVAL_MS: '500' } });
    const { discord } = world;
    const ix = discord.slash({ name: 'imagine', options: { prompt: 'a slow sunrise' }, user: discord.alice });
    await discord.waitFor(() => ix.original()?.content.includes('accepted'));
    const result = await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes('slow sunrise'), timeoutMs: 15_000 });
    expect(Date.now() - ix.sentAt).toBeGreaterThan(1500); // the token had expired before the result
    expect(result.attachments).toHaveLength(1);
    expect(result.source).toBe('channel'); // the token was dead: a bot-owned channel message
    expect(result.pingedUserIds).toEqual([discord.alice.id]);
    // the progress began as a follow-up while the token lived, and was edited and removed through the channel after
    const progress = discord.allMessages().find((m) => m.source === 'followup' && m.content.includes('slow sunrise'));
    await discord.waitFor(() => progress?.deleted);
    expect(progress!.deletedBy).toBe('bot');
    expect(discord.calls.some((c) => c.method === 'PATCH' && c.path === `/channels/${discord.channel.id}/messages/${progress!.id}` && c.status === 200)).toBe(
      true,
    );
    // Discord refused the token once or twice (an edit in flight), then nothing relied on it
    expect(discord.calls.filter((c) => c.discordCode === 50027).length).toBeLessThanOrEqual(2);
    expect(botMessages(discord, discord.channel.id).filter((m) => m.content.includes('slow sunrise'))).toHaveLength(1);
  }, 30_000);

  it('still posts the result when the user deletes the progress message, and stops editing it', async () => {
    world = await World.start({ proxy: { stepMs: 700 }, env: { PROGRESS_EDIT_INTERVAL_MS: '500' } });
    const { discord } = world;
    const started = discord.now();
    discord.slash({ name: 'imagine', options: { prompt: 'a paper boat' }, user: discord.alice });
    const progress = await discord.waitFor(() =>
      botMessages(discord, discord.channel.id).find((m) => m.createdAt >= started && m.content.includes('paper boat')),
    );
    discord.userDeletesMessage(progress.id);
    const result = await waitForResult(discord, discord.channel.id, { match: (m) => m.content.includes('paper boat'), timeoutMs: 15_000 });
    expect(result.id).not.toBe(progress.id);
    const failedEdits = discord.calls.filter((c) => c.method === 'PATCH' && c.path.endsWith(`/messages/${progress.id}`) && c.discordCode === 10008);
    expect(failedEdits.length).toBeLessThanOrEqual(1);
  }, 30_000);

  it('posts a link and says so when the image is larger than the interaction allows', async () => {
    world = await World.start({ proxy: { stepMs: 50 } });
    const { discord } = world;
    discord.slash({ name: 'imagine', options: { prompt: 'a huge mural' }, user: discord.alice, attachmentSizeLimit: 1000 });
    const result = await discord.waitFor(() =>
      botMessages(discord, discord.channel.id).find((m) => m.content.includes('huge mural') && m.content.includes('a link instead')),
    );
    expect(result.attachments).toHaveLength(0);
    expect(result.content).toMatch(/is larger than Discord allows here \(\d+ KB\)/);
    expect(result.content).toMatch(/http:\/\/127\.0\.0\.1:\d+\/images\//);
    expect(result.components.length).toBeGreaterThan(0); // the buttons still work
  });
});
