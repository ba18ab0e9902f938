/**
 * Issue 7's property on the whole-cluster simulator (whole-cluster-run.ts), shared by two files
 * so vitest runs half the seeds on each core. fast-check draws the seeds; a seed fixes the whole
 * run, so shrinking is off. SIM_SEED=<n> replays one seed and prints its schedule; SIM_RUNS=<n>
 * changes how many seeds a file tries.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { runWholeCluster, wholeClusterReplay, type WholeClusterOutcome } from './whole-cluster-run.ts';

export function wholeClusterProperty(file: string, defaultRuns: number): void {
  const replay = process.env['SIM_SEED'];
  if (replay !== undefined) {
    it(`replays seed ${replay}`, async () => {
      const seed = Number(replay);
      expect(Number.isSafeInteger(seed), `SIM_SEED must be an integer, got "${replay}"`).toBe(true);
      const outcome = await runWholeCluster(seed);
      console.log([`seed ${seed}: ${outcome.ok ? 'ok' : 'FAILED'}, converged ${outcome.convergedAfterMs?.toFixed(0) ?? '-'} ms after the heal`, ...outcome.schedule, outcome.failure ?? ''].join('\n'));
      expect(outcome.failure).toBeUndefined();
    });
    return;
  }
  const runs = Number(process.env['SIM_RUNS'] ?? defaultRuns);
  it(`${runs} random fault schedules on 3 managers + 1–2 workers: never two at-most-once copies, no committed deploy lost, one copy of every replica after the heal`, async () => {
    const outcomes: WholeClusterOutcome[] = [];
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), async (seed) => {
        const outcome = await runWholeCluster(seed);
        outcomes.push(outcome);
        if (!outcome.ok) throw new Error(`${outcome.failure}\nschedule:\n  ${outcome.schedule.join('\n  ')}\n\nReplay with: ${wholeClusterReplay(seed, file)}`);
      }),
      { numRuns: runs, endOnFailure: true },
    );
    const wallMs = outcomes.reduce((sum, o) => sum + o.wallMs, 0);
    const slowest = Math.max(...outcomes.map((o) => o.convergedAfterMs ?? 0));
    console.log(`whole cluster (${file}): ${outcomes.length} schedules in ${(wallMs / 1000).toFixed(1)} s, slowest convergence after the heal ${slowest.toFixed(0)} ms (virtual)`);
    expect(outcomes).toHaveLength(runs);
  });
}
