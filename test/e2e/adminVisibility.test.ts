import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeChannel, FakeInteraction, FakeUser } from '../fakes/discord/index.js';
import { ALL_PERMISSIONS } from '../fakes/discord/index.js';
import { World } from '../support/world.js';

/**
 * What admins see: every failure reaches the log channel once, with its kind, in the server's language, and is
 * counted in the store (so /admin status survives a restart and adds up across processes); /admin wording reads
 * naturally in both languages.
 */
describe('failures visible to admins, and admin wording', () => {
  let world: World;
  let log: FakeChannel;
  beforeAll(async () => {
    world = await World.start({ proxy: { stepMs: 60 }, env: { UPSTREAM_TIMEOUT_MS: '700' } });
    log = world.discord.addChannel(world.discord.guild.id, { name: 'bot-log' });
  });
  afterAll(async () => {
    await world?.close();
  });

  async function answer(ix: FakeInteraction): Promise<string> {
    await ix.firstCallback(3000);
    return world.discord.waitFor(() => ix.original()?.content || ix.followups()[0]?.content || undefined, { timeoutMs: 8000 });
  }

  async function admin(sub: string, options: Record<string, unknown> = {}): Promise<string> {
    return answer(world.discord.slash({ name: 'admin', subcommand: sub, options: options as never, user: world.discord.owner, permissions: ALL_PERMISSIONS }));
  }

  let n = 0;
  async function imagine(user: FakeUser = world.discord.alice): Promise<{ reply: string; jobId: string }> {
    const reply = await answer(world.discord.slash({ name: 'imagine', options: { prompt: `visible ${++n}` }, user }));
    const job = (await world.app.services.repos.jobs.recentForUser(user.id, 1))[0]!;
    expect(job.prompt).toContain(`visible ${n}`);
    return { reply, jobId: job.id };
  }

  const logLines = () => world.discord.messagesIn(log.id).map((m) => m.content);
  const linesAbout = (jobId: string) => logLines().filter((t) => t.includes(`\`${jobId}\``));

  it('a submit the proxy answers with 500, garbage or nothing in time is logged once with its kind and counted by kind; a banned prompt is not', async () => {
    await admin('rules', { 'log-channel': { channel: log.id } });
    world.proxy.nextSubmitCode(24); // the member's own prompt: not a failure of the service
    const banned = await imagine();
    world.proxy.failNextRequests(1, { status: 500, body: 'upstream exploded', contentType: 'text/plain' }, '/submit/imagine');
    const fiveHundred = await imagine();
    world.proxy.invalidJsonNext(1, '/submit/imagine');
    const garbage = await imagine();
    world.proxy.hangNext(1, '/submit/imagine');
    const hung = await imagine();
    for (const r of [fiveHundred, garbage, hung]) expect(r.reply).not.toContain('accepted');

    await world.discord.waitFor(() => [fiveHundred, garbage, hung].every((r) => linesAbout(r.jobId).length > 0), { timeoutMs: 5000 });
    expect(linesAbout(fiveHundred.jobId)[0]).toBe(
      `❌ <@${world.discord.alice.id}>'s job \`${fiveHundred.jobId}\` didn't start (the image service had an error): ${
        world.app.services.i18n.t('en-US', 'errors.badResponse') // what the member was told
      }`,
    );
    expect(linesAbout(garbage.jobId)[0]).toContain("didn't start (the image service's answer was unreadable)");
    expect(linesAbout(hung.jobId)[0]).toContain("didn't start (the image service didn't answer in time)");

    const status = await admin('status');
    expect(status).toContain(
      "3 failures in the last hour: the image service didn't answer in time 1 · the image service had an error 1 · the image service's answer was unreadable 1",
    );
    expect(linesAbout(banned.jobId)).toEqual([]);
    for (const r of [fiveHundred, garbage, hung]) expect(linesAbout(r.jobId)).toHaveLength(1);
  });

  it('a failure after submit is logged in the server’s language and counted in the store: a restart keeps the count, the hour window drops it', async () => {
    world.advanceClock(2 * 3_600_000); // the failures of the test before are out of the window
    expect(await admin('status')).toContain('No failures in the last hour');
    await admin('rules', { language: 'zh-CN' });
    world.proxy.failNextTasks(1, 'GPU on fire');
    const failed = await imagine();
    expect(failed.reply).toContain('已提交');
    await world.discord.waitFor(() => linesAbout(failed.jobId)[0], { timeoutMs: 10_000 });
    expect(linesAbout(failed.jobId)[0]).toBe(
      `❌ <@${world.discord.alice.id}> 的任务 \`${failed.jobId}\` 失败（在图片服务运行时失败）：${world.app.services.i18n.t('zh-CN', 'errors.upstreamFailed', { reason: 'GPU on fire' })}`,
    );
    expect(await admin('status')).toContain('最近一小时失败 1 次：在图片服务运行时失败 1');

    await world.restart();
    await admin('rules', { language: 'auto' });
    expect(await admin('status')).toContain('1 failure in the last hour: failed while running at the image service 1');
    expect(linesAbout(failed.jobId)).toHaveLength(1);
    world.advanceClock(61 * 60_000);
    expect(await admin('status')).toContain('No failures in the last hour');
  });

  it('/admin rules shows localized values, says what the deployment default is, and answers a language switch in the new language', async () => {
    const zh = await admin('rules', { language: 'zh-CN', buttons: 'anyone' });
    expect(zh).toContain('**规则**');
    expect(zh).toContain('语言：中文（简体）');
    expect(zh).toContain('按钮：任何人');
    expect(zh).toContain('结果发送到：部署的默认设置（频道）');
    expect(zh).not.toMatch(/zh-CN|anyone|channel/);

    const en = await admin('rules', { language: 'auto', buttons: 'default', delivery: 'dm' });
    expect(en).toContain('**Rules**');
    expect(en).toContain("Language: each member's Discord language");
    expect(en).toContain("Buttons: the deployment's default (only the job's owner)");
    expect(en).toContain('Results go to: direct messages');
    await admin('rules', { delivery: 'default' });
  });

  it('a ban without a reason says no "Reason: —" anywhere', async () => {
    const bob = world.discord.bob;
    expect(await admin('ban', { user: { user: bob.id } })).toBe(`<@${bob.id}> can't use the image bot here until an admin unbans them.`);
    expect(await answer(world.discord.slash({ name: 'imagine', options: { prompt: 'let me in' }, user: bob }))).toBe(
      "You can't use the image bot in this server.",
    );
    const info = await answer(world.discord.slash({ name: 'info', user: bob }));
    expect(info).toContain('⛔ You are banned from the bot here.');
    expect(info).toContain('Running now: 0 (no limit)'); // not "0 of no limit"
    expect(info).toMatch(/^Today: \d+ \(no daily limit\)$/m);
    await world.discord.waitFor(() => logLines().find((t) => t.includes('🔨')), { timeoutMs: 5000 });
    expect(logLines().filter((t) => t.includes('🔨'))).toEqual([`🔨 <@${world.discord.owner.id}> banned <@${bob.id}> until an admin unbans them.`]);
    for (const text of [...info.split('\n').filter((l) => l.includes('⛔')), ...logLines().filter((t) => t.includes('🔨'))]) expect(text).not.toContain('—');
    await admin('unban', { user: { user: bob.id } });
  });
});
