import { emptyDictionary } from '../../cluster/dictionary.ts';
import type { PlacementRecord } from '../../cluster/placements.ts';
import type { ClusterStateData, StackRecord } from '../../cluster/state.ts';
import { rolloutFinished, type RolloutRecord, type StackVersionRecord } from '../../cluster/rollout-records.ts';
import type { WorkerPlacement, WorkerStack } from './session-protocol.ts';

interface IndexedStack {
  readonly record: StackRecord;
  readonly rollout: RolloutRecord | undefined;
  readonly history: readonly StackVersionRecord[] | undefined;
  readonly placements: ReadonlyMap<string, PlacementRecord>;
  /** node id → what of this stack the node runs, with the signature it was built from. */
  readonly byNode: ReadonlyMap<string, { readonly stack: WorkerStack; readonly signature: string }>;
}

export interface AssignmentChange {
  readonly nodeId: string;
  /** Stacks the node now runs something of and that differ from before (new or changed). */
  readonly upsert: readonly WorkerStack[];
  /** Stacks the node no longer runs anything of. */
  readonly remove: readonly string[];
}

/**
 * Per node, what the worker session must send it: every stack with a replica placed on the node,
 * its spec narrowed to those services. Kept incrementally, so the manager's work per state change
 * is proportional to what changed, not to the number of workers: the replicated state replaces a
 * stack record on every deploy and a placement record on every change of it (src/cluster), so a
 * stack whose record and placement records are the same objects as last time is skipped without
 * looking inside, and only the nodes a changed stack touched (before or after) are reported.
 */
export class AssignmentIndex {
  private readonly stacks = new Map<string, IndexedStack>();
  private readonly nodes = new Map<string, Map<string, WorkerStack>>();

  /** Re-indexes what changed since the last call; returns one change per node whose assignment differs. */
  update(state: Readonly<ClusterStateData>): AssignmentChange[] {
    const changes = new Map<string, { upsert: WorkerStack[]; remove: string[] }>();
    const changeOf = (nodeId: string): { upsert: WorkerStack[]; remove: string[] } => {
      let change = changes.get(nodeId);
      if (!change) changes.set(nodeId, (change = { upsert: [], remove: [] }));
      return change;
    };
    for (const [name, indexed] of this.stacks) {
      if (Object.hasOwn(state.stacks, name)) continue;
      this.stacks.delete(name);
      for (const nodeId of indexed.byNode.keys()) {
        this.nodes.get(nodeId)?.delete(name);
        changeOf(nodeId).remove.push(name);
      }
    }
    for (const record of Object.values(state.stacks)) {
      const previous = this.stacks.get(record.name);
      const placements = state.placements[record.name];
      const rollout = state.rollouts?.[record.name];
      const history = state.history?.[record.name];
      // Rollout progress and history are replaced on every change, like records (src/cluster/state.ts).
      if (previous && previous.record === record && previous.rollout === rollout && previous.history === history && samePlacements(previous.placements, placements)) continue;
      const next = indexStack(record, placements, previous, rollout, history);
      this.stacks.set(record.name, next);
      for (const [nodeId, entry] of next.byNode) {
        if (previous?.byNode.get(nodeId)?.stack === entry.stack) continue;
        let held = this.nodes.get(nodeId);
        if (!held) this.nodes.set(nodeId, (held = new Map()));
        held.set(record.name, entry.stack);
        changeOf(nodeId).upsert.push(entry.stack);
      }
      for (const nodeId of previous?.byNode.keys() ?? []) {
        if (next.byNode.has(nodeId)) continue;
        this.nodes.get(nodeId)?.delete(record.name);
        changeOf(nodeId).remove.push(record.name);
      }
    }
    for (const [nodeId, held] of this.nodes) if (held.size === 0) this.nodes.delete(nodeId);
    return [...changes].map(([nodeId, change]) => ({ nodeId, ...change }));
  }

  /** Everything the node runs, by stack name (what a session sends in full when it opens). */
  assignmentOf(nodeId: string): readonly WorkerStack[] {
    return [...(this.nodes.get(nodeId)?.values() ?? [])];
  }
}

function samePlacements(known: ReadonlyMap<string, PlacementRecord>, current: Readonly<Record<string, PlacementRecord>> | undefined): boolean {
  const entries = current ? Object.entries(current) : [];
  if (entries.length !== known.size) return false;
  for (const [service, record] of entries) if (known.get(service) !== record) return false;
  return true;
}

function indexStack(record: StackRecord, placements: Readonly<Record<string, PlacementRecord>> | undefined, previous: IndexedStack | undefined, rollout: RolloutRecord | undefined, history: readonly StackVersionRecord[] | undefined): IndexedStack {
  const perNode = new Map<string, Map<string, { stackVersion: number; version: number; slots: Record<string, string> }>>();
  const known = new Map<string, PlacementRecord>();
  for (const [service, placement] of Object.entries(placements ?? {})) {
    known.set(service, placement);
    // A start-first move (rebalance) runs the slot on its target too: to that worker it is simply
    // one of its slots, and stays one when the move completes.
    for (const [slot, nodeId] of [...Object.entries(placement.slots), ...Object.entries(placement.moving ?? {})]) {
      let services = perNode.get(nodeId);
      if (!services) perNode.set(nodeId, (services = new Map()));
      let entry = services.get(service);
      if (!entry) services.set(service, (entry = { stackVersion: placement.stackVersion, version: placement.version, slots: {} }));
      entry.slots[slot] = nodeId;
    }
  }
  const byNode = new Map<string, { stack: WorkerStack; signature: string }>();
  for (const [nodeId, services] of perNode) {
    // What the worker acts on: the stack's version and spec of its services, and its own slots.
    // A placement's own version is left out: it moves when another node's slots change.
    const names = [...services.keys()].sort();
    const rolling = rolloutFor(rollout, history, names);
    const signature = `${record.version}|${record.specHash}|${names.map((name) => `${name}@${services.get(name)!.stackVersion}:${Object.keys(services.get(name)!.slots).join(',')}`).join(';')}|${rolling ? JSON.stringify(rolling) : ''}`;
    const old = previous?.byNode.get(nodeId);
    if (old && old.signature === signature) {
      byNode.set(nodeId, old);
      continue;
    }
    const wanted = new Set(names);
    const workerPlacements = emptyDictionary<WorkerPlacement>();
    for (const name of names) workerPlacements[name] = services.get(name)!;
    byNode.set(nodeId, {
      signature,
      stack: {
        name: record.name,
        version: record.version,
        specHash: record.specHash,
        updatedAtMs: record.updatedAtMs,
        spec: { ...record.spec, services: record.spec.services.filter((service) => wanted.has(service.name)) },
        placements: workerPlacements,
        ...(rolling ?? {}),
      },
    });
  }
  return { record, rollout, history, placements: known, byNode };
}

/**
 * The part of a stack's rollout that concerns these services, with the older versions of them it
 * names (each narrowed to these services): what the worker's agent needs to run each slot's version.
 */
function rolloutFor(rollout: RolloutRecord | undefined, history: readonly StackVersionRecord[] | undefined, names: readonly string[]): { rollout: RolloutRecord; history: StackVersionRecord[] } | undefined {
  if (!rollout) return undefined;
  const services = emptyDictionary<RolloutRecord['services'][string]>();
  const versions = new Set<number>();
  for (const name of names) {
    const part = rollout.services[name];
    if (!part || rolloutFinished(part)) continue;
    services[name] = part;
    for (const version of Object.values(part.from)) versions.add(version);
  }
  if (Object.keys(services).length === 0) return undefined;
  const wanted = new Set(names);
  const older = (history ?? []).filter((entry) => versions.has(entry.version)).map((entry) => ({ ...entry, spec: { ...entry.spec, services: entry.spec.services.filter((spec) => wanted.has(spec.name)) } }));
  return { rollout: { ...rollout, services }, history: older };
}
