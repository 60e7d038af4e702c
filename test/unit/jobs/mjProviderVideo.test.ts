import { describe, expect, it } from 'vitest';
import { MjProvider, videoOf } from '../../../src/jobs/mjProvider.js';
import { makeJob, silentLogger } from '../../support/unitKit.js';

/** A video task (contract §3.10a) becomes a result with its clips; an image task carries none. */
describe('MjProvider: video results', () => {
  const base = 'https://cdn.midjourney.com/video/0b6c';

  it('maps a video grid: contentType video/mp4, four videoUrls with thumbnails, the duration', () => {
    const provider = new MjProvider({ fetchTasks: async () => [], fetchTask: async () => null }, { flavor: 'trueai', logger: silentLogger });
    const u = provider.toUpdate(makeJob({ kind: 'action' }), {
      id: '1',
      status: 'SUCCESS',
      action: 'VIDEO',
      contentType: 'video/mp4',
      imageUrl: `${base}/0.mp4`,
      videoUrls: [0, 1, 2, 3].map((i) => ({ url: `${base}/0_${i}.mp4`, thumbnail: `${base}/0_${i}_640_N.webp` })),
      videoDuration: 5.2,
      buttons: [{ customId: 'MJ::JOB::video_virtual_upscale::1::0b6c' }],
    });
    expect(u?.result?.video).toEqual({
      clips: [0, 1, 2, 3].map((i) => ({ url: `${base}/0_${i}.mp4`, thumbnailUrl: `${base}/0_${i}_640_N.webp` })),
      durationS: 5.2,
    });
    expect(u?.result?.imageUrl).toBe(`${base}/0.mp4`);
  });

  it('a clip without videoUrls (a video-U press: UPSCALE) is its imageUrl', () => {
    expect(videoOf({ id: '2', action: 'UPSCALE', contentType: 'video/mp4', imageUrl: `${base}/0_1.mp4` })).toEqual({ clips: [{ url: `${base}/0_1.mp4` }] });
  });

  it('an image task has no video; links that are not http(s) are dropped', () => {
    expect(videoOf({ id: '3', action: 'UPSCALE', imageUrl: 'https://cdn.discordapp.com/a.png' })).toBeUndefined();
    expect(videoOf({ id: '4', action: 'VIDEO', imageUrl: `${base}/x.mp4`, videoUrls: [{ url: 'javascript:alert(1)' }, 'https://c.example/1.mp4'] })).toEqual({
      clips: [{ url: 'https://c.example/1.mp4' }],
    });
  });
});
