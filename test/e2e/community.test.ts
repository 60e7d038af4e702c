import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextUtcMidnight } from '../../src/community/rules.js';
import type { FakeInteraction, FakeUser } from '../fakes/discord/index.js';
import { ALL_PERMISSIONS } from '../fakes/discord/index.js';
import { button, waitForResult } from '../support/discordHelpers.js';
import { World } from '../support/world.js';

/** Running a community: limits, rules, bans and /admin, all enforced before anything reaches the proxy. */
describe('community rules and /admin', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.start({ proxy: { stepMs: 60 } });
  });
  afterAll(async () => {
    await world?.close();
  });

  const imagineSubmits = () => world.proxy.requestsTo('/submit/imagine').length;

  async function answer(ix: FakeInteraction): Promise<string> {
    await ix.firstCallback(3000);
    return world.discord.waitFor(() => ix.original()?.content || ix.followups()[0]?.content || undefined);
  }

  async function admin(sub: string, options: Record<string, unknown> = {}): Promise<string> {
    return answer(world.discord.slash({ name: 'admin', subcommand: sub, options: options as never, user: world.discord.owner, permissions: ALL_PERMISSIONS }));
  }

  let n = 0;
  function imagine(user: FakeUser, channelId = world.discord.channel.id): FakeInteraction {
    return world.discord.slash({ name: 'imagine', options: { prompt: `community ${++n}` }, user, channelId });
  }

  /** wait until no job is in flight (so that concurrency counts start from zero) */
  async function settle(): Promise<void> {
    await world.discord.waitFor(() => world.app.services.tracker.size === 0, { timeoutMs: 10_000 });
    await world.app.services.tracker.idle();
  }

  it('/admin is registered for Manage Server only and refuses anyone without it', async () => {
    const put = world.discord.commandPuts().at(-1)!;
    const cmd = (put.body as { name: string; default_member_permissions?: string }[]).find((c) => c.name === 'admin')!;
    expect(cmd.default_member_permissions).toBe('32');
    const before = JSON.stringify(await world.app.services.community.rules(world.discord.guild.id));
    const text = await answer(world.discord.slash({ name: 'admin', subcommand: 'limits', options: { concurrent: 9 }, user: world.discord.alice }));
    expect(text).toBe('Only members who can manage this server can use /admin.');
    world.app.services.community['cache'].clear();
    expect(JSON.stringify(await world.app.services.community.rules(world.discord.guild.id))).toBe(before);
    expect(await answer(world.discord.slash({ name: 'admin', subcommand: 'status', guildId: null, user: world.discord.owner }))).toContain('server channel');
  });

  it('over the concurrent limit a job waits its turn (nothing sent meanwhile); with no room to wait it is refused', async () => {
    expect(await admin('limits', { concurrent: 1 })).toContain('at once: 1');
    world.proxy.pause();
    try {
      expect(await answer(imagine(world.discord.alice))).toContain('accepted');
      const before = imagineSubmits();
      expect(await answer(imagine(world.discord.alice))).toContain('is queued — position 1');
      expect(imagineSubmits()).toBe(before);
      expect(await admin('limits', { queued: 0 })).toContain('up to 0 waiting');
      expect(await answer(imagine(world.discord.alice))).toBe(
        'You already have 1 job running, the most this server allows at once. Please wait until it finishes.',
      );
      expect(imagineSubmits()).toBe(before);
    } finally {
      world.proxy.resume();
    }
    await settle();
    await world.discord.waitFor(() => imagineSubmits() === 2 || undefined, { timeoutMs: 20_000 }); // the waiting one went when the first finished
    await settle();
    expect(await answer(imagine(world.discord.alice))).toContain('accepted');
    await settle();
  });

  it('a role override raises the limit for its members', async () => {
    const vip = world.discord.addRole(world.discord.guild.id, { name: 'vip' });
    world.discord.setMemberRoles(world.discord.guild.id, world.discord.bob.id, [vip.id]);
    expect(await admin('limits', { role: { role: vip.id }, concurrent: 3 })).toContain(`<@&${vip.id}>: at once: 3`);
    world.proxy.pause();
    try {
      for (let i = 0; i < 3; i++) expect(await answer(imagine(world.discord.bob))).toContain('accepted');
      expect(await answer(imagine(world.discord.bob))).toContain('You already have 3 jobs running'); // no room to wait (queued: 0 above)
      expect(await answer(imagine(world.discord.alice))).toContain('accepted');
      expect(await answer(imagine(world.discord.alice))).toContain('You already have 1 job running');
    } finally {
      world.proxy.resume();
    }
    await settle();
    await admin('limits', { role: { role: vip.id }, 'clear-role': true });
  });

  it('enforces a cooldown and says when to come back', async () => {
    await admin('limits', { concurrent: 0, cooldown: 60 });
    world.advanceClock(61_000); // alice's last job was moments ago
    expect(await answer(imagine(world.discord.alice))).toContain('accepted');
    const text = await answer(imagine(world.discord.alice));
    expect(text).toMatch(/^Please wait a moment between jobs: you can start the next one <t:\d+:R>\.$/);
    world.advanceClock(61_000);
    expect(await answer(imagine(world.discord.alice))).toContain('accepted');
    await settle();
    await admin('limits', { cooldown: 0 });
  });

  it('a daily quota refuses with the reset time, and resets at that time', async () => {
    const carol = world.discord.addUser({ username: 'carol' });
    await admin('limits', { daily: 2 });
    for (let i = 0; i < 2; i++) expect(await answer(imagine(carol))).toContain('accepted');
    await settle();
    const before = imagineSubmits();
    const text = await answer(imagine(carol));
    const shown = Number(/resets <t:(\d+):R>/.exec(text)?.[1]) * 1000;
    expect(text).toMatch(/^You've used your 2 jobs for today\. Your quota resets <t:\d+:R>\.$/);
    expect(shown).toBe(nextUtcMidnight(world.app.services.now()));
    expect(imagineSubmits()).toBe(before);
    world.advanceClock(shown - world.app.services.now() + 1000); // the shown time arrives
    expect(await answer(imagine(carol))).toContain('accepted');
    await settle();
    await admin('limits', { daily: 0 });
  });

  it('a server-wide daily cap', async () => {
    await admin('limits', { 'server-daily': 1 });
    const dave = world.discord.addUser({ username: 'dave' });
    world.advanceClock(24 * 3_600_000); // a fresh day
    expect(await answer(imagine(dave))).toContain('accepted');
    expect(await answer(imagine(world.discord.alice))).toMatch(/^This server has used its 1 job for today\. The quota resets <t:\d+:R>\.$/);
    await settle();
    await admin('limits', { 'server-daily': 0 });
  });

  it('bans: refused with the reason, unbanned works, an expired ban lapses; the log channel hears of it', async () => {
    const log = world.discord.addChannel(world.discord.guild.id, { name: 'bot-log' });
    expect(await admin('rules', { 'log-channel': { channel: log.id } })).toContain(`Log channel: <#${log.id}>`);
    expect(await admin('ban', { user: { user: world.discord.bob.id }, reason: 'spamming' })).toContain('Reason: spamming');
    const before = imagineSubmits();
    expect(await answer(imagine(world.discord.bob))).toBe("You can't use the image bot in this server. Reason: spamming");
    expect(imagineSubmits()).toBe(before);
    expect(await admin('unban', { user: { user: world.discord.bob.id } })).toContain('can use the image bot again');
    expect(await answer(imagine(world.discord.bob))).toContain('accepted');
    await settle();

    expect(await admin('ban', { user: { user: world.discord.bob.id }, reason: 'cool off', duration: '1h' })).toContain('Reason: cool off');
    expect(await answer(imagine(world.discord.bob))).toMatch(/until <t:\d+:R>\. Reason: cool off$/);
    world.advanceClock(2 * 3_600_000);
    expect(await answer(imagine(world.discord.bob))).toContain('accepted');
    await settle();
    expect(await admin('ban', { user: { user: world.discord.bob.id }, duration: 'soon' })).toContain("isn't a duration");

    const logged = world.discord.messagesIn(log.id).map((m) => m.content);
    expect(logged.some((t) => t.includes('banned') && t.includes('spamming'))).toBe(true);
    expect(logged.some((t) => t.includes('unbanned'))).toBe(true);
  });

  it('channel and role rules apply to commands and to buttons', async () => {
    // a result in #general, made before the rules
    imagine(world.discord.alice);
    const result = await waitForResult(world.discord, world.discord.channel.id, { match: (m) => m.content.includes(`community ${n}`) });

    expect(await admin('rules', { 'allow-channel': { channel: world.discord.channel2.id } })).toContain(`Channels: <#${world.discord.channel2.id}>`);
    const before = imagineSubmits();
    expect(await answer(imagine(world.discord.alice))).toBe(`The image bot works in <#${world.discord.channel2.id}> in this server. Please use it there.`);
    const click = world.discord.clickButton({ messageId: result.id, customId: button(result, 'U1').customId, user: world.discord.alice });
    expect(await answer(click)).toContain('Please use it there');
    expect(world.proxy.requestsTo('/submit/action')).toHaveLength(0);
    expect(imagineSubmits()).toBe(before);
    expect(await answer(imagine(world.discord.alice, world.discord.channel2.id))).toContain('accepted');
    await settle();

    const artists = world.discord.addRole(world.discord.guild.id, { name: 'artists' });
    await admin('rules', { 'allow-role': { role: artists.id } });
    expect(await answer(imagine(world.discord.alice, world.discord.channel2.id))).toBe(`The image bot is for members with <@&${artists.id}> in this server.`);
    world.discord.setMemberRoles(world.discord.guild.id, world.discord.alice.id, [artists.id]);
    expect(await answer(imagine(world.discord.alice, world.discord.channel2.id))).toContain('accepted');
    await settle();
    // /info keeps working everywhere, and shows the member their limits
    const info = await answer(world.discord.slash({ name: 'info', user: world.discord.bob }));
    expect(info).toContain('Your limits here');
    await admin('rules', { reset: true });
  });

  it('/admin status reflects a proxy outage', async () => {
    expect(await admin('status')).toMatch(/✅ Midjourney Proxy: reachable/);
    await world.proxy.down();
    try {
      const text = await admin('status');
      expect(text).toMatch(/❌ Midjourney Proxy: unreachable/);
      expect(text).toContain('✅ Discord gateway');
    } finally {
      await world.proxy.up();
    }
  });

  it("/admin job shows a prompt as text: a masked link or a heading in it does not render in the admin's view", async () => {
    const prompt = `[official results](https://evil.example/login)\n# ADMIN NOTICE community ${++n}`;
    world.discord.slash({ name: 'imagine', options: { prompt }, user: world.discord.alice });
    await waitForResult(world.discord, world.discord.channel.id, { match: (m) => m.content.includes(`community ${n}`) });
    const job = (await world.app.services.repos.jobs.recentForUser(world.discord.alice.id, 1))[0]!;
    const details = await admin('job', { id: job.id });
    expect(details).toContain('official results');
    expect(details).not.toContain('[official results](');
    expect(details).not.toMatch(/^# /m);
  });

  it('/admin job shows any member\'s job; "Delete result" is for its owner or a moderator', async () => {
    imagine(world.discord.alice);
    const result = await waitForResult(world.discord, world.discord.channel.id, { match: (m) => m.content.includes(`community ${n}`) });
    const job = (await world.app.services.repos.jobs.recentForUser(world.discord.alice.id, 1))[0]!;
    const details = await admin('job', { id: job.id });
    expect(details).toContain(`Job ${job.id}`);
    expect(details).toContain(`Owner: <@${world.discord.alice.id}>`);
    expect(details).toContain(job.upstreamId!);

    const byBob = world.discord.messageCommand({ name: 'Delete result', targetMessageId: result.id, user: world.discord.bob });
    expect(await answer(byBob)).toBe("Only the job's owner or a moderator can delete this result.");
    expect(world.discord.message(result.id)!.deleted).toBe(false);
    const byAlice = world.discord.messageCommand({ name: 'Delete result', targetMessageId: result.id, user: world.discord.alice });
    expect(await answer(byAlice)).toBe('Deleted.');
    expect(world.discord.message(result.id)!.deleted).toBe(true);
  });

  it('the server can switch the bot to Chinese for everyone', async () => {
    expect(await admin('rules', { language: 'zh-CN' })).toContain('语言：中文（简体）'); // answered in the new language
    const ix = world.discord.slash({ name: 'imagine', options: { prompt: ' ' }, user: world.discord.alice, locale: 'en-US' });
    expect(await answer(ix)).toBe('请填写提示词，不能为空。');
    await admin('rules', { language: 'auto' });
  });
});
