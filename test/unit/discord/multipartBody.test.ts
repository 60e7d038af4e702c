// The prebuilt multipart body is the same bytes undici sends for the FormData @discordjs/rest builds from `files`.
import { describe, expect, it } from 'vitest';
import { multipartBody } from '../../../src/discord/messages/multipartBody.js';

/** What undici's fetch encoding makes of a FormData built the way @discordjs/rest builds it (files, then payload_json). */
async function undiciEncoding(files: { key: string; name: string; data: Buffer; contentType: string }[], json: string) {
  const form = new FormData();
  for (const f of files) form.append(f.key, new Blob([f.data], { type: f.contentType }), f.name);
  form.append('payload_json', json);
  const res = new Response(form);
  const contentType = res.headers.get('content-type')!;
  return { bytes: Buffer.from(await res.arrayBuffer()), contentType, boundary: /boundary=(.+)$/.exec(contentType)![1]! };
}

describe('multipartBody', () => {
  it('is byte for byte what a FormData upload sends, but for the boundary (names, odd filenames, types, JSON with line breaks)', async () => {
    const files = [
      { key: 'files[0]', name: 'a_cat_123_1.mp4', data: Buffer.from([0, 0, 0, 16, 0x66, 0x74, 0x79, 0x70, 1, 2, 3, 13, 10]), contentType: 'video/mp4' },
      { key: 'files[1]', name: 'odd "name"\r\nx.png', data: Buffer.alloc(3000, 7), contentType: 'Image/PNG' },
      { key: 'files[2]', name: '中文.webp', data: Buffer.alloc(0), contentType: 'image/webp' },
    ];
    const json = JSON.stringify({
      content: 'line one\nline two “quoted”',
      attachments: [{ id: '0', filename: files[0]!.name }],
      nonce: 'j1',
      enforce_nonce: true,
    });
    const expected = await undiciEncoding(files, json);
    const built = multipartBody(files, json, expected.boundary);
    expect(built.contentType).toBe(expected.contentType);
    expect(built.body.equals(expected.bytes)).toBe(true);
  });

  it('draws a fresh boundary for every body', () => {
    const file = { key: 'files[0]', name: 'x.mp4', data: Buffer.alloc(1024, 1), contentType: 'video/mp4' };
    const [a, b] = [multipartBody([file], '{}'), multipartBody([file], '{}')];
    expect(a.contentType).not.toBe(b.contentType);
    expect(a.body.toString('latin1')).toContain(`--${/boundary=(.+)$/.exec(a.contentType)![1]}--\r\n`);
  });
});
