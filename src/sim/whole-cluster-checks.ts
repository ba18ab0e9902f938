/**
 * What the whole-cluster simulator asserts, read from the in-memory engines (what really runs)
 * and the managers' applied state (what was decided):
 * - at every step: no at-most-once replica runs on two nodes at once; no committed deploy is
 *   missing from a manager that has applied past its commit;
 * - after the faults heal: every replica slot placed on exactly one live node, running there and
 *   nowhere else (stale copies stopped), and nothing running that is not placed.
 */
import { parseLabels } from '../agent/labels.ts';
import { deliveryMode } from '../orchestrator/failover/delivery-mode.ts';
import type { NodeId } from '../raft/types.ts';
import type { WholeClusterSim } from './whole-cluster-sim.ts';

export interface CommittedDeploy {
  readonly stack: string;
  /** The applied index of the manager that acknowledged it: any manager past it must hold it. */
  readonly appliedIndex: number;
}

/** "stack/service/slot" → the nodes whose engine runs a container for it. */
export function runningCopies(sim: WholeClusterSim): Map<string, NodeId[]> {
  const copies = new Map<string, NodeId[]>();
  for (const [node, engine] of sim.engines) {
    for (const running of engine.runningLabels()) {
      const labels = parseLabels(running);
      if (!labels) continue;
      const key = `${labels.stack}/${labels.service}/${labels.slot}`;
      copies.set(key, [...(copies.get(key) ?? []), node]);
    }
  }
  return copies;
}

/** The at-most-once services of every stack some manager holds: "stack/service". */
export function atMostOnceServices(sim: WholeClusterSim): Set<string> {
  const found = new Set<string>();
  for (const id of sim.managerIds) {
    const state = sim.manager(id)?.cluster.store.current();
    for (const stack of Object.values(state?.stacks ?? {})) {
      for (const spec of stack.spec.services) if (deliveryMode(spec) === 'at-most-once') found.add(`${stack.name}/${spec.name}`);
    }
  }
  return found;
}

export function safetyViolations(sim: WholeClusterSim, atMostOnce: ReadonlySet<string>, committed: readonly CommittedDeploy[]): string[] {
  const problems: string[] = [];
  for (const [key, nodes] of runningCopies(sim)) {
    const service = key.slice(0, key.lastIndexOf('/'));
    if (atMostOnce.has(service) && nodes.length > 1) problems.push(`at-most-once replica ${key} runs on ${nodes.join(' and ')}`);
  }
  for (const id of sim.managerIds) {
    const daemon = sim.manager(id);
    if (!daemon) continue;
    const applied = daemon.cluster.raft.status().appliedIndex;
    const stacks = daemon.cluster.store.current().stacks;
    for (const deploy of committed) {
      if (applied < deploy.appliedIndex) continue;
      const held = Object.hasOwn(stacks, deploy.stack) ? stacks[deploy.stack] : undefined;
      if (!held) problems.push(`committed deploy of ${deploy.stack} missing on ${id} (applied ${applied} ≥ ${deploy.appliedIndex})`);
    }
  }
  return problems;
}

/** Empty once every replica runs on exactly one live node, the one the leader placed it on. */
export function convergenceProblems(sim: WholeClusterSim): string[] {
  const leader = sim.leader();
  if (!leader) return ['no leader'];
  const state = leader.cluster.store.current();
  const copies = runningCopies(sim);
  const problems: string[] = [];
  const placedKeys = new Set<string>();
  for (const stack of Object.values(state.stacks)) {
    for (const spec of stack.spec.services) {
      const record = state.placements[stack.name]?.[spec.name];
      const slots = Object.entries(record?.slots ?? {});
      if (slots.length !== spec.deploy.replicas) problems.push(`${stack.name}/${spec.name}: ${slots.length} of ${spec.deploy.replicas} placed`);
      for (const [slot, node] of slots) {
        const key = `${stack.name}/${spec.name}/${slot}`;
        placedKeys.add(key);
        const running = copies.get(key) ?? [];
        if (!sim.isUp(node)) problems.push(`${key} placed on ${node}, which is down`);
        if (running.length !== 1 || running[0] !== node) problems.push(`${key} placed on ${node}, running on [${running.join(', ')}]`);
      }
    }
  }
  for (const [key, nodes] of copies) if (!placedKeys.has(key)) problems.push(`${key} runs on [${nodes.join(', ')}] but is not placed`);
  return problems;
}
