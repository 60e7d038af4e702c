import { describe, expect, it } from 'vitest';
import { resultImageFetcher } from '../../../src/discord/messages/resultImage.js';
import { bilevelPng, makeJpeg, makePng } from '../../fakes/images.js';

/** The result fetcher: what the bot re-hosts from an upstream's result URL, within the result image budget. */
describe('resultImageFetcher', () => {
  function fetcherServing(bytes: Buffer) {
    const asked: { url: string; maxBytes: number; timeoutMs: number }[] = [];
    const fetch = resultImageFetcher(async (url, opts) => {
      asked.push({ url, ...opts });
      return bytes;
    });
    return { fetch, asked };
  }

  it('returns the bytes with the type read from them, and never asks for more than the budget or the caller allow', async () => {
    const png = makePng(64, 48);
    const { fetch, asked } = fetcherServing(png);
    const got = await fetch('https://cdn.example/r.png', 8 * 1024 * 1024);
    expect(got).toEqual({ data: png, contentType: 'image/png', ext: 'png' });
    expect(asked[0]).toEqual({ url: 'https://cdn.example/r.png', maxBytes: 8 * 1024 * 1024, timeoutMs: 60_000 });

    const big = fetcherServing(makeJpeg(8, 8));
    await big.fetch('https://cdn.example/r.jpg', 1024 ** 3);
    expect(big.asked[0]!.maxBytes).toBe(25 * 1024 * 1024);
  });

  it('refuses bytes that are not an image', async () => {
    await expect(fetcherServing(Buffer.from('<html>not found</html>')).fetch('https://x.example/a', 1024)).rejects.toMatchObject({ kind: 'not-image' });
  });

  it('refuses an image whose header claims more pixels than the budget (12000×12000 in a few KB), without decoding it', async () => {
    const bomb = bilevelPng(12_000, 12_000);
    expect(bomb.byteLength).toBeLessThan(1024 * 1024);
    await expect(fetcherServing(bomb).fetch('https://x.example/bomb.png', 25 * 1024 * 1024)).rejects.toMatchObject({ kind: 'too-many-pixels' });
  });
});
