// Proxy features the bot offers only where they work: video (/video, "Animate") and image upload. The same probe
// the bot runs before registering its commands (MjProxyClient.probeFeatures): requests each route refuses before
// doing anything, so nothing is started. A feature that is off is not a fault of the setup: it shows as "–" with
// what to enable; what no probe can tell (Remix and HD on the proxy's accounts) is said as such.
import type { Config } from '../config.js';
import { mjClientOptionsFrom, MjProxyClient } from '../upstream/mjProxy.js';
import type { MjFeatureState } from '../upstream/mjTypes.js';
import { pass, skip, type CheckResult, type DoctorContext } from './types.js';

const T = { video: 'Midjourney Proxy video', upload: 'Midjourney Proxy image upload' } as const;

export async function featureChecks(config: Config, ctx: DoctorContext): Promise<CheckResult[]> {
  const mj = new MjProxyClient({ ...mjClientOptionsFrom(config.mj), logger: ctx.logger });
  try {
    const probe = await mj.probeFeatures(ctx.timeoutMs);
    return [videoCheck(probe.video, mj.capabilities().video), uploadCheck(probe.upload)];
  } finally {
    await mj.close();
  }
}

function videoCheck(state: MjFeatureState, way: 'route' | 'prompt' | false): CheckResult {
  const unconfirmed = 'whether its accounts have Remix on (code 9) and can make HD video (code 3) shows at the first video';
  if (state === 'available') return pass('proxy-video', T.video, `POST /mj/submit/video answers: /video and "Animate" are offered; ${unconfirmed}`);
  if (way === 'prompt') {
    return pass(
      'proxy-video',
      T.video,
      `no /mj/submit/video route here: /video sends --video 1 in an imagine prompt, which only Midjourney can accept or refuse (unconfirmed until the first video)`,
    );
  }
  if (state === 'disabled')
    return skip(
      'proxy-video',
      T.video,
      "switched off on the proxy (code 4): /video is not offered; to offer it, enable video in the proxy's settings (trueai: EnableVideo) and restart the bot",
    );
  if (state === 'missing')
    return skip('proxy-video', T.video, 'the proxy has no POST /mj/submit/video (404): /video is not offered; a trueai v11 proxy has it');
  return skip('proxy-video', T.video, 'no answer to the probe: /video is offered and explains a refusal when used');
}

function uploadCheck(state: MjFeatureState): CheckResult {
  if (state === 'available') return pass('proxy-upload', T.upload, 'POST /mj/submit/upload-discord-images answers: uploads are hosted on the proxy');
  if (state === 'disabled')
    return skip(
      'proxy-upload',
      T.upload,
      "switched off on the proxy (code 4): reference images go as Discord's attachment links; to host them on the proxy, allow uploads in its settings",
    );
  if (state === 'missing')
    return skip('proxy-upload', T.upload, "the proxy has no POST /mj/submit/upload-discord-images (404): reference images go as Discord's attachment links");
  return skip('proxy-upload', T.upload, 'no answer to the probe');
}
