import { describe, expect, it } from 'vitest';
import { checkVersionRules, lacksUpscalePanel, parseVersion, promptVersion, versionLabel } from '../../../src/mj/versionRules.js';

const v7 = { defaultVersion: '7' };

describe('the version a prompt runs on', () => {
  it('is the prompt’s own --v, --version or --niji, the last one winning', () => {
    expect(promptVersion('a cat --v 6.1', v7)).toEqual({ family: 'v', major: 6, number: '6.1' });
    expect(promptVersion('a cat --version 8', v7)).toMatchObject({ family: 'v', major: 8 });
    expect(promptVersion('a cat --niji 6', v7)).toMatchObject({ family: 'niji', major: 6 });
    expect(promptVersion('a cat --v 6 --ar 2:3 --v 7', v7)).toMatchObject({ major: 7 });
    expect(promptVersion('a cat —v 8.1', v7)).toMatchObject({ major: 8, number: '8.1' });
  });

  it('is the configured default without one, and unknown for the Niji bot or a bare --niji', () => {
    expect(promptVersion('a cat --ar 16:9', { defaultVersion: '6.1' })).toMatchObject({ major: 6, number: '6.1' });
    expect(promptVersion('a cat', { ...v7, botType: 'NIJI_JOURNEY' })).toBeUndefined();
    expect(promptVersion('a cat --niji', v7)).toBeUndefined();
  });

  it('reads what tasks report and names versions as members know them', () => {
    expect(parseVersion('v 8.1')).toEqual({ family: 'v', major: 8, number: '8.1' });
    expect(parseVersion('niji 6')).toMatchObject({ family: 'niji', major: 6 });
    expect(parseVersion('turbo')).toBeUndefined();
    expect(versionLabel({ family: 'v', major: 6, number: '6.1' })).toBe('V6.1');
    expect(versionLabel({ family: 'niji', major: 6, number: '6' })).toBe('Niji 6');
  });
});

describe('parameters that do not fit the version', () => {
  it('refuses --oref and --ow below V7, naming the parameter and the version', () => {
    expect(checkVersionRules('a cat --oref https://x/a.png --v 6.1', v7)).toEqual({
      key: 'reference.refused.orefNeedsV7',
      params: { param: '--oref', version: 'V6.1' },
    });
    expect(checkVersionRules('a cat --ow 50 --niji 6', v7)?.params.param).toBe('--ow');
    expect(checkVersionRules('a cat', { defaultVersion: '6', extraParams: ['oref'] })?.key).toBe('reference.refused.orefNeedsV7');
    expect(checkVersionRules('a cat --oref https://x/a.png', v7)).toBeUndefined();
    expect(checkVersionRules('a cat --oref https://x/a.png --v 8', v7)).toBeUndefined();
  });

  it('refuses --cref and --cw on V7 and later', () => {
    expect(checkVersionRules('a cat --cref https://x/a.png', v7)).toEqual({
      key: 'reference.refused.crefBeforeV7',
      params: { param: '--cref', version: 'V7' },
    });
    expect(checkVersionRules('a cat --cw 50 --v 8', v7)?.params).toEqual({ param: '--cw', version: 'V8' });
    expect(checkVersionRules('a cat --cref https://x/a.png --v 6.1', v7)).toBeUndefined();
    expect(checkVersionRules('a cat --cref https://x/a.png --niji 6', v7)).toBeUndefined();
  });

  it('refuses --hd below V8', () => {
    expect(checkVersionRules('a cat --hd', v7)).toEqual({ key: 'reference.refused.hdNeedsV8', params: { param: '--hd', version: 'V7' } });
    expect(checkVersionRules('a cat --hd --v 8', v7)).toBeUndefined();
    expect(checkVersionRules('a cat --hd', { defaultVersion: '8.1' })).toBeUndefined();
  });

  it('refuses --bs outside a video, whatever the version', () => {
    expect(checkVersionRules('a cat --bs 2', v7)?.key).toBe('reference.refused.bsNeedsVideo');
    expect(checkVersionRules('a cat --bs 2', { ...v7, botType: 'NIJI_JOURNEY' })?.key).toBe('reference.refused.bsNeedsVideo');
    expect(checkVersionRules('https://x/a.png a cat --video 1 --bs 2', v7)).toBeUndefined();
  });

  it('does not refuse on a version it cannot know, nor ordinary parameters', () => {
    expect(checkVersionRules('a cat --oref https://x/a.png --niji', v7)).toBeUndefined();
    expect(checkVersionRules('a cat --ar 16:9 --stylize 250 --sref 12345 --sw 300', { defaultVersion: '6' })).toBeUndefined();
  });
});

describe('the upscale/zoom/pan hint', () => {
  const h = '0c6f5b8a-1d2e-4f00-9a3b-123456789abc';
  it('applies to a V8 single image without those buttons', () => {
    expect(lacksUpscalePanel('v 8.1', [`MJ::JOB::low_variation::1::${h}::SOLO`])).toBe(true);
    expect(lacksUpscalePanel('v 8', [])).toBe(true);
  });

  it('not to grids, videos, earlier versions, or a V8 image that has them', () => {
    expect(lacksUpscalePanel('v 8', [`MJ::JOB::upsample::1::${h}`, `MJ::JOB::reroll::0::${h}::SOLO`])).toBe(false);
    expect(lacksUpscalePanel('v 8', [`MJ::JOB::animate_high_extend::1::${h}`])).toBe(false);
    expect(lacksUpscalePanel('v 7', [`MJ::JOB::low_variation::1::${h}::SOLO`])).toBe(false);
    expect(lacksUpscalePanel('niji 8', [])).toBe(false);
    expect(lacksUpscalePanel(undefined, [])).toBe(false);
    expect(lacksUpscalePanel('v 8', [`MJ::Outpaint::50::1::${h}::SOLO`])).toBe(false);
  });
});
