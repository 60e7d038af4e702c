import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sniffImage } from '../../src/images/sniff.js';
import { botMessages, buttonRows, editGaps, waitForResult } from '../support/discordHelpers.js';
import { World } from '../support/world.js';

describe('/imagine: the user story', () => {
  let world: World;
  beforeAll(async () => {
    // slow upstream steps so that progress spans several 3 s edit windows
    world = await World.start({ proxy: { stepMs: 1100 } });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('acknowledges, shows progress at most every 3 s, then posts the grid with its nine buttons', async () => {
    const { discord, proxy } = world;
    const started = Date.now();
    const ix = discord.slash({ name: 'imagine', options: { prompt: 'a cat in a spacesuit --ar 16:9' }, user: discord.alice });

    const ack = await ix.firstCallback(3000);
    expect(ack.type).toBe(5);
    expect(ack.latencyMs).toBeLessThan(3000);
    await discord.waitFor(() => ix.original()?.content.includes('accepted'));
    expect(ix.original()!.ephemeral).toBe(true);

    const result = await waitForResult(discord, discord.channel.id, { after: started, timeoutMs: 20_000 });

    // the upstream saw exactly what the user asked for
    const submits = proxy.requestsTo('/submit/imagine');
    expect(submits).toHaveLength(1);
    expect((submits[0]!.body as { prompt: string }).prompt).toBe('a cat in a spacesuit --ar 16:9');

    // result: the image re-hosted as an attachment, Midjourney's byline, one ping for the owner
    expect(result.content).toMatch(new RegExp(`^\\*\\*a cat in a spacesuit --ar 16:9.*\\*\\* - <@${discord.alice.id}> \\(v 7 · fast\\)$`)); // the version and speed the task reports
    expect(result.attachments).toHaveLength(1);
    expect(sniffImage(result.attachments[0]!.bytes)?.mime).toBe('image/png');
    expect(result.pingedUserIds).toEqual([discord.alice.id]);

    // buttons drawn from the task's buttons, labelled as upstream
    const rows = buttonRows(result);
    expect(rows.map((r) => r.map((b) => b.label ?? b.emoji))).toEqual([
      ['U1', 'U2', 'U3', 'U4', '🔄'],
      ['V1', 'V2', 'V3', 'V4'],
    ]);
    for (const b of rows.flat()) expect(b.customId.length).toBeLessThan(100);

    // progress: a bot-owned channel message, edited at least once and never more than once per 3 s, then removed
    const progress = botMessages(discord, discord.channel.id, { includeDeleted: true }).find((m) => m.createdAt >= started && m.id !== result.id);
    expect(progress).toBeDefined();
    expect(progress!.edits.length).toBeGreaterThanOrEqual(1);
    for (const gap of editGaps(progress!)) expect(gap).toBeGreaterThanOrEqual(2900);
    await discord.waitFor(() => progress!.deleted);
    expect(progress!.pingedUserIds).toEqual([]); // progress never pings

    expect(discord.openApiProblems).toEqual([]);
  }, 40_000);
});
