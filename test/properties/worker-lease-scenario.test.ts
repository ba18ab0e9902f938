/**
 * Issue 7: a worker is held to the same lease as a manager. An at-most-once singleton placed on a
 * worker, the worker cut off from every manager (so it loses its session): the worker stops the
 * singleton by itself when its lease runs out, the leader places the replacement only after
 * lease + drift, and at no step do two copies run; after the heal the worker runs nothing stale.
 * The real daemon composition (worker session, node lease, fenced store, agent) on the
 * simulator's seams, a lossy network.
 */
import { describe, expect, it } from 'vitest';
import type { ServiceSpec } from '../../src/compose/types.ts';
import { atMostOnceServices, convergenceProblems, safetyViolations } from '../../src/sim/whole-cluster-checks.ts';
import { WholeClusterSim } from '../../src/sim/whole-cluster-sim.ts';
import { service } from '../unit/scheduler/scheduler-harness.ts';

const onWorkers: ServiceSpec = {
  ...service('db', { replicas: 1, constraints: ['node.role == worker'] }),
  volumes: [{ type: 'volume', source: 'data', target: '/data', readOnly: false }],
};

describe('whole-cluster simulation: the lease of a worker', () => {
  it('a cut worker stops its at-most-once replica by itself before the leader replaces it, never two at once', async () => {
    const violations: string[] = [];
    const sim: WholeClusterSim = new WholeClusterSim({
      seed: 11,
      managers: 3,
      workers: 2,
      faults: { minDelayMs: 1, maxDelayMs: 10, dropRate: 0.02, duplicateRate: 0.01, slowRate: 0.02 },
      onStep: () => {
        if (violations.length === 0) violations.push(...safetyViolations(sim, atMostOnceServices(sim), []));
      },
    });
    const running = (node: string): number => sim.engine(node).snapshot().filter((c) => c.state === 'running').length;
    try {
      await sim.start();
      expect(await sim.clock.runUntil(() => sim.allReady(), 10_000), 'every node heard by the leader').toBe(true);
      expect((await sim.deploy('app', [onWorkers])).result.ok).toBe(true);
      expect(await sim.clock.runUntil(() => convergenceProblems(sim).length === 0, 30_000), convergenceProblems(sim).join('\n')).toBe(true);
      const home = sim.leader()!.cluster.store.current().placements.app!.db!.slots['1']!;
      const other = home === 'w1' ? 'w2' : 'w1';
      expect(running(home)).toBe(1);

      sim.raft.network.partition([[home], sim.nodeIds.filter((id) => id !== home)]);
      const cutAt = sim.clock.nowMs();
      // The worker's own lease runs out first: it stops the singleton although no manager told it to.
      expect(await sim.clock.runUntil(() => running(home) === 0, 15_000), 'the cut worker stopped its singleton').toBe(true);
      const stoppedAt = sim.clock.nowMs();
      expect(await sim.clock.runUntil(() => running(other) === 1, 30_000), 'the singleton runs on the other worker').toBe(true);
      const replacedAt = sim.clock.nowMs();
      expect(replacedAt).toBeGreaterThan(stoppedAt);
      // Not held forever as before workers had a lease: within lease + drift + a few periods.
      expect(replacedAt - cutAt).toBeLessThan(15_000);

      sim.raft.network.heal();
      expect(await sim.clock.runUntil(() => convergenceProblems(sim).length === 0, 30_000), convergenceProblems(sim).join('\n')).toBe(true);
      expect(running(home), 'nothing stale on the healed worker').toBe(0);
      expect(running(other)).toBe(1);
      expect(violations).toEqual([]);
    } finally {
      await sim.shutdown();
    }
  });
});
