// Checks Discord applies to application command registration beyond the OpenAPI schema
// (which has no name pattern and allows empty descriptions): names, descriptions, counts and
// the 8000-character size cap. Failures are 400 {code: 50035} like Discord's.
import { Errors, fieldError } from './errors.js';

type Json = Record<string, any>;

const NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;

function fail(path: (string | number)[], code: string, message: string): never {
  throw Errors.invalidFormBody(fieldError(path, code, message));
}

function longestLocalization(loc: unknown): number {
  if (!loc || typeof loc !== 'object') return 0;
  return Math.max(0, ...Object.values(loc as Record<string, unknown>).map((v) => (typeof v === 'string' ? v.length : 0)));
}

/** Characters counted toward the 8000 cap (names, descriptions, values; longest localization wins). */
function sizeOf(item: Json): number {
  let n = Math.max(String(item['name'] ?? '').length, longestLocalization(item['name_localizations']));
  n += Math.max(String(item['description'] ?? '').length, longestLocalization(item['description_localizations']));
  for (const c of (item['choices'] as Json[] | undefined) ?? []) {
    n += Math.max(String(c['name'] ?? '').length, longestLocalization(c['name_localizations'])) + String(c['value'] ?? '').length;
  }
  for (const o of (item['options'] as Json[] | undefined) ?? []) n += sizeOf(o);
  return n;
}

function checkName(name: unknown, path: (string | number)[], chatInput: boolean): void {
  const s = typeof name === 'string' ? name : '';
  if (chatInput) {
    if (!NAME.test(s)) fail([...path, 'name'], 'APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid');
    if (s !== s.toLowerCase()) fail([...path, 'name'], 'APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid');
  } else if (s.length < 1 || s.length > 32) {
    fail([...path, 'name'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 32 in length.');
  }
}

function checkDescription(d: unknown, path: (string | number)[]): void {
  const s = typeof d === 'string' ? d : '';
  if (s.length < 1 || s.length > 100) fail([...path, 'description'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
}

function checkOptions(options: unknown, path: (string | number)[]): void {
  if (!Array.isArray(options)) return;
  if (options.length > 25) fail([...path, 'options'], 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
  const names = new Set<string>();
  options.forEach((raw, i) => {
    const o = raw as Json;
    const p = [...path, 'options', i];
    checkName(o['name'], p, true);
    checkDescription(o['description'], p);
    if (names.has(String(o['name']))) fail([...p, 'name'], 'APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS', 'Option names must be unique');
    names.add(String(o['name']));
    if (Array.isArray(o['choices']) && o['choices'].length > 25) fail([...p, 'choices'], 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
    if (o['autocomplete'] === true && Array.isArray(o['choices']) && o['choices'].length > 0) {
      fail([...p, 'autocomplete'], 'APPLICATION_COMMAND_AUTOCOMPLETE_INVALID', 'Autocomplete cannot be set with choices');
    }
    checkOptions(o['options'], p);
  });
}

/** Validates a bulk-overwrite body like Discord does; throws a 50035 DiscordHttpError. */
export function checkCommands(body: unknown): void {
  if (!Array.isArray(body)) fail([], 'BASE_TYPE_ARRAY', 'Must be an array.');
  const seen = new Set<string>();
  const counts = new Map<number, number>();
  body.forEach((raw, i) => {
    const c = (raw ?? {}) as Json;
    const type = Number(c['type'] ?? 1);
    const chatInput = type === 1;
    checkName(c['name'], [i], chatInput);
    if (chatInput) checkDescription(c['description'], [i]);
    checkOptions(c['options'], [i]);
    const key = `${type}|${c['name']}`;
    if (seen.has(key)) fail([i, 'name'], 'APPLICATION_COMMANDS_DUPLICATE_NAME', 'Application command names must be unique');
    seen.add(key);
    counts.set(type, (counts.get(type) ?? 0) + 1);
    if (chatInput && sizeOf(c) > 8000) fail([i], 'APPLICATION_COMMAND_TOO_LARGE', 'Command exceeds maximum size (8000)');
  });
  if ((counts.get(1) ?? 0) > 100) fail([], 'BASE_TYPE_MAX_LENGTH', 'Maximum number of chat input commands (100) reached');
  if ((counts.get(2) ?? 0) > 15 || (counts.get(3) ?? 0) > 15) fail([], 'BASE_TYPE_MAX_LENGTH', 'Maximum number of context menu commands (15) reached');
}
