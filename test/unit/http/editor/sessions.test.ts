import { afterEach, describe, expect, it } from 'vitest';
import { EDITOR_TTL_MS, EditorSessions, type PressFacts } from '../../../../src/http/editor/sessions.js';
import { TokenRateLimit } from '../../../../src/http/editor/rateLimit.js';
import { parseSubmit } from '../../../../src/http/editor/routes.js';
import { memoryStore } from '../../../support/unitKit.js';

const press: PressFacts = {
  interactionId: '1',
  applicationId: '2',
  token: 'interaction-token',
  issuedAt: 0,
  userId: '3',
  guildId: '4',
  rulingGuildId: '4',
  channelId: '5',
  channelParentId: undefined,
  channelNsfw: false,
  roleIds: [],
  isManager: false,
  locale: 'en-US',
  guildLocale: undefined,
  attachmentSizeLimit: 10 * 1024 * 1024,
};

describe('editor sessions (in the real store)', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
  });

  async function sessions(now: () => number) {
    const { store } = await memoryStore();
    close = () => store.close();
    return { store, sessions: new EditorSessions(store, now) };
  }

  it('a token is 256 random bits; the store keeps only its hash; it works until it expires, then says so', async () => {
    let t = 1_000_000;
    const { store, sessions: s } = await sessions(() => t);
    const token = await s.create({ flow: 'vary-region', buttonKey: 'k', width: 64, height: 32, press });
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const other = await s.create({ flow: 'vary-region', buttonKey: 'k', width: 64, height: 32, press });
    expect(other).not.toBe(token);
    const stored = [];
    for await (const [k] of store.entries('meta')) stored.push(k);
    expect(stored.join(' ')).not.toContain(token);
    expect(await s.open(token)).toMatchObject({ ok: true, session: { flow: 'vary-region', width: 64, expiresAt: 1_000_000 + EDITOR_TTL_MS } });
    t += EDITOR_TTL_MS;
    expect(await s.open(token)).toEqual({ ok: false, why: 'expired' });
    expect(await s.open('A'.repeat(43))).toEqual({ ok: false, why: 'unknown' });
    expect(await s.open('../../etc')).toEqual({ ok: false, why: 'unknown' });
  });

  it('the first browser owns the link; a second submit waits for the first, and a used link says so', async () => {
    const { sessions: s } = await sessions(() => 5);
    const token = await s.create({ flow: 'inpaint', image: { url: 'https://cdn.example/a.png', name: 'a.png' }, width: 8, height: 8, press });
    const found = await s.open(token);
    if (!found.ok) throw new Error('not found');
    expect(s.browserOf(found.session, undefined)).toBe('first');
    await s.bindBrowser(token, found.session, 'cookie-one');
    const again = await s.open(token);
    if (!again.ok) throw new Error('not found');
    expect([s.browserOf(again.session, 'cookie-one'), s.browserOf(again.session, 'cookie-two'), s.browserOf(again.session, undefined)]).toEqual([
      'owner',
      'stranger',
      'stranger',
    ]);
    const hold = await s.hold(token);
    expect(hold).toBeDefined();
    expect(await s.hold(token)).toBeUndefined();
    await s.markUsed(token, again.session);
    await s.unhold(token, hold!);
    expect(await s.open(token)).toEqual({ ok: false, why: 'used' });
  });
});

describe('editor request budget and submit body', () => {
  it('allows so many requests per token per window, each token on its own', () => {
    let t = 0;
    const rate = new TokenRateLimit(2, 1000, () => t);
    expect([rate.take('a'), rate.take('a'), rate.take('a'), rate.take('b')]).toEqual([true, true, false, true]);
    t = 1000;
    expect(rate.take('a')).toBe(true);
  });

  it('reads a base64 PNG and an optional prompt; anything else is refused', () => {
    expect(parseSubmit(Buffer.from(JSON.stringify({ mask: Buffer.from('png').toString('base64'), prompt: 'a cat' })), 100)).toEqual({
      png: Buffer.from('png'),
      prompt: 'a cat',
    });
    expect(parseSubmit(Buffer.from('not json'), 100)).toBeUndefined();
    expect(parseSubmit(Buffer.from('{"mask": 5}'), 100)).toBeUndefined();
    expect(parseSubmit(Buffer.from('{"mask": "a b"}'), 100)).toBeUndefined();
    expect(parseSubmit(Buffer.from(JSON.stringify({ mask: 'AAAA', prompt: 'x'.repeat(101) })), 100)).toBeUndefined();
  });
});
