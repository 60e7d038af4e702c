import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMessage } from '../fakes/discord/index.js';
import { button, waitForResult } from '../support/discordHelpers.js';
import { World } from '../support/world.js';

const DAY = 24 * 3600_000;

/**
 * Results are kept JOB_RETENTION_DAYS: a press on a button older than that says the result has expired (ephemeral,
 * in the member's language) and sends nothing upstream. The bot's clock is moved forward (World.advanceClock).
 */
describe('retention', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.start({ proxy: { stepMs: 50 }, env: { JOB_RETENTION_DAYS: '30' } });
  });
  afterAll(async () => {
    await world?.close();
  });

  let seq = 0;
  async function imagine(prompt: string, locale?: string): Promise<FakeMessage> {
    const tag = `r${++seq}`;
    const started = world.discord.now();
    world.discord.slash({ name: 'imagine', options: { prompt: `${prompt} ${tag}` }, user: world.discord.alice, ...(locale ? { locale } : {}) });
    return waitForResult(world.discord, world.discord.channel.id, { after: started - 1, match: (m) => m.content.includes(tag) && m.attachments.length > 0 });
  }

  const upstreamSubmits = () => world.proxy.requests.filter((r) => r.route.includes('/submit/')).length;

  it('a button pressed within the retention still works', async () => {
    const result = await imagine('a lighthouse');
    world.advanceClock(29 * DAY);
    try {
      const before = upstreamSubmits();
      const ix = world.discord.clickButton({ messageId: result.id, customId: button(result, 'U1').customId, user: world.discord.alice });
      await ix.firstCallback(3000);
      await world.discord.waitFor(() => upstreamSubmits() > before);
    } finally {
      world.advanceClock(-29 * DAY);
    }
  });

  it('a button older than the retention says the result has expired, only to the presser, and sends nothing upstream', async () => {
    const result = await imagine('a harbour');
    world.advanceClock(31 * DAY);
    try {
      const before = upstreamSubmits();
      for (const label of ['U2', 'V1', '🔄']) {
        const ix = world.discord.clickButton({ messageId: result.id, customId: button(result, label).customId, user: world.discord.alice });
        const reply = await world.discord.waitFor(() => ix.original()?.content || ix.followups()[0]?.content || undefined);
        const msg = ix.original()?.content ? ix.original()! : ix.followups()[0]!;
        expect(msg.ephemeral).toBe(true);
        expect(reply).toMatch(/this result has expired/i);
        expect(reply).toContain('30 days');
      }
      expect(upstreamSubmits()).toBe(before);
    } finally {
      world.advanceClock(-31 * DAY);
    }
  });

  it('says so in Chinese to a member whose Discord speaks Chinese', async () => {
    const result = await imagine('一座灯塔', 'zh-CN');
    world.advanceClock(31 * DAY);
    try {
      const ix = world.discord.clickButton({ messageId: result.id, customId: button(result, 'U3').customId, user: world.discord.alice, locale: 'zh-CN' });
      const reply = await world.discord.waitFor(() => ix.original()?.content || ix.followups()[0]?.content || undefined);
      expect(reply).toMatch(/已过期/);
      expect(reply).toContain('30');
    } finally {
      world.advanceClock(-31 * DAY);
    }
  });
});
