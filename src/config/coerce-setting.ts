/**
 * Environment variables and command-line flags carry text; the schema says what each setting is.
 * Coercion follows the schema type so CONSTELLATION_API_PORT=7500 becomes the number 7500 and a
 * typo like "75OO" is reported naming the variable, not as a confusing schema error later.
 */
import type { SettingInfo } from './config-schema.ts';

export type Coerced = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string };

const truthy = new Set(['true', '1', 'yes', 'on']);
const falsy = new Set(['false', '0', 'no', 'off']);

export function coerceSetting(setting: SettingInfo, text: string): Coerced {
  const trimmed = text.trim();
  switch (setting.type) {
    case 'integer':
      return /^-?\d+$/.test(trimmed) ? { ok: true, value: Number(trimmed) } : { ok: false, message: 'must be an integer' };
    case 'number':
      return trimmed !== '' && Number.isFinite(Number(trimmed)) ? { ok: true, value: Number(trimmed) } : { ok: false, message: 'must be a number' };
    case 'boolean': {
      const lower = trimmed.toLowerCase();
      if (truthy.has(lower)) return { ok: true, value: true };
      if (falsy.has(lower)) return { ok: true, value: false };
      return { ok: false, message: 'must be true or false' };
    }
    case 'array':
      // A comma-separated list: "a:7421,b:7421".
      return { ok: true, value: trimmed === '' ? [] : trimmed.split(',').map((item) => item.trim()).filter((item) => item !== '') };
    case 'map': {
      // "key=value,key2=value2".
      const map: Record<string, string> = {};
      for (const pair of trimmed === '' ? [] : trimmed.split(',')) {
        const equals = pair.indexOf('=');
        if (equals <= 0) return { ok: false, message: `must be a comma-separated list of key=value pairs ("${pair.trim()}" has no key=value)` };
        map[pair.slice(0, equals).trim()] = pair.slice(equals + 1).trim();
      }
      return { ok: true, value: map };
    }
    default:
      return { ok: true, value: text };
  }
}
