import { describe, expect, it } from 'vitest';
import { assembleReferencePrompt } from '../../../src/mj/referencePrompt.js';

const S = 'https://cdn.discordapp.com/attachments/1/2/style.png';
const O = 'https://cdn.discordapp.com/attachments/1/3/omni.png';

describe('reference images in the prompt', () => {
  it('puts image prompts first, then the text, then --sref/--sw and --oref/--ow, then the other parameters', () => {
    const out = assembleReferencePrompt('a red fox in snow --ar 16:9 --v 7', {
      imagePrompts: ['https://x/1.png', 'https://x/2.png'],
      style: { url: S, weight: 250 },
      omni: { url: O, weight: 80 },
    });
    expect(out).toEqual({ ok: true, prompt: `https://x/1.png https://x/2.png a red fox in snow --sref ${S} --sw 250 --oref ${O} --ow 80 --ar 16:9 --v 7` });
  });

  it('leaves out weights not chosen', () => {
    expect(assembleReferencePrompt('a fox', { style: { url: S } })).toEqual({ ok: true, prompt: `a fox --sref ${S}` });
    expect(assembleReferencePrompt('a fox --stylize 100', { omni: { url: O } })).toEqual({ ok: true, prompt: `a fox --oref ${O} --stylize 100` });
  });

  it('joins an attached style to a style code typed in the prompt, and an option’s weight replaces a typed one', () => {
    expect(assembleReferencePrompt('a fox --sref 1234 --sw 50', { style: { url: S, weight: 400 } })).toEqual({
      ok: true,
      prompt: `a fox --sref 1234 ${S} --sw 400`,
    });
  });

  it('puts a chosen weight beside a reference typed in the prompt', () => {
    expect(assembleReferencePrompt('a fox --oref https://x/o.png', { omni: { weight: 300 } })).toEqual({
      ok: true,
      prompt: 'a fox --oref https://x/o.png --ow 300',
    });
  });

  it('refuses a weight without its reference, and a second omni reference', () => {
    expect(assembleReferencePrompt('a fox', { style: { weight: 100 } })).toEqual({
      ok: false,
      key: 'reference.refused.weightAlone',
      params: { param: '--sw', reference: '--sref' },
    });
    expect(assembleReferencePrompt('a fox', { omni: { weight: 100 } })).toMatchObject({ ok: false, params: { param: '--ow' } });
    expect(assembleReferencePrompt('a fox --oref https://x/o.png', { omni: { url: O } })).toEqual({ ok: false, key: 'reference.refused.orefTwice' });
  });
});
