/**
 * Scheduler throughput: the pure planPlacements on 10,000 simulated nodes and 100 stacks × 1,000
 * replicas (workload and measurement in lib/scheduler-run.ts, shared with bench:cluster).
 *
 *   npm run bench:scheduler [-- --rounds 5 --nodes 10000 --stacks 100 --replicas 1000 --out FILE --no-write]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultSchedulerBenchSettings as defaults, runSchedulerBench } from './lib/scheduler-run.ts';

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string', default: String(defaults.rounds) },
    nodes: { type: 'string', default: String(defaults.nodes) },
    stacks: { type: 'string', default: String(defaults.stacks) },
    replicas: { type: 'string', default: String(defaults.replicas) },
    out: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
  },
});

function gitDescribe(): string {
  try {
    return execFileSync('git', ['describe', '--always', '--dirty', '--abbrev=12'], { cwd: dirname(dirname(fileURLToPath(import.meta.url))), encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const { report, lines } = runSchedulerBench(
  { rounds: Number(flags.rounds), nodes: Number(flags.nodes), stacks: Number(flags.stacks), replicas: Number(flags.replicas) },
  gitDescribe(),
);
for (const line of lines) process.stdout.write(`${line}\n`);
if (!flags['no-write']) {
  const out = flags.out ?? join(dirname(fileURLToPath(import.meta.url)), 'results', `scheduler-${report.date.slice(0, 10)}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`wrote ${out}\n`);
}
