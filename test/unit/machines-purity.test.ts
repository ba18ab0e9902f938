import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// Backs up the lint rule: machines must run unchanged under the simulator's virtual clock and seeded
// RNG. The lint rule sees only files inside src/machines; this also follows what they import
// (at run time, not `import type`), because a helper elsewhere can smuggle in a clock or a socket.
const srcDir = new URL('../../src/', import.meta.url).pathname;
const machinesDir = join(srcDir, 'machines');
const schedulerDir = join(srcDir, 'scheduler');
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

/** Relative specifiers a source loads at run time, side-effect imports included (`import type` and `export type` load nothing). */
function runtimeSpecifiers(source: string): string[] {
  return [...source.matchAll(/^\s*(?:import|export)\s+(type\s+)?(?:[^'"]*?from\s+)?['"](\.[^'"]+)['"]/gm)].filter((m) => !m[1]).map((m) => m[2]!);
}

function runtimeImports(file: string): string[] {
  return runtimeSpecifiers(readFileSync(file, 'utf8')).map((specifier) => resolve(dirname(file), specifier)).filter((path) => existsSync(path));
}

/** Every source file reachable from src/machines and src/scheduler through run-time relative imports. */
function reachableFromMachines(): string[] {
  const seen = new Set<string>();
  const queue = [...listFiles(machinesDir), ...listFiles(schedulerDir)];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    queue.push(...runtimeImports(file));
  }
  return [...seen].sort();
}

describe('src/machines and src/scheduler stay pure', () => {
  const files = reachableFromMachines();

  it('has machines to check, and follows their imports out of src/machines', () => {
    expect(files.filter((file) => file.startsWith(machinesDir)).length).toBeGreaterThan(0);
    // container.ts takes its restart decisions from src/orchestrator/restart: the walk must have reached them.
    expect(files.map((file) => relative(srcDir, file))).toContain('orchestrator/restart/restart-policy.ts');
    // The scheduler shares the loader's host-port overlap rules: the walk must reach them too.
    expect(files.map((file) => relative(srcDir, file))).toEqual(expect.arrayContaining(['scheduler/plan-placements.ts', 'compose/host-port-table.ts']));
  });

  it('tells a run-time import from a type-only one', () => {
    const source = "import { a } from './a.ts';\nimport type { B } from './b.ts';\nexport { c } from '../c.ts';\nexport type { D } from './d.ts';\nimport { e } from 'xstate';\nimport './f.ts';\n";
    expect(runtimeSpecifiers(source)).toEqual(['./a.ts', '../c.ts', './f.ts']);
  });

  for (const file of files) {
    it(`${relative(srcDir, file)} has no I/O, wall clock or Math.random`, () => {
      const source = readFileSync(file, 'utf8');
      const found = forbidden.filter(([pattern]) => pattern.test(source)).map(([, what]) => what);
      expect(found).toEqual([]);
    });
  }
});
