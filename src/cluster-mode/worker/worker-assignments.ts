import { dictionaryOf, emptyDictionary } from '../../cluster/dictionary.ts';
import type { PlacementRecord, PlacementTable } from '../../cluster/placements.ts';
import { emptyClusterState, type ClusterStateData, type StackRecord } from '../../cluster/state.ts';
import type { RolloutRecord, StackVersionRecord } from '../../cluster/rollout-records.ts';
import type { ManagerFrame, WorkerStack } from './session-protocol.ts';

/**
 * What a worker runs, as the session delivered it: stacks by name. Pure; the worker's store
 * persists it and hands its state view to the node agent, which runs the slots placed here exactly
 * as a manager's agent does (the view has the same shape as the replicated state, narrowed).
 */
export class WorkerAssignments {
  private stacks = new Map<string, WorkerStack>();

  constructor(initial: readonly WorkerStack[] = []) {
    for (const stack of initial) this.stacks.set(stack.name, stack);
  }

  /** Applies an `assign` frame; returns whether anything changed. */
  apply(frame: Extract<ManagerFrame, { t: 'assign' }>): boolean {
    const before = this.stacks;
    const next = frame.full ? new Map<string, WorkerStack>() : new Map(before);
    for (const name of frame.remove) next.delete(name);
    for (const stack of frame.upsert) next.set(stack.name, stack);
    this.stacks = next;
    if (next.size !== before.size) return true;
    for (const [name, stack] of next) if (JSON.stringify(before.get(name)) !== JSON.stringify(stack)) return true;
    return false;
  }

  list(): WorkerStack[] {
    return [...this.stacks.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The agent's view: the replicated state's shape holding only this worker's stacks and slots. */
  view(): ClusterStateData {
    const state = emptyClusterState();
    const stacks = emptyDictionary<StackRecord>();
    const placements: PlacementTable = emptyDictionary();
    const rollouts = emptyDictionary<RolloutRecord>();
    const history = emptyDictionary<StackVersionRecord[]>();
    for (const stack of this.stacks.values()) {
      // A rollout under way: the worker runs each slot's version as the manager's state says.
      if (stack.rollout) rollouts[stack.name] = { ...stack.rollout, services: dictionaryOf(stack.rollout.services) };
      if (stack.history) history[stack.name] = [...stack.history];
      stacks[stack.name] = { name: stack.name, version: stack.version, specHash: stack.specHash, spec: stack.spec, updatedAtMs: stack.updatedAtMs };
      placements[stack.name] = dictionaryOf(
        Object.fromEntries(Object.entries(stack.placements).map(([service, placement]): [string, PlacementRecord] => [service, { stack: stack.name, service, ...placement }])),
      );
    }
    return { ...state, stacks, placements, rollouts, history };
  }
}
