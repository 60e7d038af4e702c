import { describe, expect, it } from 'vitest';
import {
  applyZoom,
  clampText,
  parseShorten,
  promptForDisplay,
  splitDescribePrompts,
  splitParams,
  stripMarkdownLinks,
  stripParams,
  validatePrompt,
} from '../../src/mj/prompts.js';

describe('splitDescribePrompts', () => {
  const canonical =
    '1️⃣ a red fox in snow --ar 5:4\n\n2️⃣ a fox, winter, watercolor --ar 5:4\n\n3️⃣ fox portrait 1:2 scale --ar 5:4\n\n4️⃣ snowy forest fox --ar 5:4';
  const expected = ['a red fox in snow --ar 5:4', 'a fox, winter, watercolor --ar 5:4', 'fox portrait 1:2 scale --ar 5:4', 'snowy forest fox --ar 5:4'];

  it('splits the canonical shape', () => {
    expect(splitDescribePrompts(canonical)).toEqual(expected);
  });

  it('does not depend on blank lines or line endings', () => {
    expect(splitDescribePrompts(canonical.replace(/\n/g, '\r\n'))).toEqual(expected);
    expect(splitDescribePrompts(canonical.replace(/\n\n/g, '\n'))).toEqual(expected);
    expect(splitDescribePrompts(canonical.replace(/\n\n/g, ' '))).toEqual(expected);
    expect(splitDescribePrompts(canonical.replace(/\n\n/g, ''))).toEqual(expected);
  });

  it('keeps the number order and accepts keycaps without the variation selector', () => {
    const shuffled = '2️⃣ b\n\n1⃣ a\n\n4️⃣ d\n\n3️⃣ c';
    expect(splitDescribePrompts(shuffled)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('keeps a prompt that spans lines as one prompt, and unwraps markdown links', () => {
    expect(splitDescribePrompts('1️⃣ a fox\nin the style of [Hokusai](https://google.com/search?q=Hokusai)\n\n2️⃣ b')).toEqual([
      'a fox in the style of Hokusai',
      'b',
    ]);
    expect(stripMarkdownLinks('x [y](<https://a.b/c>) z')).toBe('x y z');
  });

  it('ignores text before the first marker and empty entries; no marker = one prompt', () => {
    expect(splitDescribePrompts('Here are prompts:\n1️⃣ a\n2️⃣   \n3️⃣ c')).toEqual(['a', 'c']);
    expect(splitDescribePrompts('  just one prompt  ')).toEqual(['just one prompt']);
    expect(splitDescribePrompts('')).toEqual([]);
  });
});

describe('parseShorten', () => {
  const sample = [
    '**IMPORTANT TOKENS**',
    'a **majestic** **lighthouse** at dusk, highly detailed, 8k, trending on artstation, **crashing waves**',
    '',
    '**SHORTENED PROMPTS**',
    '',
    '1️⃣ a majestic lighthouse at dusk, highly detailed, crashing waves',
    '',
    '2️⃣ a majestic lighthouse at dusk, crashing waves',
    '',
    '3️⃣ majestic lighthouse, crashing waves',
    '',
    '4️⃣ lighthouse, crashing waves',
    '',
    '5️⃣ lighthouse',
  ].join('\n');

  it('splits the analysis (markdown kept) from the five candidates', () => {
    const r = parseShorten(sample);
    expect(r.analysis).toBe('**IMPORTANT TOKENS**\na **majestic** **lighthouse** at dusk, highly detailed, 8k, trending on artstation, **crashing waves**');
    expect(r.candidates).toEqual([
      'a majestic lighthouse at dusk, highly detailed, crashing waves',
      'a majestic lighthouse at dusk, crashing waves',
      'majestic lighthouse, crashing waves',
      'lighthouse, crashing waves',
      'lighthouse',
    ]);
  });

  it('works with CRLF, a plain heading and no blank lines', () => {
    const r = parseShorten('Important tokens\r\ncat **fluffy**\r\nShortened prompts:\r\n1️⃣ cat fluffy\r\n2️⃣ cat');
    expect(r.analysis).toBe('Important tokens\ncat **fluffy**');
    expect(r.candidates).toEqual(['cat fluffy', 'cat']);
  });

  it('caps candidates at five and copes with no candidates', () => {
    expect(parseShorten('a\n1️⃣ 1\n2️⃣ 2\n3️⃣ 3\n4️⃣ 4\n5️⃣ 5\n6️⃣ 6').candidates).toHaveLength(5);
    expect(parseShorten('only analysis')).toEqual({ analysis: 'only analysis', candidates: [] });
  });
});

describe('applyZoom', () => {
  it.each([
    ['a lighthouse --zoom 1', 1],
    ['a lighthouse --zoom 2', 2],
    ['a lighthouse --zoom 1.5', 1.5],
    ['a lighthouse --zoom 1.75 --ar 3:2', 1.75],
    ['a lighthouse --ar 3:2 --zoom 1.25', 1.25],
    ['a lighthouse --zoom 2.0', 2],
    ['a lighthouse --zoom 1.', 1],
  ])('accepts %s', (prompt, zoom) => {
    const r = applyZoom(prompt);
    expect(r).toEqual({ ok: true, prompt, zoom });
  });

  it.each(['a lighthouse --zoom 0.9', 'a lighthouse --zoom 2.1', 'a lighthouse --zoom 0', 'a lighthouse --zoom 10', 'a lighthouse --zoom 2.0001'])(
    'refuses out of range: %s',
    (prompt) => {
      const r = applyZoom(prompt);
      expect(r).toMatchObject({ ok: false, key: 'errors.zoomOutOfRange', params: { min: 1, max: 2 } });
    },
  );

  it('reports the offending value', () => {
    expect(applyZoom('x --zoom 0.9')).toEqual({ ok: false, key: 'errors.zoomOutOfRange', params: { value: '0.9', min: 1, max: 2 } });
  });

  it('adds the default when missing', () => {
    expect(applyZoom('a lighthouse --ar 3:2')).toEqual({ ok: true, prompt: 'a lighthouse --ar 3:2 --zoom 2', zoom: 2 });
    expect(applyZoom('  a lighthouse  ', 1.5)).toEqual({ ok: true, prompt: 'a lighthouse --zoom 1.5', zoom: 1.5 });
    expect(applyZoom('')).toEqual({ ok: true, prompt: '--zoom 2', zoom: 2 });
    expect(applyZoom('x', 3)).toMatchObject({ ok: false, key: 'errors.zoomOutOfRange' });
  });

  it('refuses two zooms', () => {
    expect(applyZoom('a --zoom 1.5 --zoom 2')).toEqual({ ok: false, key: 'errors.zoomTwice', params: { count: 2 } });
    expect(applyZoom('a --zoom 1.5 —zoom 2')).toMatchObject({ ok: false, key: 'errors.zoomTwice' });
  });

  it('refuses a missing or non-numeric value', () => {
    expect(applyZoom('a --zoom')).toMatchObject({ ok: false, key: 'errors.zoomInvalid' });
    expect(applyZoom('a --zoom --ar 2:3')).toMatchObject({ ok: false, key: 'errors.zoomInvalid', params: { value: '--ar' } });
    expect(applyZoom('a --zoom abc')).toMatchObject({ ok: false, key: 'errors.zoomInvalid', params: { value: 'abc' } });
    expect(applyZoom('a --zoom 1,5')).toMatchObject({ ok: false, key: 'errors.zoomInvalid' });
    expect(applyZoom('a --zoom -1.5')).toMatchObject({ ok: false, key: 'errors.zoomInvalid' });
  });

  it('normalises phone dashes and `=` to `--zoom v`, and ignores look-alikes', () => {
    expect(applyZoom('a lighthouse —zoom 1.5 --ar 3:2')).toEqual({ ok: true, prompt: 'a lighthouse --zoom 1.5 --ar 3:2', zoom: 1.5 });
    expect(applyZoom('a --zoom=1.2')).toEqual({ ok: true, prompt: 'a --zoom 1.2', zoom: 1.2 });
    expect(applyZoom('a --zoomed 5')).toEqual({ ok: true, prompt: 'a --zoomed 5 --zoom 2', zoom: 2 });
    expect(applyZoom('zoom 5x')).toEqual({ ok: true, prompt: 'zoom 5x --zoom 2', zoom: 2 });
  });
});

describe('params', () => {
  it('splitParams', () => {
    expect(splitParams('a cat, b --ar 16:9 --v 7 --tile --no red hat')).toEqual({
      text: 'a cat, b',
      params: [
        { name: 'ar', value: '16:9' },
        { name: 'v', value: '7' },
        { name: 'tile', value: '' },
        { name: 'no', value: 'red hat' },
      ],
    });
    expect(splitParams('no params here')).toEqual({ text: 'no params here', params: [] });
    expect(splitParams('well-known re--entry').params).toEqual([]);
  });

  it('stripParams removes all or only the named ones', () => {
    expect(stripParams('a cat --ar 16:9 --fast --zoom 1.5')).toBe('a cat');
    expect(stripParams('a cat --ar 16:9 --fast --zoom 1.5', ['zoom', '--fast'])).toBe('a cat --ar 16:9');
    expect(stripParams('a cat —relax', ['relax'])).toBe('a cat');
  });
});

describe('promptForDisplay / clampText', () => {
  it('removes the image URLs the proxy prepends', () => {
    expect(promptForDisplay('<https://s.mj.run/abc> <https://s.mj.run/def> a cat --v 7')).toBe('a cat --v 7');
    expect(promptForDisplay('https://cdn.discordapp.com/x.png a cat')).toBe('a cat');
    expect(promptForDisplay('a cat https://example.com/x.png')).toBe('a cat https://example.com/x.png');
    expect(promptForDisplay('<https://s.mj.run/abc>')).toBe('<https://s.mj.run/abc>');
  });

  it('clamps with … and never splits a surrogate pair', () => {
    expect(promptForDisplay('x'.repeat(30), 10)).toBe(`${'x'.repeat(9)}…`);
    expect(promptForDisplay('short', 10)).toBe('short');
    const emoji = '🦊'.repeat(10);
    const c = clampText(emoji, 5);
    expect(c).toBe('🦊🦊🦊🦊…');
    expect(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(c)).toBe(false); // no lone high surrogate
  });
});

describe('validatePrompt', () => {
  it('trims and accepts', () => {
    expect(validatePrompt('  a cat --v 7 \n')).toEqual({ ok: true, prompt: 'a cat --v 7' });
    expect(validatePrompt('line one\r\nline two')).toEqual({ ok: true, prompt: 'line one\nline two' });
  });

  it('whitespace-only is empty', () => {
    for (const t of ['', '   ', '\n\t \r\n', null, undefined]) expect(validatePrompt(t)).toEqual({ ok: false, key: 'errors.promptEmpty' });
  });

  it('refuses too long prompts (default 6000, or the given max)', () => {
    expect(validatePrompt('a'.repeat(6000)).ok).toBe(true);
    expect(validatePrompt('a'.repeat(6001))).toEqual({ ok: false, key: 'errors.promptTooLong', params: { length: 6001, max: 6000 } });
    expect(validatePrompt(`  ${'a'.repeat(4000)}  `, { maxLength: 4000 }).ok).toBe(true);
    expect(validatePrompt('a'.repeat(4001), { maxLength: 4000 })).toMatchObject({ ok: false, key: 'errors.promptTooLong', params: { max: 4000 } });
  });
});
