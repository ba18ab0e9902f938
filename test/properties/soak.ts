/**
 * Soak: `npm run soak -- --seconds N` runs as many simulator seeds as fit in N wall-clock seconds,
 * alternating 3- and 5-member clusters, then prints a summary and the replay command of every
 * failing seed. Exit code 1 when any seed failed. `--start SEED` fixes the first seed.
 */
import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { formatOutcome } from './raft-property.ts';
import { replayCommand, runSimulation } from './run-simulation.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' }, start: { type: 'string' }, verbose: { type: 'boolean', default: false } } });
const seconds = Number(values.seconds);
if (!(seconds > 0)) {
  console.error(`soak: --seconds must be a positive number, got "${values.seconds}"`);
  process.exit(2);
}
let seed = values.start === undefined ? randomInt(0, 2 ** 31 - 1) : Number(values.start);
if (!Number.isSafeInteger(seed)) {
  console.error(`soak: --start must be an integer, got "${values.start}"`);
  process.exit(2);
}

const deadline = performance.now() + seconds * 1000;
const failures: string[] = [];
let runs = 0;
let steps = 0;
let operations = 0;
let worstConvergeMs = 0;
const firstSeed = seed;
let lastReport = performance.now();
while (performance.now() < deadline) {
  const nodeCount = runs % 2 === 0 ? 3 : 5;
  const outcome = await runSimulation(seed, nodeCount);
  runs++;
  steps += outcome.steps;
  operations += outcome.operations;
  worstConvergeMs = Math.max(worstConvergeMs, outcome.convergedAfterMs ?? 0);
  if (values.verbose || !outcome.ok) console.log(formatOutcome(outcome));
  if (!outcome.ok) failures.push(replayCommand(seed, nodeCount));
  if (performance.now() - lastReport > 10_000) {
    console.log(`… ${runs} seeds, ${failures.length} failed`);
    lastReport = performance.now();
  }
  seed = (seed + 1) % 2 ** 31;
}
console.log(
  `soak: ${runs} seeds (${firstSeed}…${seed - 1}) in ${seconds} s: ${runs - failures.length} passed, ${failures.length} failed; ` +
    `${steps} simulator steps, ${operations} client operations, slowest convergence after heal ${worstConvergeMs.toFixed(0)} ms virtual`,
);
for (const command of failures) console.log(`  replay: ${command}`);
process.exit(failures.length > 0 ? 1 : 0);
