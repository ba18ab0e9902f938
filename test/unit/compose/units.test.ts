import { describe, expect, it } from 'vitest';
import { parseDurationMs, parseSizeBytes } from '../../../src/compose/units.ts';
import { splitShellWords } from '../../../src/compose/shell-words.ts';

describe('durations → milliseconds', () => {
  it.each([
    ['10s', 10_000], ['1m30s', 90_000], ['500ms', 500], ['1h', 3_600_000], ['1.5s', 1500],
    ['2h45m', 9_900_000], ['0', 0], ['0s', 0], ['250us', 0.25], ['1000ns', 0.001], [' 5s ', 5000],
  ])('%s → %d ms', (input, ms) => {
    expect(parseDurationMs(input)).toBeCloseTo(ms, 9);
  });

  it.each(['', '10', 's', '1x', '-5s', '5 s', '1m30', 'ten seconds'])('refuses %j', (input) => {
    expect(parseDurationMs(input)).toBeUndefined();
  });
});

describe('sizes → bytes', () => {
  it.each([
    ['512m', 512 * 1024 ** 2], ['1g', 1024 ** 3], ['100k', 100 * 1024], ['1.5G', 1.5 * 1024 ** 3],
    ['64MiB', 64 * 1024 ** 2], ['2gb', 2 * 1024 ** 3], ['1024', 1024], ['10b', 10], [4096, 4096],
  ] as const)('%s → %d bytes', (input, bytes) => {
    expect(parseSizeBytes(input)).toBe(bytes);
  });

  it.each(['', 'big', '1x', '-1m', 'm', '1 0m'])('refuses %j', (input) => {
    expect(parseSizeBytes(input)).toBeUndefined();
  });
});

describe('command strings are split into words like Compose does', () => {
  it.each([
    ['echo hello world', ['echo', 'hello', 'world']],
    ['  spaced   out  ', ['spaced', 'out']],
    [`sh -c "echo 'a b' && exit 1"`, ['sh', '-c', "echo 'a b' && exit 1"]],
    [`echo 'single $HOME "quoted"'`, ['echo', 'single $HOME "quoted"']],
    ['echo "a \\"quoted\\" word"', ['echo', 'a "quoted" word']],
    ['echo a\\ b', ['echo', 'a b']],
    ['echo ""', ['echo', '']],
    ['--transaction-isolation=READ-COMMITTED --binlog-format=ROW', ['--transaction-isolation=READ-COMMITTED', '--binlog-format=ROW']],
  ])('%s', (input, words) => {
    expect(splitShellWords(input)).toEqual({ ok: true, words });
  });

  it.each(['echo "open', "echo 'open", 'echo \\'])('refuses %j', (input) => {
    expect(splitShellWords(input).ok).toBe(false);
  });
});
