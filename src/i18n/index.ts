import { readdirSync, readFileSync } from 'node:fs';
import i18next, { type i18n as I18nextInstance } from 'i18next';
import type { Msg } from '../jobs/model.js';

export const SUPPORTED_LOCALES = ['en-US', 'zh-CN'] as const;
export type Locale = (typeof SUPPORTED_LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'en-US';

type Resources = Record<string, unknown>;

/**
 * A locale is a folder of JSON files (one per area of the bot: core, commands, tools…), merged into one tree.
 * Two files defining the same key is a mistake and fails loudly.
 */
export function loadLocale(locale: Locale): Resources {
  const dir = new URL(`./locales/${locale}/`, import.meta.url);
  const merged: Resources = {};
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    deepMerge(merged, JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as Resources, `${locale}/${file}`);
  }
  return merged;
}

function deepMerge(into: Resources, from: Resources, source: string, path = ''): void {
  for (const [k, v] of Object.entries(from)) {
    const key = path ? `${path}.${k}` : k;
    const existing = into[k];
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      if (existing !== undefined && (typeof existing !== 'object' || existing === null)) throw new Error(`locale key ${key} defined twice (${source})`);
      into[k] ??= {};
      deepMerge(into[k] as Resources, v as Resources, source, key);
    } else {
      if (existing !== undefined) throw new Error(`locale key ${key} defined twice (${source})`);
      into[k] = v;
    }
  }
}

/** Map a Discord locale code (en-GB, zh-TW, …) to one we ship. */
export function resolveLocale(...candidates: (string | null | undefined)[]): Locale {
  for (const c of candidates) {
    if (!c) continue;
    if ((SUPPORTED_LOCALES as readonly string[]).includes(c)) return c as Locale;
    if (c.startsWith('zh')) return 'zh-CN';
    if (c.startsWith('en')) return 'en-US';
  }
  return DEFAULT_LOCALE;
}

export interface I18n {
  t(locale: string, key: string, params?: Record<string, string | number>): string;
  /** render a stored message (key + params) */
  msg(locale: string, m: Msg): string;
  /** does this key exist in the default locale? */
  has(key: string): boolean;
  /** `{ 'zh-CN': '…' }` for Discord's *_localizations fields (non-default locales only) */
  localizations(key: string, params?: Record<string, string | number>): Record<string, string>;
}

export async function createI18n(): Promise<I18n> {
  const instance: I18nextInstance = i18next.createInstance();
  const resources: Record<string, { translation: Resources }> = {};
  for (const l of SUPPORTED_LOCALES) resources[l] = { translation: loadLocale(l) };
  await instance.init({
    resources,
    lng: DEFAULT_LOCALE,
    fallbackLng: DEFAULT_LOCALE,
    supportedLngs: [...SUPPORTED_LOCALES],
    // keys never contain ':' meant as namespace separators
    nsSeparator: false,
    interpolation: { escapeValue: false },
    returnNull: false,
    initAsync: false,
    showSupportNotice: false,
  } as Parameters<I18nextInstance['init']>[0]);

  const t = (locale: string, key: string, params?: Record<string, string | number>) =>
    instance.t(key, { lng: resolveLocale(locale), ...(params ?? {}) }) as string;

  return {
    t,
    msg: (locale, m) => t(locale, m.key, m.params),
    has: (key) => instance.exists(key, { lng: DEFAULT_LOCALE }),
    localizations(key, params) {
      const out: Record<string, string> = {};
      for (const l of SUPPORTED_LOCALES) {
        if (l === DEFAULT_LOCALE) continue;
        if (instance.exists(key, { lng: l, fallbackLng: false } as never)) out[l] = t(l, key, params);
      }
      return out;
    },
  };
}
