import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createI18n, loadLocale } from '../../src/i18n/index.js';

const root = new URL('../../', import.meta.url).pathname;

function load(locale: 'en-US' | 'zh-CN'): Record<string, unknown> {
  return loadLocale(locale);
}

function flatten(obj: Record<string, unknown>, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object') for (const [kk, vv] of flatten(v as Record<string, unknown>, key)) out.set(kk, vv);
    else out.set(key, String(v));
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

const placeholders = (s: string) => [...s.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();

/** i18next plural forms: `key_one`, `key_other`… Each language has its own set (zh-CN: `_other` only). */
const PLURAL = /_(zero|one|two|few|many|other)$/;
const pluralBase = (key: string) => key.replace(PLURAL, '');
/** keys with their plural forms folded into one: the same message in every language, however many forms it has */
const messages = (keys: Map<string, string>) => new Set([...keys.keys()].map(pluralBase));
/** a plural message lacking a form the language needs ("1 job" in English, one form in Chinese) */
function missingPluralForms(keys: Map<string, string>, locale: string): string[] {
  const forms = new Intl.PluralRules(locale).resolvedOptions().pluralCategories;
  const bases = new Set([...keys.keys()].filter((k) => PLURAL.test(k)).map(pluralBase));
  return [...bases].flatMap((base) => forms.filter((f) => !keys.has(`${base}_${f}`)).map((f) => `${base}_${f}`));
}

describe('locale files', () => {
  const en = flatten(load('en-US'));
  const zh = flatten(load('zh-CN'));

  it('have the same files in en-US and zh-CN', () => {
    expect(readdirSync(join(root, 'src/i18n/locales/zh-CN')).sort()).toEqual(readdirSync(join(root, 'src/i18n/locales/en-US')).sort());
  });

  it('have the same keys in en-US and zh-CN (plural forms as each language needs them)', () => {
    const enMessages = messages(en);
    const zhMessages = messages(zh);
    expect([...zhMessages].filter((k) => !enMessages.has(k))).toEqual([]);
    expect([...enMessages].filter((k) => !zhMessages.has(k))).toEqual([]);
    expect(missingPluralForms(en, 'en-US')).toEqual([]);
    expect(missingPluralForms(zh, 'zh-CN')).toEqual([]);
  });

  it('use the same placeholders in both languages', () => {
    const zhFor = (k: string) => zh.get(k) ?? zh.get(`${pluralBase(k)}_other`); // English's `_one` against Chinese's one form
    const mismatched = [...en].filter(([k, v]) => zhFor(k) !== undefined && placeholders(v).join() !== placeholders(zhFor(k)!).join()).map(([k]) => k);
    expect(mismatched).toEqual([]);
  });

  it('contain every message key the code uses', () => {
    const used = new Set<string>();
    const keyish =
      /['"`]((?:errors|progress|jobs|result|delivery|remix|modals|buttons|settings|info|describe|shorten|seed|admin|doctor|tools|faceswap|inpaint|blend|job|commands)\.[A-Za-z0-9_.-]+)['"`]/g;
    for (const file of [...sourceFiles(join(root, 'src')), ...sourceFiles(join(root, 'commands'))]) {
      for (const m of readFileSync(file, 'utf8').matchAll(keyish)) {
        const key = m[1]!;
        if (key.endsWith('.') || key.includes('${')) continue;
        used.add(key);
      }
    }
    const leafOrBranch = (k: string) => en.has(k) || en.has(`${k}_other`) || [...en.keys()].some((e) => e.startsWith(`${k}.`));
    expect([...used].filter((k) => !leafOrBranch(k)).sort()).toEqual([]);
  });

  it('are served by the i18n service in the right language, with fallbacks for other Discord locales', async () => {
    const i18n = await createI18n();
    expect(i18n.t('zh-CN', 'errors.promptEmpty')).toBe(zh.get('errors.promptEmpty'));
    expect(i18n.t('en-US', 'errors.promptEmpty')).toBe(en.get('errors.promptEmpty'));
    expect(i18n.t('zh-TW', 'errors.promptEmpty')).toBe(zh.get('errors.promptEmpty'));
    expect(i18n.t('en-GB', 'errors.promptEmpty')).toBe(en.get('errors.promptEmpty'));
    expect(i18n.t('fr', 'errors.promptEmpty')).toBe(en.get('errors.promptEmpty'));
    expect(i18n.t('en-US', 'errors.bannedWord', { word: 'x' })).toContain('“x”');
    expect(i18n.localizations('commands.imagine.description')).toEqual({ 'zh-CN': zh.get('commands.imagine.description') });
  });
});
