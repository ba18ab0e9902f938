import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Backs up the lint rule: machines must run unchanged under the simulator's virtual clock and seeded RNG.
const machinesDir = new URL('../../src/machines/', import.meta.url).pathname;
const forbidden: [RegExp, string][] = [
  [/from\s+['"](node:)?(fs|fs\/promises|net|http|https|child_process|dgram|crypto|timers)['"]/, 'Node I/O module'],
  [/from\s+['"](dockerode|ws|fastify|pino|prom-client)['"]/, 'effectful package'],
  [/Date\.now\s*\(/, 'Date.now()'],
  [/new\s+Date\s*\(/, 'new Date()'],
  [/Math\.random\s*\(/, 'Math.random()'],
  [/\bset(Timeout|Interval|Immediate)\s*\(/, 'real timer'],
  [/\bprocess\./, 'process access'],
];

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? listFiles(full) : full.endsWith('.ts') ? [full] : [];
  });
}

describe('src/machines stays pure', () => {
  it('has machines to check', () => {
    expect(listFiles(machinesDir).length).toBeGreaterThan(0);
  });
  for (const file of listFiles(machinesDir)) {
    it(`${file.slice(machinesDir.length)} has no I/O, wall clock or Math.random`, () => {
      const source = readFileSync(file, 'utf8');
      const found = forbidden.filter(([pattern]) => pattern.test(source)).map(([, what]) => what);
      expect(found).toEqual([]);
    });
  }
});
