import type { NodeRecord } from '../../cluster/commands.ts';
import type { ClusterStateData } from '../../cluster/state.ts';
import type { NodeStatus, SchedulerNode, SchedulerSnapshot } from '../../scheduler/types.ts';

/** What a record written before the cluster existed (or by an older node) is taken to offer. */
const unknownPlatform = { os: 'linux', arch: 'unknown' };
const unknownCapacity = { nanoCpus: 0, memoryBytes: 0 };

/** A node record as the scheduler reads it; `status` is the leader's soft state from heartbeats. */
export function schedulerNode(record: NodeRecord, status: NodeStatus): SchedulerNode {
  return {
    id: record.id,
    hostname: record.hostname ?? record.id,
    role: record.role ?? 'manager',
    availability: record.availability ?? 'active',
    status,
    labels: record.labels,
    platform: record.platform ?? unknownPlatform,
    capacity: record.capacity ?? unknownCapacity,
  };
}

/** The scheduler's input, read off the replicated state: a pure mapping, so a plan is a pure function of it. */
export function schedulerSnapshot(state: Readonly<ClusterStateData>, statusOf: (nodeId: string) => NodeStatus): SchedulerSnapshot {
  return {
    nodes: Object.values(state.nodes).map((record) => schedulerNode(record, statusOf(record.id))),
    stacks: Object.values(state.stacks).map((stack) => ({ name: stack.name, version: stack.version, spec: stack.spec })),
    placements: state.placements,
  };
}
