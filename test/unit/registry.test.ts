import { describe, expect, it } from 'vitest';
import { commandsHash, stableStringify } from '../../src/discord/interactions/registry.js';

describe('command registration hash', () => {
  const cmds = [{ name: 'imagine', description: 'd', options: [{ name: 'prompt', type: 3, description: 'p' }] }] as never[];

  it('does not depend on key order', () => {
    expect(stableStringify({ b: 1, a: [{ y: 2, x: 1 }] })).toBe(stableStringify({ a: [{ x: 1, y: 2 }], b: 1 }));
    const reordered = [{ options: [{ type: 3, description: 'p', name: 'prompt' }], description: 'd', name: 'imagine' }] as never[];
    expect(commandsHash(reordered, 'global')).toBe(commandsHash(cmds, 'global'));
  });

  it('changes with the commands and with the scope', () => {
    const changed = [{ name: 'imagine', description: 'd2', options: [] }] as never[];
    expect(commandsHash(changed, 'global')).not.toBe(commandsHash(cmds, 'global'));
    expect(commandsHash(cmds, 'guild:1')).not.toBe(commandsHash(cmds, 'global'));
  });
});
