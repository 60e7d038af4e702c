import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeChannel, FakeInteraction, FakeMessage } from '../fakes/discord/index.js';
import { makeJpeg, makePng, makeWebp } from '../fakes/images.js';
import { botMessages, button, buttons, waitForResult } from '../support/discordHelpers.js';
import { World } from '../support/world.js';

/**
 * /blend, /describe (and the "Describe image" menu), /shorten and their buttons against the fakes (trueai flavour).
 * Each test works in its own channel: the bot paces its writes per channel, so tests do not wait for each other.
 */
describe('blend, describe, shorten', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.start({ proxy: { stepMs: 60 } });
  });
  afterAll(async () => {
    await world?.close();
  });

  let seq = 0;
  const png = (name: string, seed = ++seq) => ({ attachment: { name, bytes: makePng(64, 48, { seed }) } });
  const newChannel = (): FakeChannel => world.discord.addChannel(world.discord.guild.id, { name: `mj-${++seq}` });

  /** the ephemeral reply of a command, once it says something */
  async function reply(ix: FakeInteraction, includes: string): Promise<FakeMessage> {
    return world.discord.waitFor(() => {
      const m = ix.original() ?? ix.followups()[0];
      return m?.content.includes(includes) ? m : undefined;
    });
  }

  function botMessage(ch: FakeChannel, match: (m: FakeMessage) => boolean): Promise<FakeMessage> {
    return world.discord.waitFor(() => botMessages(world.discord, ch.id).find(match), { timeoutMs: 15_000 });
  }

  async function click(msg: FakeMessage, labelOrEmoji: string, user = world.discord.alice) {
    const ix = world.discord.clickButton({ messageId: msg.id, customId: button(msg, labelOrEmoji).customId, user });
    return { ix, cb: await ix.firstCallback(3000) };
  }

  const submits = (route: string) => world.proxy.requestsTo(route);
  const jobIdIn = (m: FakeMessage) => /`([a-z2-9]+)`/.exec(m.content)![1]!;

  it('blends two images: both sent as data URLs with the default square shape; the grid comes back with its buttons', async () => {
    const ch = newChannel();
    const before = submits('/submit/blend').length;
    const ix = world.discord.slash({
      name: 'blend',
      channelId: ch.id,
      options: { image1: png('cat.png'), image2: { attachment: { name: 'dog.jpg', bytes: makeJpeg(32, 32) } } },
    });
    expect((await ix.firstCallback(3000)).type).toBe(5);
    const accepted = await reply(ix, 'accepted');
    expect(accepted.ephemeral).toBe(true);

    const body = submits('/submit/blend')[before]!.body as { base64Array: string[]; dimensions: string };
    expect(body.base64Array).toHaveLength(2);
    expect(body.base64Array[0]).toMatch(/^data:image\/png;base64,/);
    expect(body.base64Array[1]).toMatch(/^data:image\/jpeg;base64,/);
    expect(body.dimensions).toBe('SQUARE');

    const result = await waitForResult(world.discord, ch.id, { match: (m) => m.content.includes('--ar 1:1') });
    expect(result.attachments).toHaveLength(1);
    expect(buttons(result).map((b) => b.label ?? b.emoji)).toEqual(['U1', 'U2', 'U3', 'U4', '🔄', 'V1', 'V2', 'V3', 'V4']);
    const blendTask = world.proxy.task((await world.app.services.jobs.get(jobIdIn(accepted)))!.upstreamId!)!;
    expect(blendTask.action).toBe('BLEND');
    await click(result, 'U2');
    await world.discord.waitFor(() => submits('/submit/action').find((r) => (r.body as { taskId: string }).taskId === blendTask.id));
  });

  it('blends five images in portrait', async () => {
    const ch = newChannel();
    const before = submits('/submit/blend').length;
    const ix = world.discord.slash({
      name: 'blend',
      channelId: ch.id,
      options: {
        image1: png('a.png'),
        image2: png('b.png'),
        image3: { attachment: { name: 'c.webp', bytes: makeWebp(20, 30) } },
        image4: png('d.png'),
        image5: png('e.png'),
        dimensions: 'PORTRAIT',
      },
    });
    await reply(ix, 'accepted');
    const body = submits('/submit/blend')[before]!.body as { base64Array: string[]; dimensions: string };
    expect(body.base64Array).toHaveLength(5);
    expect(body.dimensions).toBe('PORTRAIT');
    const result = await waitForResult(world.discord, ch.id, { match: (m) => m.content.includes('--ar 2:3') });
    expect(result.attachments).toHaveLength(1);
  });

  it('refuses one image, or a file that is not an image whatever its name, and sends nothing upstream', async () => {
    const before = submits('/submit/blend').length;
    const one = world.discord.slash({ name: 'blend', options: { image1: png('only.png') } });
    expect((await reply(one, 'at least 2')).ephemeral).toBe(true);

    const fake = world.discord.slash({
      name: 'blend',
      options: {
        image1: png('real.png'),
        image2: { attachment: { name: 'notes.png', bytes: Buffer.from('just some text, not a picture'), contentType: 'image/png' } },
      },
    });
    const refused = await reply(fake, 'not an image');
    expect(refused.content).toContain('notes.png');
    expect(submits('/submit/blend')).toHaveLength(before);
  });

  async function describeResult(ch: FakeChannel, name: string): Promise<{ result: FakeMessage; prompts: string[]; taskId: string }> {
    const ix = world.discord.slash({ name: 'describe', channelId: ch.id, options: { image: png(name) } });
    const jobId = jobIdIn(await reply(ix, 'accepted'));
    const result = await botMessage(ch, (m) => m.content.includes(name) && m.content.includes('4️⃣'));
    const task = world.proxy.task((await world.app.services.jobs.get(jobId))!.upstreamId!)!;
    return { result, prompts: task.fake.prompts!, taskId: task.id };
  }

  it('describe lists the four prompts; prompt 3 opens a modal prefilled with exactly prompt 3 and starts an imagine with it', async () => {
    const ch = newChannel();
    const { result, prompts } = await describeResult(ch, 'fox-photo.png');
    expect(prompts).toHaveLength(4);
    prompts.forEach((p, i) => expect(result.content).toContain(`${i + 1}\uFE0F\u20E3 ${p}`));
    expect(result.attachments).toHaveLength(1); // the described image
    expect(buttons(result).map((b) => b.label ?? b.emoji)).toEqual(['1', '2', '3', '4', '🔄', 'Imagine all']);

    const { ix, cb } = await click(result, '3');
    expect(cb.type).toBe(9);
    const modal = ix.modal() as { custom_id: string; components: { component: { value?: string } }[] };
    expect(modal.components[0]!.component.value).toBe(prompts[2]);

    const before = submits('/submit/imagine').length;
    const sub = world.discord.submitModal({ customId: modal.custom_id, fields: { prompt: prompts[2]! }, user: world.discord.alice, messageId: result.id });
    await reply(sub, 'accepted');
    const sent = submits('/submit/imagine').slice(before);
    expect(sent.map((r) => (r.body as { prompt: string }).prompt)).toEqual([prompts[2]]);
    expect(submits('/submit/action').filter((r) => /PicReader/.test(String((r.body as { customId: string }).customId)))).toHaveLength(0);
    const grid = await waitForResult(world.discord, ch.id, {
      match: (m) => m.content.startsWith(`**${prompts[2]!.split(' --')[0]}`) && m.attachments.length > 0,
    });
    expect(buttons(grid).map((b) => b.label ?? b.emoji)).toContain('U1');
  });

  it('Imagine all starts four jobs, one per prompt, each delivered', async () => {
    const ch = newChannel();
    const { result, prompts, taskId } = await describeResult(ch, 'harbour.png');
    await click(result, 'Imagine all');
    const press = await world.discord.waitFor(() => submits('/submit/action').find((r) => (r.body as { taskId: string }).taskId === taskId));
    expect((press.body as { customId: string }).customId).toBe('MJ::Job::PicReader::all');
    for (const p of prompts) {
      await waitForResult(world.discord, ch.id, {
        timeoutMs: 25_000,
        match: (m) => m.content.startsWith(`**${p.split(' --')[0]}`) && m.attachments.length > 0,
      });
    }
    const jobs = await world.app.services.repos.jobs.recentForUser(world.discord.alice.id, 4);
    expect(jobs.map((j) => j.prompt).sort()).toEqual([...prompts].sort());
    expect(jobs.every((j) => j.kind === 'imagine' && j.status === 'succeeded')).toBe(true);
  });

  it('🔄 describes the same image again', async () => {
    const ch = newChannel();
    const { result, taskId } = await describeResult(ch, 'lantern.png');
    await click(result, '🔄');
    await world.discord.waitFor(() => [...world.proxy.tasks.values()].find((t) => t.action === 'DESCRIBE' && t.parentId === taskId && t.status === 'SUCCESS'));
    const again = await botMessage(ch, (m) => m.id !== result.id && m.content.includes('lantern.png') && m.content.includes('4️⃣'));
    expect(buttons(again).map((b) => b.label ?? b.emoji)).toContain('Imagine all');
  });

  it('refuses a describe without input, with both inputs, or with a private link, sending nothing', async () => {
    const before = submits('/submit/describe').length;
    expect((await reply(world.discord.slash({ name: 'describe', options: {} }), 'attach an image')).ephemeral).toBe(true);
    await reply(world.discord.slash({ name: 'describe', options: { image: png('x.png'), link: 'https://example.com/a.png' } }), 'not both');
    await reply(world.discord.slash({ name: 'describe', options: { link: 'http://127.0.0.1:8080/secret.png' } }), 'private or local');
    await reply(world.discord.slash({ name: 'describe', options: { link: 'file:///etc/passwd' } }), 'valid http');
    expect(submits('/submit/describe')).toHaveLength(before);
  });

  it('"Describe image" describes the image of any message; a message without one is refused', async () => {
    const ch = newChannel();
    const posted = world.discord.userSendsMessage({
      channelId: ch.id,
      user: world.discord.bob,
      content: 'look',
      attachments: [{ name: 'holiday.png', bytes: makePng(40, 30, { seed: 77 }) }],
    });
    const ix = world.discord.messageCommand({ name: 'Describe image', targetMessageId: posted.id, user: world.discord.alice });
    await reply(ix, 'accepted');
    const result = await botMessage(ch, (m) => m.content.includes('holiday.png') && m.content.includes('4️⃣'));
    expect(result.content).toContain(`<@${world.discord.alice.id}>`);

    const before = submits('/submit/describe').length;
    const plain = world.discord.userSendsMessage({ channelId: ch.id, content: 'no picture here' });
    await reply(world.discord.messageCommand({ name: 'Describe image', targetMessageId: plain.id }), 'no image');
    const text = world.discord.userSendsMessage({
      channelId: ch.id,
      attachments: [{ name: 'fake.jpg', bytes: Buffer.from('%PDF-1.4 not an image'), contentType: 'image/jpeg' }],
    });
    await reply(world.discord.messageCommand({ name: 'Describe image', targetMessageId: text.id }), 'not an image');
    expect(submits('/submit/describe')).toHaveLength(before);
  });

  it('shorten shows the analysis and five candidates; candidate 2 starts an imagine with its text, not the upstream button', async () => {
    const ch = newChannel();
    const prompt = 'a very detailed painting of an old lighthouse on a cliff at dusk --ar 3:2';
    const ix = world.discord.slash({ name: 'shorten', channelId: ch.id, options: { prompt } });
    await reply(ix, 'accepted');
    const result = await botMessage(ch, (m) => m.content.includes('Shortened prompts'));
    const task = [...world.proxy.tasks.values()].find((t) => t.action === 'SHORTEN' && t.prompt === prompt)!;
    const candidates = task.fake.prompts!;
    expect(result.content).toContain('Important tokens');
    candidates.forEach((c, i) => expect(result.content).toContain(`${i + 1}\uFE0F\u20E3 ${c}`));
    expect(buttons(result).map((b) => b.label ?? b.emoji)).toEqual(['1', '2', '3', '4', '5', 'Show Details']);

    const before = submits('/submit/imagine').length;
    const { cb } = await click(result, '2');
    expect(cb.type).toBe(6);
    await world.discord.waitFor(() => submits('/submit/imagine').length > before);
    expect((submits('/submit/imagine')[before]!.body as { prompt: string }).prompt).toBe(candidates[1]);
    expect(submits('/submit/action').filter((r) => /PromptAnalyzer/.test(String((r.body as { customId: string }).customId)))).toHaveLength(0);
    await waitForResult(world.discord, ch.id, { match: (m) => m.content.startsWith(`**${candidates[1]!.split(' --')[0]}`) && m.attachments.length > 0 });
  });

  it('Show Details asks the upstream for the token weights and shows them', async () => {
    const ch = newChannel();
    const ix = world.discord.slash({ name: 'shorten', channelId: ch.id, options: { prompt: 'a small red boat in the harbour' } });
    await reply(ix, 'accepted');
    const result = await botMessage(ch, (m) => m.content.includes('Shortened prompts'));
    await click(result, 'Show Details');
    const details = await botMessage(ch, (m) => m.content.includes('Token weights'));
    expect(details.content).toContain('**boat**');
  });

  it('an upstream refusal of a shorten reads clearly', async () => {
    world.proxy.nextSubmitCode(23, 'queue full');
    const ix = world.discord.slash({ name: 'shorten', options: { prompt: 'a quiet forest' } });
    const msg = await reply(ix, 'queue');
    expect(msg.ephemeral).toBe(true);
    expect(world.discord.openApiProblems).toEqual([]);
  });
});
