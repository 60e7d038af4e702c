// The fair queue with hundreds of jobs waiting (issue 17's bench: 500 jobs from 50 members against 10 slots). Every
// waiting job's place is shown on its message, so working the places out must stay cheap however long the queue is.
import { afterEach, describe, expect, it } from 'vitest';
import { World } from '../support/world.js';

let world: World;
afterEach(async () => {
  await world?.close();
});

const MEMBERS = 20;
const EACH = 10;
const SLOTS = 5;

describe('a long fair queue', () => {
  it(`${MEMBERS} members × ${EACH} jobs against ${SLOTS} slots: it keeps moving, each job sent and delivered once, never over the cap`, async () => {
    world = await World.start({ proxy: { stepMs: 60, progressSteps: [0, 50], maxConcurrent: SLOTS } });
    const { discord, proxy } = world;
    await world.app.services.community.update(discord.guild.id, (r) => {
      r.maxRunning = SLOTS;
      // the production default of 2 per member: with no member limit, whoever's jobs arrive while slots are free
      // takes them all (first come, first served), and the round-robin below is about jobs that wait
      r.limits = { ...r.limits, concurrent: 2, queued: EACH };
    });
    const people = Array.from({ length: MEMBERS }, (_, i) => discord.addUser({ username: `queue${i}` }));
    const tokens: string[] = [];
    for (const [m, user] of people.entries()) {
      for (let j = 0; j < EACH; j++) {
        const token = `lq${m}j${j}z`;
        tokens.push(token);
        discord.slash({ name: 'imagine', options: { prompt: `long ${token}` }, user });
      }
    }
    const tokenOf = (text: string) => /lq\d+j\d+z/.exec(text)?.[0];
    const delivered = () =>
      discord
        .allMessages()
        .filter((m) => m.author.id === discord.botUser.id && !m.ephemeral && m.attachments.length > 0)
        .map((m) => tokenOf(m.content))
        .filter((t): t is string => t !== undefined);
    await discord.waitFor(() => new Set(delivered()).size === tokens.length || undefined, { timeoutMs: 90_000, intervalMs: 200 });

    expect(delivered().sort()).toEqual([...tokens].sort()); // each once
    const tasks = [...proxy.tasks.values()];
    expect(tasks.map((t) => tokenOf(String(t.prompt))).sort()).toEqual([...tokens].sort()); // each sent once
    // never more than the cap running upstream: at any task's submit, fewer than SLOTS others were still running
    for (const t of tasks) {
      const others = tasks.filter((o) => o !== t && o.submitTime! <= t.submitTime! && o.finishTime! > t.submitTime!);
      expect(others.length).toBeLessThan(SLOTS);
    }
    // round-robin: every member had a job started before any member had a third one started
    const byStart = [...tasks].sort((a, b) => a.submitTime! - b.submitTime!).map((t) => Number(/lq(\d+)j/.exec(String(t.prompt))![1]));
    const thirdAt = byStart.findIndex((m, i) => byStart.slice(0, i + 1).filter((x) => x === m).length === 3);
    expect(new Set(byStart.slice(0, thirdAt)).size).toBe(MEMBERS);
  }, 120_000);
});
