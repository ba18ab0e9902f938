import fc from 'fast-check';
import { expect, it } from 'vitest';
import { replayCommand, runSimulation, type SimulationOutcome } from './run-simulation.ts';

/**
 * The body shared by the 3- and 5-member property files (two files so vitest runs them on both
 * cores). fast-check draws the seeds; each seed determines the whole run (schedule, network,
 * timeouts, clients), so shrinking a seed would only pick an unrelated run and is turned off.
 * SIM_SEED=<n> replays one seed; SIM_RUNS=<n> changes how many seeds a run tries.
 */
export function raftProperty(nodeCount: number, defaultRuns: number): void {
  const replay = process.env['SIM_SEED'];
  if (replay !== undefined) {
    it(`replays seed ${replay} on ${nodeCount} members`, async () => {
      const seed = Number(replay);
      expect(Number.isSafeInteger(seed), `SIM_SEED must be an integer, got "${replay}"`).toBe(true);
      const outcome = await runSimulation(seed, nodeCount);
      console.log(formatOutcome(outcome));
      expect(outcome.failure).toBeUndefined();
    });
    return;
  }
  const runs = Number(process.env['SIM_RUNS'] ?? defaultRuns);
  it(`${runs} random fault schedules on ${nodeCount} members: safety at every step, liveness after heal, linearizable clients`, async () => {
    const outcomes: SimulationOutcome[] = [];
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), async (seed) => {
        const outcome = await runSimulation(seed, nodeCount);
        outcomes.push(outcome);
        if (!outcome.ok) throw new Error(`${outcome.failure}\n\nReplay with: ${replayCommand(seed, nodeCount)}`);
      }),
      { numRuns: runs, endOnFailure: true },
    );
    const wallMs = outcomes.reduce((sum, o) => sum + o.wallMs, 0);
    const worstConverge = Math.max(...outcomes.map((o) => o.convergedAfterMs ?? 0));
    const ops = outcomes.reduce((sum, o) => sum + o.operations, 0);
    console.log(
      `${nodeCount} members: ${outcomes.length} schedules in ${(wallMs / 1000).toFixed(1)} s, ` +
        `${ops} client operations, slowest convergence after heal ${worstConverge.toFixed(0)} ms (virtual)`,
    );
    expect(outcomes).toHaveLength(runs);
  });
}

export function formatOutcome(o: SimulationOutcome): string {
  const base = `seed ${o.seed} (${o.nodeCount} members): ${o.ok ? 'ok' : 'FAILED'} — ${o.steps} steps, ${o.virtualMs.toFixed(0)} ms virtual, ${o.wallMs.toFixed(0)} ms wall, ${o.completedOperations}/${o.operations} operations answered, ${o.committedEntries} committed entries, converged ${o.convergedAfterMs?.toFixed(0) ?? '-'} ms after heal`;
  return o.failure ? `${base}\n${o.failure}` : base;
}
