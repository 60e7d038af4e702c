import { describe, expect, it } from 'vitest';
import { CONTENT_LIMIT, defuseLinks, escapePromptMarkdown, formatResultContent, progressBar } from '../../src/mj/content.js';

describe('formatResultContent', () => {
  it("writes Midjourney's byline", () => {
    expect(formatResultContent({ prompt: 'a lighthouse at dusk --ar 3:2 --v 7', userId: '42', mode: 'FAST' })).toBe(
      '**a lighthouse at dusk --ar 3:2 --v 7** - <@42> (fast)',
    );
    expect(formatResultContent({ prompt: 'cat', userId: '42', mode: 'Relax' })).toBe('**cat** - <@42> (relax)');
    expect(formatResultContent({ prompt: 'cat', userId: '42', mode: 'turbo' })).toBe('**cat** - <@42> (turbo)');
  });

  it('names the model version the task reports before the speed', () => {
    expect(formatResultContent({ prompt: 'cat', userId: '42', mode: 'FAST', version: 'v 8.1' })).toBe('**cat** - <@42> (v 8.1 · fast)');
    expect(formatResultContent({ prompt: 'cat', userId: '42', version: 'niji 6' })).toBe('**cat** - <@42> (niji 6)');
  });

  it('omits an unknown or missing mode', () => {
    expect(formatResultContent({ prompt: 'cat', userId: '42', mode: 'stealth' })).toBe('**cat** - <@42>');
    expect(formatResultContent({ prompt: 'cat', userId: '42', mode: null })).toBe('**cat** - <@42>');
    expect(formatResultContent({ prompt: 'cat', userId: '42' })).toBe('**cat** - <@42>');
  });

  it('places an action label before the mention and a suffix at the end', () => {
    expect(formatResultContent({ prompt: 'cat', userId: '42', mode: 'fast', label: 'Image #2' })).toBe('**cat** - Image #2 <@42> (fast)');
    expect(formatResultContent({ prompt: 'cat', userId: '42', mode: 'fast', suffix: '\n▰▰▱▱ 50%' })).toBe('**cat** - <@42> (fast)\n▰▰▱▱ 50%');
  });

  it('escapes markdown that would break the bold', () => {
    expect(formatResultContent({ prompt: 'a *very* _odd_ ~~cat~~ `code` ||spoiler|| \\', userId: '1' })).toBe(
      '**a \\*very\\* \\_odd\\_ \\~\\~cat\\~\\~ \\`code\\` \\|\\|spoiler\\|\\| \\\\** - <@1>',
    );
    expect(escapePromptMarkdown('a\n> quote\n# head\n-# sub\nx > y')).toBe('a\n\\> quote\n\\# head\n\\-# sub\nx > y');
  });

  it('clamps to 2000 chars by shortening the prompt with …', () => {
    const long = 'word '.repeat(1000);
    const out = formatResultContent({ prompt: long, userId: '123456789012345678', mode: 'fast' });
    expect(out.length).toBeLessThanOrEqual(CONTENT_LIMIT);
    expect(out.startsWith('**word word')).toBe(true);
    expect(out.endsWith('…** - <@123456789012345678> (fast)')).toBe(true);
  });

  it('still fits when escaping doubles the prompt, and never leaves a dangling escape', () => {
    const out = formatResultContent({ prompt: '*'.repeat(3000), userId: '1', mode: 'relax' });
    expect(out.length).toBeLessThanOrEqual(CONTENT_LIMIT);
    expect(out.length).toBeGreaterThan(CONTENT_LIMIT - 5);
    expect(out).toMatch(/^\*\*(\\\*)+…\*\* - <@1> \(relax\)$/);
  });

  it('does not split emoji when shortening', () => {
    const out = formatResultContent({ prompt: '🦊'.repeat(1500), userId: '1' });
    expect(out.length).toBeLessThanOrEqual(CONTENT_LIMIT);
    expect(out).toMatch(/^\*\*(🦊)+…\*\* - <@1>$/u);
  });

  it('clamps the whole text when the suffix alone is too long', () => {
    const out = formatResultContent({ prompt: 'cat', userId: '1', suffix: `\n${'x'.repeat(2500)}` });
    expect(out.length).toBe(CONTENT_LIMIT);
    expect(out.endsWith('…')).toBe(true);
  });
});

describe('progressBar', () => {
  it('draws filled and empty cells and the percentage', () => {
    expect(progressBar(40)).toBe('▰▰▰▰▱▱▱▱▱▱ 40%');
    expect(progressBar(0)).toBe('▱▱▱▱▱▱▱▱▱▱ 0%');
    expect(progressBar(100)).toBe('▰▰▰▰▰▰▰▰▰▰ 100%');
    expect(progressBar(46.4)).toBe('▰▰▰▰▰▱▱▱▱▱ 46%');
    expect(progressBar(50, 4)).toBe('▰▰▱▱ 50%');
  });

  it('clamps out-of-range and NaN input', () => {
    expect(progressBar(-5)).toBe('▱▱▱▱▱▱▱▱▱▱ 0%');
    expect(progressBar(150)).toBe('▰▰▰▰▰▰▰▰▰▰ 100%');
    expect(progressBar(Number.NaN)).toBe('▱▱▱▱▱▱▱▱▱▱ 0%');
  });
});

describe('escapePromptMarkdown: a prompt cannot pose as the bot', () => {
  it('breaks masked links and autolinks but keeps every word and the address', () => {
    const out = escapePromptMarkdown('see [click here](https://evil.example) or <https://evil.example/x> <@123>');
    expect(out).toBe('see \\[click here\\](https://evil.example) or \\<https://evil.example/x> \\<@123>');
  });

  it('escapes lists at a line start, numbered and bulleted, and leaves them alone mid-line', () => {
    expect(escapePromptMarkdown('a\n- one\n+ two\n  3. three\nx - y 4. z')).toBe('a\n\\- one\n\\+ two\n  3\\. three\nx - y 4. z');
  });

  it('defuses only links in text whose emphasis is meant to show', () => {
    expect(defuseLinks('## Important tokens\n**[click** **here](https://evil.example)**')).toBe(
      '## Important tokens\n**\\[click** **here\\](https://evil.example)**',
    );
  });
});
