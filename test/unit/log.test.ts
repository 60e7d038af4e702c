import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, scrub } from '../../src/log.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, stream };
}

describe('logging', () => {
  it('redacts tokens, secrets, auth headers and base64 payloads by field', () => {
    const { lines, stream } = capture();
    const log = createLogger({ destination: stream, pretty: false });
    log.info(
      {
        token: 'Bot abc',
        secret: 'shh',
        headers: { authorization: 'Bearer xyz', 'mj-api-secret': 'mjs', 'x-api-key': 'pw' },
        body: { base64Array: ['data:image/png;base64,AAAA'], maskBase64: 'data:image/png;base64,BBBB', prompt: 'a cat' },
      },
      'request',
    );
    const out = lines.join('');
    for (const s of ['Bot abc', 'shh', 'Bearer xyz', 'mjs', '"pw"', 'AAAA', 'BBBB']) expect(out).not.toContain(s);
    expect(out).toContain('a cat');
    expect(out).toContain('[redacted]');
  });

  it('scrubs configured secrets wherever they hide, even inside error messages echoed by an upstream', () => {
    const { lines, stream } = capture();
    const log = createLogger({ destination: stream, pretty: false, secrets: ['proxy-secret-42', 'discord.token.value'] });
    log.error({ err: new Error('upstream said: bad header proxy-secret-42'), note: 'token discord.token.value leaked' }, 'failed with proxy-secret-42');
    const out = lines.join('');
    expect(out).not.toContain('proxy-secret-42');
    expect(out).not.toContain('discord.token.value');
    expect(out.match(/\[redacted\]/g)?.length).toBeGreaterThanOrEqual(3);
  });

  it('shortens data URLs in free text', () => {
    const b64 = 'A'.repeat(200);
    expect(scrub(`image data:image/png;base64,${b64} end`)).toBe('image data:image/png;base64,[222 chars] end');
  });
});

describe('scrub', () => {
  it('hides interaction tokens in Discord URLs', () => {
    const url = 'https://discord.com/api/v10/webhooks/123456789012345678/aW50ZXJhY3Rpb246MTIzNDU2Nzg5OmFiY2RlZmdoaWprbG1ub3A/messages/@original';
    expect(scrub(url)).toBe('https://discord.com/api/v10/webhooks/123456789012345678/[token]/messages/@original');
  });
});

describe('scrub: every form of every secret', () => {
  it('removes a secret written as is, URL-encoded and JSON-escaped, and a longer secret before one it contains', () => {
    const secret = 'p@ss/wörd"\\9';
    const text = `raw ${secret} url ${encodeURIComponent(secret)} json ${JSON.stringify(secret)}`;
    const out = scrub(text, [secret]);
    expect(out).not.toContain('p@ss');
    expect(out).not.toContain('p%40ss');
    expect(out.match(/\[redacted\]/g)).toHaveLength(3);
    expect(scrub('key abcd-efgh-1234 end', ['abcd', 'abcd-efgh-1234'])).toBe('key [redacted] end');
  });

  it('scrubs a secret added to the list after the logger was made (the callback secret is created at start)', () => {
    const { lines, stream } = capture();
    const secrets = ['discord.token.value'];
    const log = createLogger({ destination: stream, pretty: false, secrets });
    secrets.push('hook-secret-created-later');
    log.info({ path: '/hooks/mj/hook-secret-created-later' }, 'callback');
    const out = lines.join('');
    expect(out).not.toContain('hook-secret-created-later');
    expect(out).toContain('/hooks/mj/[redacted]');
  });
});
