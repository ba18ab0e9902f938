import { afterEach, describe, expect, it } from 'vitest';
import type { ServiceSpec } from '../../../src/compose/types.ts';
import { ClusterState } from '../../../src/cluster/state.ts';
import { desiredServices } from '../../../src/agent/desired.ts';
import { service } from '../scheduler/scheduler-harness.ts';
import { DOWN_AFTER_MS, HEARTBEAT_MS, LeaderHarness, REBALANCE_TIMEOUT_MS, START_MS, timing, type Decision } from './leader-harness.ts';

const labelled = (spec: ServiceSpec, labels: Record<string, string>): ServiceSpec => ({ ...spec, deploy: { ...spec.deploy, labels: { ...spec.deploy.labels, ...labels } } });
const rebalancing = (replicas: number, parallelism = 1): ServiceSpec => {
  const spec = labelled(service('web', { replicas }), { 'constellation.rebalance': 'true' });
  return { ...spec, deploy: { ...spec.deploy, updateConfig: { ...spec.deploy.updateConfig, parallelism } } };
};

let harness: LeaderHarness | undefined;
afterEach(() => harness?.stop());

async function cutAndHeal(spec: ServiceSpec): Promise<{ h: LeaderHarness; healedAtMs: number }> {
  const h = (harness = new LeaderHarness(['n1', 'n2', 'n3']));
  h.deploy('app', [spec]);
  await h.advance(HEARTBEAT_MS * 2 + START_MS);
  expect(h.spread('app', 'web')).toEqual({ n1: 2, n2: 2, n3: 2 });
  h.silence('n3');
  // (An at-most-once replica waits for the cut node's lease to have surely run out, ≈ 4 s.)
  await h.advance(DOWN_AFTER_MS + HEARTBEAT_MS * 2 + timing.leaseMs * 2);
  expect(h.spread('app', 'web')).toEqual({ n1: 3, n2: 3 });
  await h.advance(START_MS);
  h.resume('n3');
  return { h, healedAtMs: h.clock.nowMs() };
}

/**
 * The rule the rebalance must keep: a slot leaves a node that still runs it only for a node whose
 * copy of it already runs (the harness says when a placed or moving copy is up).
 */
function expectStartFirst(h: LeaderHarness, decisions: readonly Decision[], before: Record<string, string>): void {
  let slots = before;
  for (const decision of decisions) {
    for (const [slot, node] of Object.entries(decision.command.slots)) {
      if (slots[slot] === node) continue;
      // The copy on the new node was asked for earlier (moving) and had START_MS to come up.
      const asked = decisions.find((d) => d.atMs < decision.atMs && d.command.moving?.[slot] === node);
      expect(asked, `slot ${slot} moved to ${node} without a start-first copy`).toBeDefined();
      expect(decision.atMs - asked!.atMs).toBeGreaterThanOrEqual(START_MS);
    }
    slots = { ...decision.command.slots };
  }
}

describe('rebalance (constellation.rebalance: "true")', () => {
  it('moves replicas back onto a healed node start-first, one at a time, until the spread is even again', async () => {
    const { h, healedAtMs } = await cutAndHeal(rebalancing(6));
    const before = h.slots('app', 'web');
    await h.advance(HEARTBEAT_MS * 2);
    // The first step only asks n3 for a second copy: nothing has left n1 or n2 yet.
    const first = h.decisionsAfter(healedAtMs)[0];
    expect(first?.command.moving).toBeDefined();
    expect(Object.values(first!.command.moving!)).toEqual(['n3']);
    expect(first!.command.slots).toEqual(before);
    await h.advance(20_000);
    expect(h.spread('app', 'web')).toEqual({ n1: 2, n2: 2, n3: 2 });
    expect(h.state.view().placements['app']!['web']!.moving).toBeUndefined();
    const steps = h.decisionsAfter(healedAtMs);
    expectStartFirst(h, steps, before);
    // parallelism 1: never two moves in flight at once.
    for (const step of steps) expect(Object.keys(step.command.moving ?? {}).length).toBeLessThanOrEqual(1);
    // Only the two slots that had left n3 came back; the others kept their nodes throughout.
    const after = h.slots('app', 'web');
    expect(Object.entries(after).filter(([slot, node]) => before[slot] !== node)).toHaveLength(2);
    // Settled: nothing more moves.
    const settled = h.clock.nowMs();
    await h.advance(20_000);
    expect(h.decisionsAfter(settled)).toEqual([]);
  });

  it('with update_config.parallelism 0 moves every slot it needs at once', async () => {
    const { h, healedAtMs } = await cutAndHeal(rebalancing(6, 0));
    await h.advance(HEARTBEAT_MS * 2);
    expect(Object.keys(h.decisionsAfter(healedAtMs)[0]!.command.moving ?? {})).toHaveLength(2);
    await h.advance(10_000);
    expect(h.spread('app', 'web')).toEqual({ n1: 2, n2: 2, n3: 2 });
  });

  it('keeps the old copy when the new one never comes up, and gives the move up after the timeout', async () => {
    const { h, healedAtMs } = await cutAndHeal(rebalancing(6));
    const before = h.slots('app', 'web');
    h.broken.add('n3');
    await h.advance(REBALANCE_TIMEOUT_MS + 4000);
    const steps = h.decisionsAfter(healedAtMs);
    // Asked, then given up on: the slots never left n1 or n2.
    expect(steps.length).toBeGreaterThanOrEqual(2);
    for (const step of steps) expect(step.command.slots).toEqual(before);
    expect(steps[1]!.command.moving).toBeUndefined();
    expect(steps[1]!.atMs - steps[0]!.atMs).toBeGreaterThan(REBALANCE_TIMEOUT_MS);
    // Once the node works again, the move is tried again and completes.
    h.broken.delete('n3');
    await h.advance(20_000);
    expect(h.spread('app', 'web')).toEqual({ n1: 2, n2: 2, n3: 2 });
  });

  it('abandons a move whose target goes down, without touching the running copy', async () => {
    const { h, healedAtMs } = await cutAndHeal(rebalancing(6));
    const before = h.slots('app', 'web');
    await h.advance(HEARTBEAT_MS * 2);
    expect(h.decisionsAfter(healedAtMs)[0]?.command.moving).toBeDefined();
    h.silence('n3');
    await h.advance(DOWN_AFTER_MS + HEARTBEAT_MS * 4);
    expect(h.slots('app', 'web')).toEqual(before);
    expect(h.state.view().placements['app']!['web']!.moving).toBeUndefined();
  });

  it('leaves an odd replica where it is (no ping-pong between equally good nodes)', async () => {
    const h = (harness = new LeaderHarness(['n1', 'n2', 'n3']));
    h.deploy('app', [rebalancing(7)]);
    await h.advance(HEARTBEAT_MS * 2 + START_MS);
    const since = h.clock.nowMs();
    await h.advance(30_000);
    expect(h.decisionsAfter(since)).toEqual([]);
  });

  it('moves nothing back by default, nor for an at-most-once service that asks for it', async () => {
    for (const spec of [service('web', { replicas: 6 }), labelled(rebalancing(6), { 'constellation.delivery': 'at-most-once' })]) {
      harness?.stop();
      const { h } = await cutAndHeal(spec);
      const moved = h.slots('app', 'web');
      await h.advance(20_000);
      expect(h.slots('app', 'web')).toEqual(moved);
    }
  });
});

describe('start-first moves in the log and on the agent', () => {
  const state = (spec: ServiceSpec): ClusterState => {
    const s = new ClusterState();
    let index = 0;
    const apply = (command: Parameters<ClusterState['apply']>[1]['command']) => s.apply(++index, { clientId: 't', seq: index, command });
    for (const id of ['n1', 'n2']) apply({ type: 'register-node', node: { id, address: `${id}:1`, labels: {}, role: 'manager', availability: 'active' } });
    apply({ type: 'deploy-stack', stack: { name: 'app', services: [spec] }, specHash: 'h', atMs: 0 });
    return s;
  };

  it('the target node runs the moving slot beside the node that still has it', () => {
    const s = state(rebalancing(2));
    expect(s.apply(10, { clientId: 't', seq: 10, command: { type: 'place-service', stack: 'app', service: 'web', stackVersion: 1, slots: { '1': 'n1', '2': 'n1' }, moving: { '2': 'n2' } } }).ok).toBe(true);
    expect(desiredServices(s.view(), 'n1')[0]?.slots).toEqual([1, 2]);
    expect(desiredServices(s.view(), 'n2')[0]?.slots).toEqual([2]);
    // Completing the move: slot 2 on n2, n1 no longer runs it, the slot gets a new fencing token.
    expect(s.apply(11, { clientId: 't', seq: 11, command: { type: 'place-service', stack: 'app', service: 'web', stackVersion: 1, slots: { '1': 'n1', '2': 'n2' } } }).ok).toBe(true);
    expect(desiredServices(s.view(), 'n1')[0]?.slots).toEqual([1]);
    expect(s.view().placements['app']!['web']!.tokens).toEqual({ '1': 10, '2': 11 });
  });

  it('refuses a start-first move of an at-most-once service, of an unplaced slot, or onto its own node', () => {
    const once = state(labelled(rebalancing(2), { 'constellation.delivery': 'at-most-once' }));
    expect(once.apply(10, { clientId: 't', seq: 10, command: { type: 'place-service', stack: 'app', service: 'web', stackVersion: 1, slots: { '1': 'n1', '2': 'n1' }, moving: { '2': 'n2' } } })).toMatchObject({ ok: false, code: 'invalid_placement' });
    const s = state(rebalancing(2));
    expect(s.apply(10, { clientId: 't', seq: 10, command: { type: 'place-service', stack: 'app', service: 'web', stackVersion: 1, slots: { '1': 'n1' }, moving: { '2': 'n2' } } })).toMatchObject({ ok: false, code: 'invalid_placement' });
    expect(s.apply(11, { clientId: 't', seq: 11, command: { type: 'place-service', stack: 'app', service: 'web', stackVersion: 1, slots: { '1': 'n1' }, moving: { '1': 'n1' } } })).toMatchObject({ ok: false, code: 'invalid_placement' });
    expect(s.apply(12, { clientId: 't', seq: 12, command: { type: 'place-service', stack: 'app', service: 'web', stackVersion: 1, slots: { '1': 'n1' }, moving: { '1': 'n9' } } })).toMatchObject({ ok: false, code: 'node_not_found' });
  });
});
