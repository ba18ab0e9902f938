/**
 * "No mass reschedule after a leader change" (issue 7 item 2), on the whole-cluster simulator:
 * three real Raft members, each running the leader scheduling loop the daemon runs, three workers,
 * 12 replicas spread 2 per node. Per seed the leader's node is crashed, isolated, or frozen
 * (paused) for a while; then the cluster runs on. What must hold:
 * - a replica whose node kept heartbeating never changes node, whoever leads;
 * - a frozen leader that comes back moves nothing at all;
 * - the lost node's replicas are placed on survivors, each once, within a stated bound.
 * SIM_RUNS overrides the number of seeds, SIM_SEED replays one.
 */
import { describe, expect, it } from 'vitest';
import { service } from '../unit/scheduler/scheduler-harness.ts';
import { DOWN_AFTER_MS, ELECTION_TIMEOUT_MS, FailoverSim } from './failover-sim.ts';

const runs = Number(process.env.SIM_RUNS ?? 24);
const seeds = process.env.SIM_SEED ? [Number(process.env.SIM_SEED)] : Array.from({ length: runs }, (_, i) => i + 1);
const faults = ['crash', 'isolate', 'pause'] as const;
/** Election (≤ 2T after the last contact, plus a vote) + one grace for the unknown node + a pass. */
const REPLACED_WITHIN_MS = 3 * ELECTION_TIMEOUT_MS + DOWN_AFTER_MS + 1000;

describe('failover simulator: leader changes', () => {
  for (const seed of seeds) {
    const fault = faults[seed % faults.length]!;
    it(`seed ${seed}: leader ${fault} → only its own replicas move`, async () => {
      const replay = `SIM_SEED=${seed} npx vitest run test/properties/failover-leader-change.property.test.ts`;
      const sim = new FailoverSim(seed);
      try {
        await sim.start();
        // Every node heard by the leader first, so the replicas spread over all six.
        await sim.sim.runFor(DOWN_AFTER_MS);
        await sim.deploy('app', [service('web', { replicas: 12 })]);
        const spread = await sim.sim.runUntil(() => Object.keys(sim.slots('app', 'web')).length === 12, 20_000);
        expect(spread, `placed; replay: ${replay}`).toBe(true);
        await sim.sim.runFor(3000);
        const before = sim.slots('app', 'web');
        const counts = Object.values(before).reduce<Record<string, number>>((acc, node) => ({ ...acc, [node]: (acc[node] ?? 0) + 1 }), {});
        expect(Object.values(counts), `2 per node; replay: ${replay}`).toEqual([2, 2, 2, 2, 2, 2]);
        const leader = sim.leaderId()!;
        const faultAt = sim.sim.clock.nowMs();
        const fromIndex = sim.placements.length;
        if (fault === 'crash') sim.crash(leader);
        else if (fault === 'isolate') sim.sim.network.isolate(leader);
        // Shorter than the grace: the frozen leader's node must lose nothing.
        else sim.sim.pause(leader, DOWN_AFTER_MS - 500);
        await sim.sim.runFor(REPLACED_WITHIN_MS + 5000);
        const after = sim.slots('app', 'web');
        const changes = sim.placements.slice(fromIndex);
        // Whoever led, a replica of a heartbeating node kept its node in every committed placement.
        for (const change of changes) {
          for (const [slot, node] of Object.entries(before)) {
            if (fault !== 'pause' && node === leader) continue;
            expect(change.command.slots[slot], `slot ${slot} moved off live ${node} at ${change.atMs} ms; replay: ${replay}`).toBe(node);
          }
        }
        if (fault === 'pause') {
          expect(changes, `a frozen leader's return moved something; replay: ${replay}`).toEqual([]);
          expect(after).toEqual(before);
          return;
        }
        const lost = Object.entries(before).filter(([, node]) => node === leader).map(([slot]) => slot);
        for (const slot of lost) {
          expect(after[slot], `slot ${slot} still on the lost leader; replay: ${replay}`).not.toBe(leader);
          // Moved once: the first placement that moved it is where it stays.
          const firstMove = changes.find((change) => change.command.slots[slot] !== leader)!;
          expect(firstMove.command.slots[slot]).toBe(after[slot]);
          expect(firstMove.atMs - faultAt, `slot ${slot} replaced late; replay: ${replay}`).toBeLessThanOrEqual(REPLACED_WITHIN_MS);
        }
      } finally {
        sim.stop();
        await sim.sim.shutdown();
      }
    });
  }
});
