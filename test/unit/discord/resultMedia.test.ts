import { beforeAll, describe, expect, it } from 'vitest';
import { ByteGate, clipLinkText, isIsoMedia, loadResultVideo, resultVideoFetcher, type VideoFetcher } from '../../../src/discord/messages/resultMedia.js';
import { createI18n, type I18n } from '../../../src/i18n/index.js';
import { MESSAGE_FILES_MAX } from '../../../src/images/budgets.js';
import { makePng } from '../../fakes/images.js';
import { makeMp4 } from '../../fakes/mp4.js';
import { makeJob, silentLogger } from '../../support/unitKit.js';

const KiB = 1024;
const MiB = 1024 * 1024;

describe('ByteGate', () => {
  it('lets takers in while their bytes fit, first come first served, and hands freed bytes to whoever waits', async () => {
    const gate = new ByteGate(100);
    const a = await gate.take(60);
    const order: string[] = [];
    const b = gate.take(50).then((p) => (order.push('b'), p));
    const c = gate.take(10).then((p) => (order.push('c'), p)); // fits, but waits behind b (no overtaking)
    await Promise.resolve();
    expect(order).toEqual([]);
    a.shrink(40); // the real size is known: 20 bytes go back, b (50) still does not fit
    await Promise.resolve();
    expect(order).toEqual([]);
    a.release();
    const [pb, pc] = await Promise.all([b, c]);
    expect(order).toEqual(['b', 'c']);
    expect(gate.inUse).toBe(60);
    pb.release();
    pc.release();
    pc.release(); // a second release gives nothing back twice
    expect(gate.inUse).toBe(0);
  });

  it('clamps a request above its capacity, so a huge one still runs, alone', async () => {
    const gate = new ByteGate(10);
    const p = await gate.take(1000);
    expect(gate.inUse).toBe(10);
    p.release();
    expect(gate.inUse).toBe(0);
  });
});

describe('resultVideoFetcher', () => {
  it('asks for at most the video budget and refuses bytes that are not an MP4', async () => {
    const asked: number[] = [];
    const serve = (bytes: Buffer) =>
      resultVideoFetcher(async (_url, o) => {
        asked.push(o.maxBytes);
        return bytes;
      });
    const mp4 = makeMp4({ bytes: 2 * KiB, durationS: 5 });
    expect(await serve(mp4)('https://cdn.example/0_0.mp4', 1024 ** 3)).toBe(mp4);
    expect(asked[0]).toBe(25 * MiB);
    await expect(serve(makePng(8, 8))('https://cdn.example/0_0.mp4', MiB)).rejects.toMatchObject({ kind: 'not-video' });
    expect(isIsoMedia(mp4)).toBe(true);
  });
});

describe('loadResultVideo', () => {
  let i18n: I18n;
  beforeAll(async () => {
    i18n = await createI18n();
  });

  const clips = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ url: `https://cdn.example/v/0_${i}.mp4`, thumbnailUrl: `https://cdn.example/v/0_${i}.webp` }));
  const videoJob = (n: number, attachmentLimit = 10 * MiB) =>
    makeJob({ prompt: 'a paper boat', attachmentLimit, result: { buttons: [], imageUrl: 'https://cdn.example/v.mp4', video: { clips: clips(n) } } });

  /** A fetcher of clips of these sizes that refuses past the cap the way the guarded download does (declared size, nothing read). */
  function sized(sizes: number[]): { fetch: VideoFetcher; caps: number[] } {
    const caps: number[] = [];
    const fetch: VideoFetcher = async (url, cap) => {
      caps.push(cap);
      const size = sizes[Number(/0_(\d)/.exec(url)?.[1])]!;
      if (size > cap) throw Object.assign(new Error('too large'), { kind: 'too-large', size });
      return makeMp4({ bytes: size, durationS: 5 });
    };
    return { fetch, caps };
  }

  it('attaches every clip that fits, and keeps in the gate only what it holds until released, when it lets go of the bytes too', async () => {
    const gate = new ByteGate(64 * MiB);
    const { fetch, caps } = sized([300 * KiB, 300 * KiB, 300 * KiB, 300 * KiB]);
    const v = await loadResultVideo(videoJob(4), { fetchVideo: fetch, videoGate: gate, i18n, logger: silentLogger });
    expect(v.files.map((f) => [f.name, f.contentType, f.data.length])).toEqual(
      [1, 2, 3, 4].map((n) => [expect.stringMatching(new RegExp(`_${n}\\.mp4$`)), 'video/mp4', 300 * KiB]),
    );
    expect(v.links).toEqual([]);
    expect(caps[0]).toBe(10 * MiB); // the interaction's limit per file
    expect(gate.inUse).toBe(4 * 300 * KiB);
    v.release();
    expect(gate.inUse).toBe(0);
    expect(v.files).toEqual([]); // the one copy of the clips is not kept alive by whoever still holds the loaded video
  });

  it('a clip above the interaction limit is a link saying so, with its thumbnail; a 300 KB one never is', async () => {
    const { fetch } = sized([300 * KiB, 3 * MiB]);
    const v = await loadResultVideo(videoJob(2, 1 * MiB), { fetchVideo: fetch, videoGate: new ByteGate(64 * MiB), i18n, logger: silentLogger });
    expect(v.files).toHaveLength(1);
    expect(v.links).toEqual([{ n: 2, url: 'https://cdn.example/v/0_1.mp4', reason: 'too-large', bytes: 3 * MiB }]);
    expect(v.thumbnailUrl).toBe('https://cdn.example/v/0_1.webp');
    expect(clipLinkText(v.links[0]!, videoJob(2, 1 * MiB), i18n)).toBe(
      '🎞️ Clip 2 (3.0 MiB) is larger than Discord lets me upload here (1.0 MiB), so here is a link to it instead:',
    );
    v.release();
  });

  it('clips that each fit but not all in one message: the last ones become links, worded for that', async () => {
    const each = 9 * MiB; // three of them pass one message's 24 MiB
    const { fetch, caps } = sized([each, each, each, each]);
    const v = await loadResultVideo(videoJob(4), { fetchVideo: fetch, videoGate: new ByteGate(64 * MiB), i18n, logger: silentLogger });
    expect(v.files).toHaveLength(2);
    expect(v.links.map((l) => [l.n, l.reason])).toEqual([
      [3, 'not-in-one-message'],
      [4, 'not-in-one-message'],
    ]);
    expect(caps[2]).toBe(MESSAGE_FILES_MAX - 2 * each);
    expect(clipLinkText(v.links[0]!, videoJob(4), i18n)).toContain('did not fit into one message');
    v.release();
  });

  it('a clip on a private address is neither fetched nor linked, and the member is told', async () => {
    const fetch: VideoFetcher = async () => {
      throw Object.assign(new Error('blocked'), { kind: 'blocked-address' });
    };
    const v = await loadResultVideo(videoJob(1), { fetchVideo: fetch, videoGate: new ByteGate(MiB), i18n, logger: silentLogger });
    expect(v.files).toEqual([]);
    expect(v.links).toEqual([]);
    expect(v.notes[0]).toContain('private or local network address');
    v.release();
  });

  it('waits its turn when the gate is full, so bytes in flight stay bounded', async () => {
    const gate = new ByteGate(2 * MiB);
    const blocker = await gate.take(2 * MiB);
    const { fetch, caps } = sized([100 * KiB]);
    let done = false;
    const p = loadResultVideo(videoJob(1, MiB), { fetchVideo: fetch, videoGate: gate, i18n, logger: silentLogger }).then((v) => ((done = true), v));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    expect(caps).toEqual([]); // nothing downloaded while waiting
    blocker.release();
    const v = await p;
    expect(v.files).toHaveLength(1);
    v.release();
    expect(gate.inUse).toBe(0);
  });
});
