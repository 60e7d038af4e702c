import { afterEach, describe, expect, it } from 'vitest';
import { describeSubmitError } from '../../../src/jobs/submitErrors.js';
import { createLogger } from '../../../src/log.js';
import { MjProxyClient, videoPrompt } from '../../../src/upstream/mjProxy.js';
import { MjError, type MjFlavor } from '../../../src/upstream/mjTypes.js';
import { makePng } from '../../fakes/images.js';
import { startFakeMjProxy, type FakeMjProxy } from '../../fakes/mjProxy/index.js';
import type { FakeMjProxyOptions } from '../../fakes/mjProxy/types.js';

// The video side of the proxy client against the fake proxy: the feature probe (nothing started), the submit, and
// the gates (codes 4, 9, 3, 404) that name what the admin must enable.
const logger = createLogger({ level: 'silent' });
const png = `data:image/png;base64,${makePng(16, 16).toString('base64')}`;

let proxy: FakeMjProxy | undefined;
let client: MjProxyClient | undefined;
afterEach(async () => {
  await client?.close();
  await proxy?.close();
  client = proxy = undefined;
});

async function rig(opts: FakeMjProxyOptions = {}, flavor: MjFlavor = opts.flavor ?? 'trueai') {
  proxy = await startFakeMjProxy({ secret: '', stepMs: 10_000, ...opts });
  client = new MjProxyClient({ baseUrl: proxy.url, flavor, authStyle: 'mj-api-secret', logger, retry: { retries: 0 } });
  return { proxy, client };
}

describe('probeFeatures', () => {
  it('video enabled: available, started nothing, and video goes through the route', async () => {
    const { proxy, client } = await rig();
    expect((await client.probeFeatures()).video).toBe('available');
    expect(client.capabilities().video).toBe('route');
    expect(proxy.tasks.size).toBe(0);
    expect(proxy.requestsTo('/submit/video')[0]!.body).toEqual({ prompt: '' });
  });

  it('video switched off (code 4 "视频功能未启用") or no route (404): not available on trueai', async () => {
    const off = await rig({ videoEnabled: false });
    expect((await off.client.probeFeatures()).video).toBe('disabled');
    expect(off.client.capabilities().video).toBe(false);
    await client!.close();
    await proxy!.close();
    const gone = await rig({ videoRoute: false });
    expect((await gone.client.probeFeatures()).video).toBe('missing');
    expect(gone.client.capabilities().video).toBe(false);
  });

  it('a proxy without the route (novicezk): video through --video 1 on an imagine', async () => {
    const { client } = await rig({ flavor: 'novicezk' });
    expect(client.capabilities().video).toBe('prompt');
    expect(await client.probeFeatures()).toEqual({ video: 'missing', upload: 'missing' });
    expect(client.capabilities().video).toBe('prompt');
  });

  it('an unreachable proxy: unknown, and the flavour decides', async () => {
    const { proxy, client } = await rig();
    await proxy.close();
    expect(await client.probeFeatures(500)).toEqual({ video: 'unknown', upload: 'unknown' });
    expect(client.capabilities().video).toBe('route');
  });
});

describe('video()', () => {
  it('trueai: one submit/video with the frames as data URLs; a blank prompt becomes the motion', async () => {
    const { proxy, client } = await rig();
    const out = await client.video({ prompt: ' ', image: png, loop: true, motion: 'high', batchSize: 1, state: 'j1' });
    expect(out.kind).toBe('accepted');
    expect(proxy.requestsTo('/submit/video')[0]!.body).toEqual({ prompt: '--motion high', image: png, loop: true, motion: 'high', batchSize: 1, state: 'j1' });
  });

  const gates: [string, FakeMjProxyOptions, 'disabled' | 'remix' | 'no-account' | 'no-route', boolean?][] = [
    ['code 4 video disabled', { videoEnabled: false }, 'disabled'],
    ['code 9 Remix off', { videoAccounts: 'remix-off' }, 'remix'],
    ['code 3 no account', { videoAccounts: 'none' }, 'no-account'],
    ['code 3 HD without an HD account', {}, 'no-account', true],
    ['404 no route', { videoRoute: false }, 'no-route'],
  ];
  for (const [name, opts, gate, hd] of gates) {
    it(`${name}: an MjError naming the gate, not retryable, sent once; the member's message says what to enable`, async () => {
      const { proxy, client } = await rig(opts);
      const err = await client.video({ prompt: 'go', image: png, motion: 'low', hd }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MjError);
      expect((err as MjError).details).toMatchObject({ feature: 'video', gate });
      expect((err as MjError).retryable).toBe(false);
      expect(proxy.requestsTo('/submit/video')).toHaveLength(1);
      expect(describeSubmitError(err, [])).toEqual({ key: `videoCommand.gate.${gate}` });
    });
  }

  it('a code 4 that is not a gate keeps the generic wording', async () => {
    const { client } = await rig();
    const err = await client.video({ prompt: 'go', image: 'not-an-image', motion: 'low' }).catch((e: unknown) => e);
    expect((err as MjError).details.gate).toBeUndefined();
    expect(describeSubmitError(err, []).key).toBe('errors.validation');
  });
});

describe('videoPrompt', () => {
  it("writes Midjourney's own parameters after the prompt", () => {
    expect(videoPrompt({ prompt: ' a cat ', motion: 'low', endImageUrl: 'https://x/e.png', batchSize: 2 })).toBe(
      'a cat --video 1 --motion low --end https://x/e.png --bs 2',
    );
    expect(videoPrompt({ prompt: '', motion: 'high', loop: true, endImageUrl: 'https://x/e.png' })).toBe('--video 1 --motion high --end loop');
  });
});
