import { describe, expect, it } from 'vitest';
import { ClusterSim } from '../../../src/sim/cluster-sim.ts';
import { InvariantViolationError } from '../../../src/sim/invariants.ts';
import { checkLinearizable } from '../../../src/sim/linearizability.ts';

async function settle<T>(sim: ClusterSim, promise: Promise<T>, limitMs = 5_000): Promise<T> {
  let outcome: { value: T } | undefined;
  void promise.then((value) => (outcome = { value }));
  await sim.runUntil(() => outcome !== undefined, limitMs);
  if (!outcome) throw new Error(`did not settle within ${limitMs} ms of virtual time`);
  return outcome.value;
}

describe('ClusterSim on real RaftNodes', () => {
  it('elects one leader, replicates writes, serves linearizable reads and converges', async () => {
    const sim = new ClusterSim({ seed: 1, nodeCount: 3 });
    await sim.start();
    expect(await sim.runUntil(() => sim.leader() !== undefined, 2_000)).toBe(true);
    const client = sim.client('c1');
    for (let i = 0; i < 10; i++) expect(await settle(sim, client.put('k', `v${i}`))).toBe(true);
    expect(await settle(sim, client.get('k'))).toBe(true);
    expect(await sim.runUntil(() => sim.converged(), 2_000)).toBe(true);
    for (const id of sim.ids) expect(sim.node(id)!.state().view().kv['k']).toBe('v9');
    const history = sim.history.operations();
    expect(history.at(-1)?.output).toEqual({ value: 'v9' });
    expect(checkLinearizable(history).ok).toBe(true);
    expect(await sim.shutdown()).toBe(true);
  });

  it('survives a leader crash: a new leader takes over and the old one catches up after restart', async () => {
    const sim = new ClusterSim({ seed: 2, nodeCount: 5 });
    await sim.start();
    await sim.runUntil(() => sim.leader() !== undefined, 2_000);
    const client = sim.client('c1');
    expect(await settle(sim, client.put('a', '1'))).toBe(true);
    const oldLeader = sim.leader()!.id;
    sim.crash(oldLeader, { tornWrites: true });
    expect(await sim.runUntil(() => sim.leader() !== undefined && sim.leader()!.id !== oldLeader, 3_000)).toBe(true);
    expect(await settle(sim, client.put('a', '2'))).toBe(true);
    sim.restart(oldLeader);
    expect(await sim.runUntil(() => sim.converged(), 3_000)).toBe(true);
    expect(sim.node(oldLeader)!.state().view().kv['a']).toBe('2');
    expect(checkLinearizable(sim.history.operations()).ok).toBe(true);
    await sim.shutdown();
  });

  it('replays identically from the same seed', async () => {
    const run = async (seed: number) => {
      const sim = new ClusterSim({ seed, nodeCount: 3, faults: { minDelayMs: 1, maxDelayMs: 20, dropRate: 0.1, duplicateRate: 0.1, slowRate: 0.02 } });
      await sim.start();
      const client = sim.client('c');
      for (let i = 0; i < 5; i++) await settle(sim, client.put('k', String(i)));
      await sim.runFor(500);
      const result = { now: sim.clock.nowMs(), steps: sim.invariants.steps, stats: { ...sim.network.stats }, statuses: sim.statuses() };
      await sim.shutdown();
      return result;
    };
    const first = await run(11);
    expect(await run(11)).toEqual(first);
    expect((await run(12)).stats).not.toEqual(first.stats);
  });

  it('notices amnesia: a member that loses its disk breaks the persisted-state invariants', async () => {
    // Raft cannot survive a member forgetting its term and vote; the checker must say so.
    const sim = new ClusterSim({ seed: 3, nodeCount: 3 });
    await sim.start();
    await sim.runUntil(() => sim.leader() !== undefined, 2_000);
    const client = sim.client('c');
    await settle(sim, client.put('k', 'v'));
    const victim = sim.ids.find((id) => id !== sim.leader()!.id)!;
    sim.crash(victim, { loseDisk: true });
    sim.restart(victim);
    await expect(sim.runFor(2_000)).rejects.toThrow(InvariantViolationError);
    await sim.shutdown();
  });

  it('the linearizability check catches a stale read served by a deposed leader', async () => {
    const sim = new ClusterSim({ seed: 4, nodeCount: 3 });
    await sim.start();
    await sim.runUntil(() => sim.leader() !== undefined, 2_000);
    const client = sim.client('writer');
    expect(await settle(sim, client.put('k', 'old'))).toBe(true);
    await sim.runUntil(() => sim.converged(), 1_000);
    const deposed = sim.leader()!;
    sim.network.isolate(deposed.id);
    await sim.runUntil(() => sim.statuses().some((s) => s.role === 'leader' && s.id !== deposed.id), 3_000);
    expect(await settle(sim, client.put('k', 'new'))).toBe(true);
    // A read that skips ReadIndex and trusts the old leader's local state:
    const op = sim.history.invoke('sneaky', 'k', { kind: 'get' });
    sim.history.respond(op, deposed.state().view().kv['k']);
    const result = checkLinearizable(sim.history.operations());
    expect(result.ok).toBe(false);
    await sim.shutdown();
  });

  it('adds a spare member (learner, then voter) and removes a founder, converging each time', async () => {
    const sim = new ClusterSim({ seed: 5, nodeCount: 3, spareCount: 1 });
    await sim.start();
    await sim.runUntil(() => sim.leader() !== undefined, 2_000);
    const client = sim.client('c');
    expect(await settle(sim, client.put('k', '1'))).toBe(true);
    const spare = sim.unbootedSpares()[0]!;
    sim.join(spare);
    const leader = sim.leader()!;
    await settle(sim, leader.addLearner(spare));
    expect(await sim.runUntil(() => sim.converged(), 2_000)).toBe(true);
    await settle(sim, leader.promoteLearner(spare));
    expect(await sim.runUntil(() => sim.converged() && sim.leader()!.status().membership.voters.includes(spare), 2_000)).toBe(true);
    expect(sim.node(spare)!.state().view().kv['k']).toBe('1');
    const victim = sim.founders.find((id) => id !== sim.leader()!.id)!;
    await settle(sim, sim.leader()!.removeMember(victim));
    expect(await sim.runUntil(() => sim.converged(), 2_000)).toBe(true);
    expect(sim.leader()!.status().membership.voters).not.toContain(victim);
    expect(await settle(sim, client.put('k', '2'))).toBe(true);
    expect(await sim.runUntil(() => sim.converged(), 2_000)).toBe(true);
    expect(sim.node(spare)!.state().view().kv['k']).toBe('2');
    await sim.shutdown();
  });
});
