/**
 * Scalar fields that Compose lets you write as strings (so they can be interpolated): durations,
 * sizes, integers, numbers. Each returns undefined when absent, and reports a precise error (and
 * returns undefined) when present but malformed.
 */
import { composeCodes } from './compose-codes.ts';
import type { NormalizeContext } from './normalize-context.ts';
import { parseDurationMs, parseSizeBytes } from './units.ts';
import type { KeyPath } from './yaml-source.ts';

const absent = (value: unknown): boolean => value === undefined || value === null;

export function durationField(value: unknown, path: KeyPath, ctx: NormalizeContext): number | undefined {
  if (absent(value)) return undefined;
  const ms = parseDurationMs(value as string | number);
  if (ms === undefined) {
    ctx.sink.error(path, composeCodes.invalidDuration, `invalid duration ${JSON.stringify(value)}: use a number with a unit, e.g. "10s", "1m30s", "500ms", "1h"`);
  }
  return ms;
}

export function sizeField(value: unknown, path: KeyPath, ctx: NormalizeContext): number | undefined {
  if (absent(value)) return undefined;
  const bytes = parseSizeBytes(value as string | number);
  if (bytes === undefined) {
    ctx.sink.error(path, composeCodes.invalidSize, `invalid size ${JSON.stringify(value)}: use bytes or a number with a unit, e.g. "512m", "1g", "100k"`);
  }
  return bytes;
}

export function integerField(value: unknown, path: KeyPath, ctx: NormalizeContext, range: { min?: number; max?: number } = {}): number | undefined {
  return numeric(value, path, ctx, range, true);
}

export function numberField(value: unknown, path: KeyPath, ctx: NormalizeContext, range: { min?: number; max?: number } = {}): number | undefined {
  return numeric(value, path, ctx, range, false);
}

function numeric(value: unknown, path: KeyPath, ctx: NormalizeContext, range: { min?: number; max?: number }, integer: boolean): number | undefined {
  if (absent(value)) return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  const kind = integer ? 'an integer' : 'a number';
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    ctx.sink.error(path, composeCodes.invalidNumber, `must be ${kind}, got ${JSON.stringify(value)}`);
    return undefined;
  }
  if ((range.min !== undefined && n < range.min) || (range.max !== undefined && n > range.max)) {
    const bounds = range.max === undefined ? `at least ${range.min}` : range.min === undefined ? `at most ${range.max}` : `between ${range.min} and ${range.max}`;
    ctx.sink.error(path, composeCodes.invalidNumber, `must be ${kind} ${bounds}, got ${JSON.stringify(value)}`);
    return undefined;
  }
  return n;
}
