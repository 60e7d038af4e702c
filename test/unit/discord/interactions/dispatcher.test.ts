import { describe, expect, it } from 'vitest';
import { ackBeforeParse } from '../../../../src/discord/interactions/dispatcher.js';

describe('ackBeforeParse', () => {
  it('sends a fixed deferral before parse: the route alone decides it', () => {
    expect(ackBeforeParse('update')).toBe('update');
    expect(ackBeforeParse('ephemeral')).toBe('ephemeral');
  });

  it('waits for parse when the piece answers itself or decides from its data (a press that may open a modal)', () => {
    expect(ackBeforeParse('none')).toBeUndefined();
    expect(ackBeforeParse(() => 'update')).toBeUndefined();
  });
});
