import { describe, expect, it } from 'vitest';
import { motionOf, withMotion } from '../../../src/mj/videoPrompt.js';

describe('withMotion', () => {
  it('adds --video 1 --motion to a prompt, replacing earlier ones', () => {
    expect(withMotion('a paper boat --v 7', 'high')).toBe('a paper boat --v 7 --video 1 --motion high');
    expect(withMotion('a paper boat --v 7 --video 1 --motion high', 'low')).toBe('a paper boat --v 7 --video 1 --motion low');
  });

  it('knows the motion of the Animate / Extend buttons only', () => {
    expect([motionOf('animate-high'), motionOf('animate-low'), motionOf('variation')]).toEqual(['high', 'low', undefined]);
  });
});
