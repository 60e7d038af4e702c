import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeInteraction } from '../fakes/discord/index.js';
import { makePng } from '../fakes/images.js';
import { button, waitForResult } from '../support/discordHelpers.js';
import { World } from '../support/world.js';

/**
 * The bad-input catalogue: every row gets a clear, polite, ephemeral answer, and nothing reaches the upstream
 * (other rows of the catalogue live with their features: forged/unknown custom_ids, someone else's job and
 * double clicks in buttons.test.ts; --zoom 3 and a wrong-size mask there too).
 */
describe('bad input', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.start({ proxy: { stepMs: 50, bannedWords: ['forbidden-word'] } });
  });
  afterAll(async () => {
    await world?.close();
  });

  const submits = () => world.proxy.requests.filter((r) => r.route.includes('/submit/')).length;

  async function refusal(ix: FakeInteraction): Promise<string> {
    await ix.firstCallback(3000);
    const msg = await world.discord.waitFor(() => (ix.original()?.content ? ix.original() : undefined));
    expect(msg.ephemeral).toBe(true);
    return msg.content;
  }

  it('an empty prompt', async () => {
    const before = submits();
    const text = await refusal(world.discord.slash({ name: 'imagine', options: { prompt: '   ' } }));
    expect(text).toBe("Please write a prompt: it can't be empty.");
    expect(submits()).toBe(before);
  });

  it('a prompt over the limit', async () => {
    const before = submits();
    const text = await refusal(world.discord.slash({ name: 'imagine', options: { prompt: 'x'.repeat(6001) } }));
    expect(text).toBe('Your prompt is too long (6001 characters; the limit is 6000).');
    expect(submits()).toBe(before);
  });

  it('a non-image renamed .png', async () => {
    const before = submits();
    const fake = Buffer.from('this is a text file, not a picture\n'.repeat(20));
    const text = await refusal(
      world.discord.slash({ name: 'imagine', options: { prompt: 'a cat', image: { attachment: { name: 'cat.png', bytes: fake, contentType: 'image/png' } } } }),
    );
    expect(text).toBe('“cat.png” is not an image I can read. Please attach a PNG, JPEG, WebP or GIF.');
    expect(submits()).toBe(before);
  });

  it('an image over the size limit is refused without even downloading it', async () => {
    const before = submits();
    const downloadsBefore = world.discord.attachmentDownloads.length;
    const big = Buffer.concat([makePng(8, 8), Buffer.alloc(11 * 1024 * 1024)]);
    const text = await refusal(world.discord.slash({ name: 'imagine', options: { prompt: 'a cat', image: { attachment: { name: 'huge.png', bytes: big } } } }));
    expect(text).toBe('“huge.png” is too large (11.0 MiB; the limit is 10.0 MiB).');
    expect(submits()).toBe(before);
    expect(world.discord.attachmentDownloads.length).toBe(downloadsBefore);
  });

  it('a banned prompt refused at submit (code 24) names the word', async () => {
    const text = await refusal(world.discord.slash({ name: 'imagine', options: { prompt: 'a forbidden-word here' } }));
    expect(text).toBe('Your prompt contains a word the image service does not allow: “forbidden-word”. Please rephrase it.');
  });

  it('a banned prompt found later (FAILURE) ends the job with a clear message', async () => {
    world.proxy.failNextTasks(1, 'Banned prompt detected, Sorry! Our AI moderator thinks this prompt is probably against our community standards.');
    const ix = world.discord.slash({ name: 'imagine', options: { prompt: 'a borderline prompt' }, user: world.discord.alice });
    await ix.firstCallback();
    const end = await waitForResult(world.discord, world.discord.channel.id, { match: (m) => m.content.includes('borderline prompt') });
    expect(end.content).toContain('Your prompt contains words the image service does not allow. Please rephrase it.');
    expect(end.attachments).toHaveLength(0);
  });

  it('rectangles that do not parse', async () => {
    world.discord.slash({ name: 'imagine', options: { prompt: 'a field of tulips' }, user: world.discord.alice });
    const grid = await waitForResult(world.discord, world.discord.channel.id, { match: (m) => m.content.includes('field of tulips') });
    world.discord.clickButton({ messageId: grid.id, customId: button(grid, 'U1').customId, user: world.discord.alice });
    const up = await waitForResult(world.discord, world.discord.channel.id, {
      match: (m) => m.content.includes('field of tulips') && m.content.includes('Image #1'),
    });
    const open = world.discord.clickButton({ messageId: up.id, customId: button(up, 'Vary (Region)').customId, user: world.discord.alice });
    await open.firstCallback();
    const actions = world.proxy.requestsTo('/submit/action').length;
    const sub = world.discord.submitModal({
      customId: (open.modal() as { custom_id: string }).custom_id,
      fields: { rects: '10,10,abc,20' },
      user: world.discord.alice,
      messageId: up.id,
    });
    const text = await refusal(sub);
    expect(text).toBe("Area 1 (“10,10,abc,20”) isn't x,y,w,h with whole numbers, e.g. 100,120,200,150.");
    const tooMany = Array.from({ length: 51 }, (_, i) => `${i},${i},5,5`).join(';');
    const open2 = world.discord.clickButton({ messageId: up.id, customId: button(up, 'Vary (Region)').customId, user: world.discord.alice });
    await open2.firstCallback();
    const sub2 = world.discord.submitModal({
      customId: (open2.modal() as { custom_id: string }).custom_id,
      fields: { rects: tooMany },
      user: world.discord.alice,
      messageId: up.id,
    });
    expect(await refusal(sub2)).toBe("That's 51 areas; the limit is 50.");
    expect(world.proxy.requestsTo('/submit/action').length).toBe(actions);
  });

  it('answers in Chinese for a zh-CN user', async () => {
    const text = await refusal(world.discord.slash({ name: 'imagine', options: { prompt: ' ' }, locale: 'zh-CN' }));
    expect(text).toBe('请填写提示词，不能为空。');
  });
});
