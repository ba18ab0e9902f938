/**
 * Durations and sizes as Compose writes them, converted to the units the specs carry
 * (milliseconds, bytes). Parsers return undefined for bad input; callers report it with context.
 */

const durationUnitsMs: Readonly<Record<string, number>> = {
  ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000,
};

/**
 * Go's time.ParseDuration syntax, which Compose uses: a sequence of decimal numbers with units,
 * e.g. "1m30s", "10s", "500ms", "1.5h". As in Go, "0" needs no unit but any other unit-less
 * string is refused ("10" could mean seconds or nanoseconds). A YAML number is taken as seconds.
 * Negative durations are refused.
 */
export function parseDurationMs(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? input * 1000 : undefined;
  const text = input.trim();
  if (/^0+$/.test(text)) return 0;
  if (text === '') return undefined;
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let index = 0;
  while (index < text.length) {
    part.lastIndex = index;
    const match = part.exec(text);
    if (!match) return undefined;
    total += Number(match[1]) * durationUnitsMs[match[2]!]!;
    index = part.lastIndex;
  }
  return total;
}

const sizeMultipliers: Readonly<Record<string, number>> = {
  '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5,
};

/**
 * Docker's memory size syntax (go-units RAMInBytes): a decimal number, optionally followed by
 * k/m/g/t/p (binary multiples, any case) and an optional "b"/"ib" suffix: "512m", "1g", "100k",
 * "1.5G", "64MiB". A plain number means bytes.
 */
export function parseSizeBytes(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isInteger(input) && input >= 0 ? input : undefined;
  const match = /^(\d+(?:\.\d+)?)\s?([kmgtp])?(i?b)?$/i.exec(input.trim());
  if (!match) return undefined;
  const unit = (match[2] ?? (match[3] ? 'b' : '')).toLowerCase();
  return Math.floor(Number(match[1]) * sizeMultipliers[unit]!);
}
