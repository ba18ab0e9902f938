/**
 * Issue 6's whole-cluster simulation as one deterministic script: 3 managers + 2 workers of the
 * real daemon composition on the simulator's seams, a lossy network; deploy, partition a worker,
 * heal, and every replica converges onto exactly one node.
 */
import { describe, expect, it } from 'vitest';
import { atMostOnceServices, convergenceProblems, runningCopies, safetyViolations, type CommittedDeploy } from '../../src/sim/whole-cluster-checks.ts';
import { WholeClusterSim } from '../../src/sim/whole-cluster-sim.ts';
import { workload } from './whole-cluster-workload.ts';

describe('whole-cluster simulation: 3 managers + 2 workers', () => {
  it('deploys, survives a partitioned worker and converges after the heal', async () => {
    const committed: CommittedDeploy[] = [];
    const violations: string[] = [];
    const sim: WholeClusterSim = new WholeClusterSim({
      seed: 6,
      managers: 3,
      workers: 2,
      faults: { minDelayMs: 1, maxDelayMs: 10, dropRate: 0.02, duplicateRate: 0.01, slowRate: 0.02 },
      onStep: () => {
        if (violations.length === 0) violations.push(...safetyViolations(sim, atMostOnceServices(sim), committed));
      },
    });
    try {
      await sim.start();
      expect(await sim.clock.runUntil(() => sim.allReady(), 10_000), 'every node heard by the leader').toBe(true);
      const deployed = await sim.deploy('app', workload(10));
      expect(deployed.result.ok).toBe(true);
      committed.push({ stack: 'app', appliedIndex: deployed.appliedIndex });
      expect(await sim.clock.runUntil(() => convergenceProblems(sim).length === 0, 30_000), convergenceProblems(sim).join('\n')).toBe(true);
      const before = sim.leader()!.cluster.store.current().placements.app!.web!.slots;
      expect(new Set(Object.values(before)).size, 'web spread over all five nodes').toBe(5);
      expect(Object.values(before).filter((node) => node === 'w1')).toHaveLength(2);

      sim.raft.network.partition([['w1'], sim.nodeIds.filter((id) => id !== 'w1')]);
      // Its web replicas run elsewhere; the cut worker keeps its own copies (at-least-once).
      const moved = await sim.clock.runUntil(() => {
        const slots = sim.leader()?.cluster.store.current().placements.app?.web?.slots ?? {};
        return Object.values(slots).every((node) => node !== 'w1');
      }, 15_000);
      expect(moved, 'w1 replicas placed elsewhere').toBe(true);
      expect(sim.engine('w1').snapshot().filter((c) => c.state === 'running')).toHaveLength(2);

      sim.raft.network.heal();
      const healedAt = sim.clock.nowMs();
      expect(await sim.clock.runUntil(() => convergenceProblems(sim).length === 0, 30_000), convergenceProblems(sim).join('\n')).toBe(true);
      expect(sim.engine('w1').snapshot().filter((c) => c.state === 'running'), 'stale copies stopped').toHaveLength(0);
      expect(sim.clock.nowMs() - healedAt).toBeLessThanOrEqual(10_000);
      expect(violations).toEqual([]);
    } finally {
      await sim.shutdown();
    }
  });

  // Found by the property: a daemon killed and restarted while cut off waited for the log before
  // its agent ran, so nothing stopped the singleton its engine still ran, and the leader placed
  // it elsewhere past the lease: two copies. It now stops such replicas before it waits.
  it('a daemon restarted while cut off stops its at-most-once replica before waiting for the log', async () => {
    const problems: string[] = [];
    const sim: WholeClusterSim = new WholeClusterSim({
      seed: 3,
      managers: 3,
      workers: 1,
      onStep: () => {
        if (problems.length === 0) problems.push(...safetyViolations(sim, atMostOnceServices(sim), []));
      },
    });
    try {
      await sim.start();
      expect(await sim.clock.runUntil(() => sim.allReady(), 10_000)).toBe(true);
      await sim.deploy('app', workload(3));
      expect(await sim.clock.runUntil(() => convergenceProblems(sim).length === 0, 20_000)).toBe(true);
      const node = runningCopies(sim).get('app/db/1')![0]!;
      sim.killDaemon(node);
      sim.raft.network.isolate(node);
      await sim.clock.advance(500);
      sim.restart(node);
      const moved = await sim.clock.runUntil(() => (runningCopies(sim).get('app/db/1') ?? []).some((other) => other !== node), 15_000);
      expect(moved, 'the singleton replaced on a reachable node').toBe(true);
      expect(problems).toEqual([]);
      sim.raft.network.heal();
      expect(await sim.clock.runUntil(() => convergenceProblems(sim).length === 0, 30_000), convergenceProblems(sim).join('\n')).toBe(true);
      expect(problems).toEqual([]);
    } finally {
      await sim.shutdown();
    }
  });
});
