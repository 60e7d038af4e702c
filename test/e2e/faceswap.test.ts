import { freePort } from '../support/tmp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sniffImage } from '../../src/images/sniff.js';
import type { FakeMessage } from '../fakes/discord/index.js';
import { makePng } from '../fakes/images.js';
import { botMessages, button, buttons, waitForResult } from '../support/discordHelpers.js';
import { World } from '../support/world.js';

/** /faceswap end to end: each engine against the fake Img Open and the fake proxy, Swap again, refusals, restart. */
describe('/faceswap', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.start({ imgOpen: { stepMs: 50 }, proxy: { stepMs: 50 } });
  });
  afterAll(async () => {
    await world?.close();
  });

  let seq = 0;
  const face = () => ({ name: 'face.png', bytes: makePng(64, 64, { seed: ++seq }) });
  const photo = () => ({ name: 'photo.png', bytes: makePng(96, 64, { seed: ++seq + 1000 }) });

  /** Run /faceswap and wait for its result message (image or ❌). */
  async function swap(options: Record<string, unknown>): Promise<{ result: FakeMessage; reply: string }> {
    const { discord } = world;
    // a channel per job: Discord's ~5 writes per 5 s per channel would otherwise pace the tests
    const channel = discord.addChannel(discord.guild.id, { name: `swap-${++seq}` });
    const started = discord.now();
    const ix = discord.slash({
      name: 'faceswap',
      channelId: channel.id,
      options: { source: { attachment: face() }, target: { attachment: photo() }, ...options } as never,
    });
    await discord.waitFor(() => ix.original()?.content.includes('accepted'), { timeoutMs: 5000 });
    const result = await waitForResult(discord, channel.id, { after: started, timeoutMs: 15_000 });
    return { result, reply: ix.original()!.content };
  }

  /** Run /faceswap and return the refusal the user reads (the ephemeral reply). */
  async function refused(options: Record<string, unknown>): Promise<string> {
    const ix = world.discord.slash({ name: 'faceswap', options: { source: { attachment: face() }, target: { attachment: photo() }, ...options } as never });
    return world.discord.waitFor(() => ix.original()?.content || undefined, { timeoutMs: 5000 });
  }

  const creates = (tool: string) => world.imgOpen!.requests.filter((r) => r.path === `/AIGCImgOpenServ/saas/tool/${tool}`);

  it('registers /faceswap with only the configured engines, and no /inpaint or /tools without PicWish', () => {
    const cmds = world.discord.registeredCommands(world.discord.guild.id);
    expect(cmds.map((c) => c.name)).toContain('faceswap');
    expect(cmds.map((c) => c.name)).not.toContain('inpaint');
    expect(cmds.map((c) => c.name)).not.toContain('tools');
    const fs = cmds.find((c) => c.name === 'faceswap') as unknown as { options: { name: string; choices?: { value: string }[] }[] };
    expect(fs.options.find((o) => o.name === 'engine')!.choices!.map((c) => c.value)).toEqual(['v2', 'v1', 'multi', 'proxy']);
    expect(fs.options.map((o) => o.name)).toEqual(['source', 'target', 'engine', 'fidelity', 'face', 'source2', 'delivery']);
    expect(world.discord.openApiProblems).toEqual([]);
  });

  it('Img Open V1 delivers an image with the bot’s own buttons', async () => {
    const before = creates('roop').length;
    const { result, reply } = await swap({ engine: 'v1' });
    expect(reply).toMatch(/accepted/);
    expect(result.content).toContain('Face swap · Img Open V1');
    expect(result.attachments).toHaveLength(1);
    expect(sniffImage(result.attachments[0]!.bytes)?.mime).toBe('image/png');
    expect(buttons(result).map((b) => b.label)).toEqual(['Swap again']); // no PicWish here: no restore/background buttons
    expect(buttons(result)[0]!.customId).toMatch(/^mj:t:/);
    const sent = creates('roop').slice(before);
    expect(sent).toHaveLength(1);
    const body = sent[0]!.body as Record<string, unknown>;
    // discord-url ingress: Img Open got the fresh Discord attachment URLs, which it downloaded itself
    expect(String(body.sourceUrl)).toContain('/attachments/');
    expect(String(body.targetUrl)).toContain('/attachments/');
    expect(body.fidelityWeight).toBeUndefined();
    expect(String(body.businessTaskId)).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    // one pipeline: the job is stored with what the Img Open adapter polls by, and the adapter's own deadline
    const job = (await world.app.services.repos.jobs.get(/`(\w+)`/.exec(reply)![1]!))!;
    expect(job).toMatchObject({ provider: 'imgopen', kind: 'faceswap', status: 'succeeded', upstreamId: body.businessTaskId });
    expect(job.upstream).toMatchObject({ businessTaskId: body.businessTaskId, toolCode: 'roop', engine: 'v1' });
    expect(typeof job.upstream.submittedAt).toBe('number');
    expect(job.deadlineAt - job.createdAt).toBe(120_000);
  });

  it('Img Open V2 passes the fidelity as a string', async () => {
    const before = creates('v2/roop').length;
    const { result } = await swap({ engine: 'v2', fidelity: 0.35 });
    expect(result.content).toContain('Face swap · Img Open V2');
    expect(result.attachments).toHaveLength(1);
    const sent = creates('v2/roop').slice(before);
    expect(sent).toHaveLength(1);
    expect((sent[0]!.body as Record<string, unknown>).fidelityWeight).toBe('0.35');
  });

  it('multi-face passes the chosen face and both sources (and fidelity alone picks V2)', async () => {
    const before = creates('face/fusion').length;
    const { result } = await swap({ face: 2, source2: { attachment: face() } }); // no engine given: the faces imply multi-face
    expect(result.content).toContain('Face swap · Img Open multi-face');
    expect(result.attachments).toHaveLength(1);
    const sent = creates('face/fusion').slice(before);
    expect(sent).toHaveLength(1);
    const body = sent[0]!.body as { sourceUrl: string[]; faceIdx: number };
    expect(body.faceIdx).toBe(2);
    expect(body.sourceUrl).toHaveLength(2);

    const v2Before = creates('v2/roop').length;
    await swap({ fidelity: { type: 10, value: 1 } }); // a Number option, as Discord sends it
    expect((creates('v2/roop').slice(v2Before)[0]!.body as Record<string, unknown>).fidelityWeight).toBe('1');
  });

  it('the proxy’s InsightFace delivers an image from base64 inputs', async () => {
    const before = world.proxy.requestsTo('/insight-face/swap').length;
    const { result } = await swap({ engine: 'proxy' });
    expect(result.content).toContain('Face swap · InsightFace');
    expect(result.attachments).toHaveLength(1);
    const sent = world.proxy.requestsTo('/insight-face/swap').slice(before);
    expect(sent).toHaveLength(1);
    const body = sent[0]!.body as { sourceBase64: string; targetBase64: string };
    expect(body.sourceBase64).toMatch(/^data:image\/png;base64,/);
    expect(body.targetBase64).toMatch(/^data:image\/png;base64,/);
  });

  it('refuses options of another engine and identical pictures before anything is sent', async () => {
    const imgOpenBefore = world.imgOpen!.requests.length;
    const proxyBefore = world.proxy.requestsTo('/insight-face/swap').length;
    expect(await refused({ engine: 'v1', fidelity: 0.5 })).toContain('Fidelity only applies to the Img Open V2 engine');
    expect(await refused({ engine: 'proxy', face: 2 })).toContain('only works with the multi-face engine');
    const same = makePng(64, 64, { seed: 4242 });
    expect(
      await refused({ engine: 'proxy', source: { attachment: { name: 'a.png', bytes: same } }, target: { attachment: { name: 'b.png', bytes: same } } }),
    ).toContain('are the same picture');
    expect(await refused({ engine: 'v1', source: { attachment: { name: 'notes.png', bytes: Buffer.from('not an image at all') } } })).toContain(
      'is not an image',
    );
    expect(world.imgOpen!.requests.length).toBe(imgOpenBefore);
    expect(world.proxy.requestsTo('/insight-face/swap').length).toBe(proxyBefore);
  });

  it('a vendor failure ends in a clear message and the progress message goes away', async () => {
    world.imgOpen!.failNext(1, { state: 2, desc: '未检测到人脸' });
    const { result } = await swap({ engine: 'v1' });
    expect(result.content).toContain("❌ I couldn't find a face in that picture");
    expect(result.attachments).toHaveLength(0);
    await world.discord.waitFor(
      () => !botMessages(world.discord, result.channel_id).some((m) => m.content.includes('⏳') || m.content.includes('▰') || m.content.includes('▱')),
      { timeoutMs: 5000 },
    );
  });

  it('vendor refusals at submit time are told clearly, and a 5xx is retried once with a new businessTaskId', async () => {
    world.imgOpen!.failNext(1, { code: '402', msg: '余额不足', on: 'create' });
    expect(await refused({ engine: 'v1' })).toBe('The image service has run out of credit. Please try again later.');
    world.imgOpen!.failNext(1, { code: '400', msg: 'sourceUrl invalid', on: 'create' });
    expect(await refused({ engine: 'v1' })).toBe('That request was rejected: sourceUrl invalid');

    const before = creates('roop').length;
    world.imgOpen!.failNext(1, { status: 502, on: 'create' });
    const { result } = await swap({ engine: 'v1' });
    expect(result.attachments).toHaveLength(1);
    const sent = creates('roop').slice(before);
    expect(sent.map((r) => r.status)).toEqual([502, 200]);
    const ids = sent.map((r) => (r.body as { businessTaskId?: string } | undefined)?.businessTaskId);
    expect(ids[1]).toBeDefined();
    expect(ids[0]).not.toBe(ids[1]); // never reused
  });

  it('Swap again opens a modal with a File Upload and swaps a new face onto the result', async () => {
    const { result } = await swap({ engine: 'v2', fidelity: 0.6 });
    const b = button(result, 'Swap again');
    const click = world.discord.clickButton({ messageId: result.id, customId: b.customId });
    expect((await click.firstCallback(3000)).type).toBe(9);
    const shown = click.modal()!;
    const json = JSON.stringify(shown.components);
    expect(json).toContain('"type":19'); // File Upload
    expect(json).toContain('0.6'); // fidelity prefilled from the first swap

    const before = creates('v2/roop').length;
    const started = world.discord.now();
    const submit = world.discord.submitModal({ customId: String(shown.custom_id), files: { face: [face()] }, fields: { fidelity: '0.2' } });
    await world.discord.waitFor(() => submit.original()?.content.includes('accepted'), { timeoutMs: 5000 });
    const again = await waitForResult(world.discord, result.channel_id, { after: started, timeoutMs: 15_000 });
    expect(again.attachments).toHaveLength(1);
    const body = creates('v2/roop').slice(before)[0]!.body as Record<string, unknown>;
    expect(body.fidelityWeight).toBe('0.2');
    // the target is the first result, re-fetched from the bot's own message
    expect(String(body.targetUrl)).toContain(`/attachments/${result.channel_id}/${result.attachments[0]!.id}/`);
    await world.discord.waitFor(() => button(world.discord.message(result.id)!, 'Swap again').style === 1); // drawn as used
  });

  it('a face-swap job in flight across a restart is delivered', async () => {
    const { discord } = world;
    const fake = world.imgOpen!;
    const runSteps = fake.opts.runSteps;
    fake.opts.runSteps = 1_000_000; // the vendor task keeps running while the bot restarts
    try {
      const known = new Set(fake.tasks.keys());
      const started = discord.now();
      const ix = discord.slash({ name: 'faceswap', options: { source: { attachment: face() }, target: { attachment: photo() }, engine: 'v1' } });
      const task = await discord.waitFor(() => [...fake.tasks.values()].find((t) => !known.has(t.businessTaskId)), { timeoutMs: 5000 });
      await discord.waitFor(() => ix.original()?.content.includes('accepted'), { timeoutMs: 5000 });
      const before = creates('roop').length;

      await world.restart();
      const polls = () =>
        fake.requestsTo('/roop/queryTask').filter((r) => (r.body as { businessTaskId?: string } | undefined)?.businessTaskId === task.businessTaskId).length;
      const seen = polls();
      await discord.waitFor(() => polls() > seen, { timeoutMs: 5000 }); // the new process polls the same vendor task
      expect(task.phase).not.toBe('done');
      fake.opts.runSteps = runSteps; // now let it finish

      const result = await waitForResult(discord, discord.channel.id, { after: started, timeoutMs: 15_000 });
      expect(result.content).toContain('Face swap · Img Open V1');
      expect(result.attachments).toHaveLength(1);
      expect(creates('roop').length).toBe(before); // resumed, never resubmitted
    } finally {
      fake.opts.runSteps = runSteps;
    }
  });
});

/** IMAGE_INGRESS_MODE=rehost: Img Open downloads the inputs from the bot's own short-lived URLs under PUBLIC_URL. */
describe('/faceswap with rehosted inputs', () => {
  let world: World;
  let publicUrl: string;
  beforeAll(async () => {
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    world = await World.start({
      imgOpen: { stepMs: 50 },
      proxy: { stepMs: 50 },
      env: { IMAGE_INGRESS_MODE: 'rehost', PUBLIC_URL: publicUrl },
      app: { httpPort: port },
    });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('passes unguessable URLs of the bot itself, which serve the exact bytes and nothing else', async () => {
    const { discord } = world;
    const source = makePng(64, 64, { seed: 77 });
    const started = discord.now();
    discord.slash({
      name: 'faceswap',
      options: {
        source: { attachment: { name: 'face.png', bytes: source } },
        target: { attachment: { name: 'photo.png', bytes: makePng(80, 80, { seed: 78 }) } },
        engine: 'v1',
      },
    });
    // PUBLIC_URL also turns on proxy callbacks; Img Open jobs are still polled at the normal pace
    const result = await waitForResult(discord, discord.channel.id, { after: started, timeoutMs: 10_000 });
    expect(result.attachments).toHaveLength(1); // the fake vendor fetched both inputs from the bot

    const body = world.imgOpen!.requestsTo('/tool/roop')[0]!.body as { sourceUrl: string; targetUrl: string };
    for (const url of [body.sourceUrl, body.targetUrl]) expect(url).toMatch(new RegExp(`^${publicUrl}/media/[A-Za-z0-9_-]{32}\\.png$`));
    const served = await fetch(body.sourceUrl);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await served.arrayBuffer()).equals(source)).toBe(true);
    expect((await fetch(`${publicUrl}/media/${'A'.repeat(32)}.png`)).status).toBe(404);
    expect((await fetch(`${publicUrl}/media/`)).status).toBe(404); // no listing
  });
});
