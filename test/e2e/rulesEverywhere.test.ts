import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeChannel, FakeGuild, FakeInteraction, FakeMessage, FakeUser } from '../fakes/discord/index.js';
import { ALL_PERMISSIONS } from '../fakes/discord/index.js';
import { makePng } from '../fakes/images.js';
import { botMessages, button, waitForResult } from '../support/discordHelpers.js';
import { World } from '../support/world.js';

/**
 * Rules everywhere, paid work never lost: a server's rules follow its jobs into DMs, slash commands in DMs are off
 * unless the operator turns them on (then the home server's rules apply), "Imagine all" is admitted as four jobs
 * before anything is sent, /admin job sees only its own server's jobs, and servers outside DISCORD_ALLOWED_GUILDS
 * are refused. The bot runs with the default limit of 2 jobs at once (DEFAULT_CONCURRENT_JOBS).
 */
describe('rules everywhere', () => {
  let world: World;
  let other: FakeGuild;
  let otherChannel: FakeChannel;
  beforeAll(async () => {
    world = await World.start({ proxy: { stepMs: 60 }, env: { DEFAULT_CONCURRENT_JOBS: '2' } });
    other = world.discord.addGuild({ name: 'Somebody else’s server' });
    otherChannel = world.discord.addChannel(other.id, { name: 'free-images' });
    for (const u of [world.discord.alice, world.discord.bob]) world.discord.addMember(other.id, u.id);
  });
  afterAll(async () => {
    await world?.close();
  });

  const upstreamSubmits = () => world.proxy.requests.filter((r) => r.method === 'POST' && /\/submit\//.test(r.path)).length;

  /** the first thing the bot said to this interaction (reply, edit of the deferred reply, or follow-up; not the pressed message) */
  async function answer(ix: FakeInteraction): Promise<FakeMessage> {
    await ix.firstCallback(3000);
    return world.discord.waitFor(() => [ix.original(), ...ix.followups()].find((m) => m?.content && m.id !== ix.sourceMessageId));
  }

  async function admin(sub: string, options: Record<string, unknown> = {}, guildId?: string): Promise<string> {
    const ix = world.discord.slash({
      name: 'admin',
      subcommand: sub,
      options: options as never,
      user: world.discord.owner,
      permissions: ALL_PERMISSIONS,
      ...(guildId ? { guildId } : {}),
    });
    return (await answer(ix)).content;
  }

  async function settle(): Promise<void> {
    await world.discord.waitFor(() => world.app.services.tracker.size === 0, { timeoutMs: 15_000 });
    await world.app.services.tracker.idle();
  }

  it('a ban follows the member into DMs: a press on a DM-delivered result gets the ban message and nothing reaches the upstream', async () => {
    const accepted = await answer(
      world.discord.slash({ name: 'imagine', options: { prompt: 'a paper boat on a pond', delivery: 'dm' }, user: world.discord.alice }),
    );
    expect(accepted.content).toContain('accepted');
    const dm = world.discord.dmChannelOf(world.discord.alice.id);
    const result = await waitForResult(world.discord, dm.id, { match: (m) => m.content.includes('paper boat') });
    await settle();

    expect(await admin('ban', { user: { user: world.discord.alice.id }, reason: 'spamming' })).toContain('Reason: spamming');
    const before = upstreamSubmits();
    const press = world.discord.clickButton({ messageId: result.id, customId: button(result, 'U1').customId, user: world.discord.alice });
    const refused = await answer(press);
    expect(refused.content).toBe("You can't use the image bot in this server. Reason: spamming");
    expect(refused.ephemeral).toBe(true);
    expect(upstreamSubmits()).toBe(before);

    // the server's quota follows too: once unbanned, the press counts against the origin server's day
    await admin('unban', { user: { user: world.discord.alice.id } });
    await admin('limits', { 'server-daily': 1 });
    const again = world.discord.clickButton({ messageId: result.id, customId: button(result, 'U2').customId, user: world.discord.alice });
    expect((await answer(again)).content).toMatch(/^This server has used its 1 job for today\./);
    expect(upstreamSubmits()).toBe(before);
    await admin('limits', { 'server-daily': 0 });
  });

  it('slash commands are not registered for DMs, and one sent from a DM anyway is refused with nothing sent upstream', async () => {
    const put = world.discord.commandPuts().at(-1)!;
    for (const cmd of put.body as { name: string; contexts?: number[] }[])
      expect({ name: cmd.name, contexts: cmd.contexts }).toEqual({ name: cmd.name, contexts: [0] });

    const before = upstreamSubmits();
    const ix = world.discord.slash({ name: 'imagine', options: { prompt: 'a secret lighthouse' }, guildId: null, user: world.discord.bob });
    const refused = await answer(ix);
    expect(refused.content).toBe('Commands work in the server, not in direct messages. Please use them there; the buttons on your results keep working here.');
    expect(refused.ephemeral).toBe(true);
    const zh = await answer(world.discord.slash({ name: 'imagine', options: { prompt: 'x' }, guildId: null, user: world.discord.bob, locale: 'zh-CN' }));
    expect(zh.content).toBe('命令请在服务器里使用，私信中不可用。你结果上的按钮在这里仍然可以使用。');
    expect(upstreamSubmits()).toBe(before);
  });

  it('an interaction from a server outside the allow-list is refused politely, with nothing sent upstream', async () => {
    const before = upstreamSubmits();
    const ix = world.discord.slash({
      name: 'imagine',
      options: { prompt: 'free images for everyone' },
      guildId: other.id,
      channelId: otherChannel.id,
      user: world.discord.bob,
    });
    const refused = await answer(ix);
    expect(refused.content).toBe("This bot isn't available in this server. Its operator runs it for another community.");
    expect(refused.ephemeral).toBe(true);
    const zh = world.discord.slash({
      name: 'imagine',
      options: { prompt: 'x' },
      guildId: other.id,
      channelId: otherChannel.id,
      user: world.discord.bob,
      locale: 'zh-CN',
    });
    expect((await answer(zh)).content).toBe('此服务器无法使用这个机器人：它的运营者只为另一个社区提供服务。');
    // its admins cannot lift their own limits either
    expect(await admin('limits', { concurrent: 0 }, other.id)).toBe("This bot isn't available in this server. Its operator runs it for another community.");
    expect(upstreamSubmits()).toBe(before);
  });

  async function describeResult(user: FakeUser, name: string): Promise<FakeMessage> {
    const ch = world.discord.addChannel(world.discord.guild.id, { name });
    const ix = world.discord.slash({
      name: 'describe',
      channelId: ch.id,
      options: { image: { attachment: { name: `${name}.png`, bytes: makePng(64, 48, { seed: name.length }) } } },
      user,
    });
    expect((await answer(ix)).content).toContain('accepted');
    const result = await world.discord.waitFor(
      () => botMessages(world.discord, ch.id).find((m) => m.content.includes(`${name}.png`) && m.content.includes('4️⃣')),
      { timeoutMs: 15_000 },
    );
    await settle();
    return result;
  }

  it('"Imagine all" with a limit of 2 at once is refused before anything is sent; with room for 4, all four are delivered', async () => {
    const carol = world.discord.addUser({ username: 'carol' });
    const result = await describeResult(carol, 'harbour-at-night');
    const before = upstreamSubmits();
    const press = world.discord.clickButton({ messageId: result.id, customId: button(result, 'Imagine all').customId, user: carol });
    const refused = await answer(press);
    expect(refused.content).toBe('“Imagine all” starts 4 jobs, and you may run 2 at once here. Pick prompts one by one, or ask an admin for a higher limit.');
    expect(refused.ephemeral).toBe(true);
    expect(upstreamSubmits()).toBe(before);
    expect(await world.app.services.repos.jobs.recentForUser(carol.id, 10)).toHaveLength(1); // the describe only

    await admin('limits', { concurrent: 4 });
    world.discord.clickButton({ messageId: result.id, customId: button(result, 'Imagine all').customId, user: carol });
    await world.discord.waitFor(
      async () => {
        const jobs = (await world.app.services.repos.jobs.recentForUser(carol.id, 10)).filter((j) => j.kind === 'imagine');
        return jobs.length === 4 && jobs.every((j) => j.deliveredAt !== undefined) ? jobs : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const jobs = (await world.app.services.repos.jobs.recentForUser(carol.id, 10)).filter((j) => j.kind === 'imagine');
    expect(jobs.map((j) => j.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    await settle();
    await admin('limits', { concurrent: 2 });
  });

  it('/admin job shows only jobs of the server where it is run: another server\'s job is "not found" like an unknown id', async () => {
    await world.restart({ DISCORD_ALLOWED_GUILDS: `${world.discord.guild.id},${other.id}` });
    const accepted = await answer(
      world.discord.slash({
        name: 'imagine',
        options: { prompt: 'a job of the other server' },
        guildId: other.id,
        channelId: otherChannel.id,
        user: world.discord.bob,
      }),
    );
    expect(accepted.content).toContain('accepted');
    const job = (await world.app.services.repos.jobs.recentForUser(world.discord.bob.id, 1))[0]!;
    expect(job.owner.guildId).toBe(other.id);
    await settle();

    expect(await admin('job', { id: job.id })).toBe(await admin('job', { id: 'zzzzzzzzzz' }).then((t) => t.replace('zzzzzzzzzz', job.id)));
    expect(await admin('job', { id: job.id })).toContain('There is no job');
    expect(await admin('job', { id: job.id }, other.id)).toContain(`Job ${job.id}`);
  });

  it("with DISCORD_DM_COMMANDS=on, commands are offered in DMs and follow the home server's rules", async () => {
    await world.restart({ DISCORD_DM_COMMANDS: 'on' });
    const put = world.discord.commandPuts().at(-1)!;
    const imagine = (put.body as { name: string; contexts?: number[] }[]).find((c) => c.name === 'imagine')!;
    expect(imagine.contexts).toEqual([0, 1]);
    expect((put.body as { name: string; contexts?: number[] }[]).find((c) => c.name === 'admin')!.contexts).toEqual([0]);

    await admin('ban', { user: { user: world.discord.bob.id }, reason: 'cool off' });
    const before = upstreamSubmits();
    const refused = await answer(world.discord.slash({ name: 'imagine', options: { prompt: 'from my DMs' }, guildId: null, user: world.discord.bob }));
    expect(refused.content).toBe("You can't use the image bot in this server. Reason: cool off");
    expect(upstreamSubmits()).toBe(before);

    await admin('unban', { user: { user: world.discord.bob.id } });
    const accepted = await answer(world.discord.slash({ name: 'imagine', options: { prompt: 'from my DMs' }, guildId: null, user: world.discord.bob }));
    expect(accepted.content).toContain('accepted');
    const job = (await world.app.services.repos.jobs.recentForUser(world.discord.bob.id, 1))[0]!;
    expect(job.owner.guildId).toBe(world.discord.guild.id); // counted against the home server
    await settle();
  });
});
