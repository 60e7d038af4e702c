// Messenger through the real @discordjs/rest against the fake Discord (which checks bodies against the OpenAPI spec):
// what Discord receives for a post with files, and how the clips' bytes are handed to the HTTP client.
import { REST, type APIRequest } from '@discordjs/rest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Messenger, PREBUILT_BODY_MIN_BYTES, toApiBody, type MessagePayload } from '../../../src/discord/messages/messenger.js';
import { startFakeDiscord, type FakeDiscord } from '../../fakes/discord/index.js';

let fake: FakeDiscord;
let rest: REST;
let sent: APIRequest[];

beforeAll(async () => {
  fake = await startFakeDiscord();
  rest = new REST({ api: fake.apiUrl, retries: 0 }).setToken('fake-bot-token');
  rest.on('response', (req) => sent.push(req));
});
afterAll(() => fake.close());
beforeEach(() => {
  sent = [];
});

/** an MP4 of `bytes` bytes: an ftyp box, then filler */
const mp4 = (bytes: number, fill: number) => Buffer.concat([Buffer.from([0, 0, 0, 16]), Buffer.from('ftypisom'), Buffer.alloc(bytes - 12, fill)]);

function videoPayload(clipBytes: number): MessagePayload {
  return {
    content: '**a reel** — <@42> (fast)',
    files: [1, 2, 3, 4].map((n) => ({ name: `a_reel_job1_${n}.mp4`, data: mp4(clipBytes, n), contentType: 'video/mp4' })),
    mentionUsers: ['42'],
    nonce: 'job10',
  };
}

describe('Messenger: a post with files', () => {
  it('four clips of a video result reach Discord whole: bytes, names, types, and the JSON body unchanged', async () => {
    const payload = videoPayload(400 * 1024);
    const posted = await new Messenger(rest).send(fake.channel.id, payload);

    const call = fake.callsTo('POST /channels/:id/messages').at(-1)!;
    expect(call.status).toBe(200);
    expect(call.body).toEqual(toApiBody(payload).body);
    expect(call.files.map((f) => [f.field, f.name, f.contentType])).toEqual(payload.files!.map((f, i) => [`files[${i}]`, f.name, 'video/mp4']));
    for (const [i, f] of call.files.entries()) expect(f.bytes.equals(payload.files![i]!.data)).toBe(true);
    expect(posted.attachments.map((a) => a.filename)).toEqual(payload.files!.map((f) => f.name));
    expect(fake.openApiProblems).toEqual([]);
  });

  it('large clips go to the HTTP client as one prebuilt body, not as Blob copies in a FormData', async () => {
    const payload = videoPayload(PREBUILT_BODY_MIN_BYTES / 2);
    await new Messenger(rest).send(fake.channel.id, payload);

    const body = sent.at(-1)?.options.body;
    expect(body).toBeInstanceOf(Uint8Array);
    const clipBytes = payload.files!.reduce((n, f) => n + f.data.length, 0);
    expect((body as Uint8Array).byteLength - clipBytes).toBeLessThan(4096); // the clips once, plus the form's headers and JSON
    const call = fake.callsTo('POST /channels/:id/messages').at(-1)!;
    expect(call.body).toEqual(toApiBody(payload).body);
    for (const [i, f] of call.files.entries()) expect(f.bytes.equals(payload.files![i]!.data)).toBe(true);
    expect(fake.openApiProblems).toEqual([]);
  });

  it('an edit with large files is sent the same way, without the nonce', async () => {
    const messenger = new Messenger(rest);
    const first = await messenger.send(fake.channel.id, { content: 'working…' });
    const payload = videoPayload(PREBUILT_BODY_MIN_BYTES / 2);
    await messenger.edit(fake.channel.id, first.id, payload);

    expect(sent.at(-1)?.options.body).toBeInstanceOf(Uint8Array);
    const call = fake.callsTo('PATCH /channels/:id/messages/:id').at(-1)!;
    expect(call.status).toBe(200);
    const { nonce: _n, enforce_nonce: _e, ...withoutNonce } = toApiBody(payload).body;
    expect(call.body).toEqual(withoutNonce);
    expect(call.files).toHaveLength(4);
    expect(fake.openApiProblems).toEqual([]);
  });

  it('a small image keeps the library form (files handed to @discordjs/rest as they are)', async () => {
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(2048, 3)]);
    await new Messenger(rest).send(fake.channel.id, { content: 'img', files: [{ name: 'a.png', data: png, contentType: 'image/png' }] });

    expect(sent.at(-1)?.data.files).toHaveLength(1);
    expect(sent.at(-1)?.options.body).not.toBeInstanceOf(Uint8Array);
    const call = fake.callsTo('POST /channels/:id/messages').at(-1)!;
    expect(call.files[0]?.bytes.equals(png)).toBe(true);
  });
});
