import { describe, expect, it } from 'vitest';
import { imagine } from '../../../commands/imagine.js';
import { createI18n } from '../../../src/i18n/index.js';
import { CommandLocalizer } from '../../../src/discord/interactions/registry.js';

interface Named {
  name: string;
  name_localizations?: Record<string, string>;
  description?: string;
  description_localizations?: Record<string, string>;
  options?: Named[];
  choices?: Named[];
}

/** Discord counts every name, description and choice (localizations included) against 8000 characters per command. */
function chars(o: Named): number {
  const own = [o.name, o.description ?? '', ...Object.values(o.name_localizations ?? {}), ...Object.values(o.description_localizations ?? {})];
  return own.reduce((n, s) => n + s.length, 0) + [...(o.options ?? []), ...(o.choices ?? [])].reduce((n, c) => n + chars(c), 0);
}

describe('/imagine with its reference options', () => {
  it('stays within Discord’s limits: at most 25 options, 8000 characters with localizations', async () => {
    const data = imagine.data(new CommandLocalizer(await createI18n())) as unknown as Named;
    const names = (data.options ?? []).map((o) => o.name);
    expect(names).toEqual(expect.arrayContaining(['prompt', 'image', 'image2', 'sref', 'sref_weight', 'oref', 'oref_weight']));
    expect(names.length).toBeLessThanOrEqual(25);
    expect(chars(data)).toBeLessThanOrEqual(8000);
    for (const o of data.options ?? []) {
      expect(o.description?.length ?? 0).toBeLessThanOrEqual(100);
      expect(o.name_localizations?.['zh-CN']).toBeTruthy();
    }
  });
});
