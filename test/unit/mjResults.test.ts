import { describe, expect, it } from 'vitest';
import type { Job } from '../../src/jobs/model.js';
import { checkImageLink, isPrivateHost } from '../../src/mj/links.js';
import { imagineAllUpstream, planMjButtons } from '../../src/mj/resultButtons.js';
import { describeText, shortenText } from '../../src/mj/textResults.js';
import { describeButtons as upstreamDescribeButtons, gridButtons, shortenButtons as upstreamShortenButtons, upscaleButtons } from '../fakes/mjProxy/index.js';

const DESCRIBE =
  '1️⃣ a red fox in snow --ar 4:3\n\n2️⃣ an old [lighthouse](https://s.mj.run/x) at dusk --ar 4:3\n\n3️⃣ a bowl of ramen --ar 4:3\n\n4️⃣ a cyberpunk market --ar 4:3';
const SHORTEN =
  '## Important tokens\n**red** **boat** ~~the~~\n\n## Shortened prompts\n1️⃣ red boat\n2️⃣ red boat, soft light\n3️⃣ red boat, cinematic\n4️⃣ red boat, minimal\n5️⃣ boat';

function job(kind: Job['kind'], result: Partial<NonNullable<Job['result']>>, extra: Partial<Job> = {}): Job {
  return {
    id: 'abcdefghij',
    provider: 'mj',
    kind,
    owner: { userId: '1', channelId: '2', locale: 'en-US' },
    delivery: 'channel',
    status: 'succeeded',
    progress: 100,
    prompt: 'p',
    messages: { results: [] },
    attachmentLimit: 1,
    createdAt: 0,
    updatedAt: 0,
    deadlineAt: 0,
    upstream: {},
    result: { buttons: [], ...result },
    ...extra,
  };
}

const drawn = (rows: { label: string; emoji?: string }[][]) => rows.map((r) => r.map((b) => b.label || b.emoji));

describe('result buttons', () => {
  it('describe: four picks carrying their prompt, the upstream retry, Imagine all — with or without upstream buttons', () => {
    const withUpstream = planMjButtons(job('describe', { text: DESCRIBE, buttons: upstreamDescribeButtons() }), { flavor: 'trueai' });
    expect(drawn(withUpstream)).toEqual([['1', '2', '3', '4', '🔄'], ['Imagine all']]);
    expect(withUpstream[0]!.slice(0, 4).map((b) => b.data?.prompt)).toEqual([
      'a red fox in snow --ar 4:3',
      'an old lighthouse at dusk --ar 4:3',
      'a bowl of ramen --ar 4:3',
      'a cyberpunk market --ar 4:3',
    ]);
    const bare = planMjButtons(job('describe', { text: DESCRIBE }), { flavor: 'novicezk' });
    expect(drawn(bare)).toEqual([['1', '2', '3', '4'], ['Imagine all']]);
    expect(
      planMjButtons(job('describe', { text: 'nothing numbered here' }), {})
        .flat()
        .map((b) => b.kind),
    ).toEqual(['describe-pick']);
  });

  it('shorten: five picks whatever the upstream offers; Show Details only when the upstream has it and it is not disabled', () => {
    const buttons = upstreamShortenButtons('0b3f3c4e-0000-4000-8000-000000000000');
    expect(drawn(planMjButtons(job('shorten', { text: SHORTEN, buttons }), {}))).toEqual([['1', '2', '3', '4', '5'], ['Show Details']]);
    const disabled = planMjButtons(job('shorten', { text: SHORTEN, buttons }), { disabled: [/PromptAnalyzer/] });
    expect(drawn(disabled)).toEqual([['1', '2', '3', '4', '5']]);
    expect(disabled[0]!.map((b) => b.data?.prompt)).toEqual(['red boat', 'red boat, soft light', 'red boat, cinematic', 'red boat, minimal', 'boat']);
  });

  it('✉️ only on single images made by a button, and only when asked for', () => {
    const h = '0b3f3c4e-0000-4000-8000-000000000000';
    const upscaled = job('action', { imageUrl: 'http://x/a.png', buttons: upscaleButtons(h, 'v7', true) });
    const seed = planMjButtons(upscaled, { seed: true })
      .flat()
      .find((b) => b.emoji === '✉️');
    expect(seed?.route).toBe('s');
    expect(
      planMjButtons(upscaled, { seed: false })
        .flat()
        .some((b) => b.emoji === '✉️'),
    ).toBe(false);
    expect(
      planMjButtons(job('imagine', { imageUrl: 'http://x/a.png', buttons: gridButtons(h) }), { seed: true })
        .flat()
        .some((b) => b.emoji === '✉️'),
    ).toBe(false);
    expect(
      planMjButtons(job('action', { imageUrl: 'http://x/a.png', buttons: gridButtons(h) }), { seed: true })
        .flat()
        .some((b) => b.emoji === '✉️'),
    ).toBe(false);
  });

  it('Imagine all goes upstream only on trueai when the task has the button', () => {
    const j = job('describe', { text: DESCRIBE, buttons: upstreamDescribeButtons() });
    expect(imagineAllUpstream(j, 'trueai')).toBe(true);
    expect(imagineAllUpstream(j, 'plus')).toBe(false);
    expect(imagineAllUpstream(job('describe', { text: DESCRIBE }), 'trueai')).toBe(false);
  });
});

describe('text results', () => {
  it('describe: numbered prompts, links stripped; null without markers', () => {
    expect(describeText(DESCRIBE)).toBe(
      '1️⃣ a red fox in snow --ar 4:3\n\n2️⃣ an old lighthouse at dusk --ar 4:3\n\n3️⃣ a bowl of ramen --ar 4:3\n\n4️⃣ a cyberpunk market --ar 4:3',
    );
    expect(describeText('')).toBeNull();
  });

  it('shorten: analysis, heading, candidates; null without candidates', () => {
    expect(shortenText(SHORTEN, 'Shortened prompts')).toBe(
      '## Important tokens\n**red** **boat** ~~the~~\n**Shortened prompts**\n1️⃣ red boat\n2️⃣ red boat, soft light\n3️⃣ red boat, cinematic\n4️⃣ red boat, minimal\n5️⃣ boat',
    );
    expect(shortenText('## Token weights\n**boat**: 1.00', 'x')).toBeNull();
  });
});

describe('image links for /describe', () => {
  it('accepts public http(s) links', () => {
    expect(checkImageLink('https://cdn.example.com/a.png?x=1')).toEqual({ ok: true, url: 'https://cdn.example.com/a.png?x=1' });
    expect(checkImageLink('<http://example.org/b.jpg>')).toEqual({ ok: true, url: 'http://example.org/b.jpg' });
  });

  it('refuses other schemes, credentials, junk and over-long links', () => {
    for (const bad of [
      'file:///etc/passwd',
      'ftp://example.com/a.png',
      'javascript:alert(1)',
      'https://user:pw@example.com/a.png',
      'not a link',
      '',
      `https://example.com/${'a'.repeat(2000)}`,
    ]) {
      expect(checkImageLink(bad), bad).toEqual({ ok: false, key: 'describe.badLink' });
    }
  });

  it('refuses local and private addresses, however they are written', () => {
    for (const bad of [
      'http://localhost/a.png',
      'http://127.0.0.1:8080/a.png',
      'http://0x7f.1/a.png',
      'http://2130706433/a.png',
      'http://10.1.2.3/a',
      'http://192.168.0.1/a',
      'http://172.20.0.1/a',
      'http://169.254.169.254/latest',
      'http://[::1]/a',
      'http://[::ffff:127.0.0.1]/a',
      'http://[fd00::1]/a',
      'http://metadata.google.internal/a',
      'http://0.0.0.0/a',
    ]) {
      expect(checkImageLink(bad), bad).toEqual({ ok: false, key: 'describe.privateLink' });
    }
    expect(isPrivateHost('172.32.0.1')).toBe(false);
    expect(isPrivateHost('8.8.8.8')).toBe(false);
  });
});
