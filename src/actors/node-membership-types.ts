import type { NodeAvailability, NodeChange, NodeStatus } from '../machines/node-types.ts';

/** What membership needs of a node record (the lead's NodeRecord carries more). */
export interface MembershipRecord {
  readonly id: string;
  readonly availability?: NodeAvailability;
}

/** What the leader can read about one node at any moment. */
export interface NodeView {
  readonly nodeId: string;
  readonly status: NodeStatus;
  readonly availability: NodeAvailability;
  readonly heartbeats: number;
  /** The last heartbeat's status report (container status is soft state, never in the log). */
  readonly lastReport: unknown;
}

/**
 * What membership tells its listeners. Status and availability changes come from the node
 * machines; `node.removed` when a record disappears; `node.crashed` / `shard.crashed` when a bug
 * threw inside a machine (it is respawned as `unknown`, see node-membership.ts).
 */
export type MembershipEvent =
  | (NodeChange & { readonly atMs: number })
  | { readonly type: 'node.removed'; readonly nodeId: string; readonly atMs: number }
  | { readonly type: 'node.crashed'; readonly nodeId: string; readonly error: string; readonly atMs: number }
  | { readonly type: 'shard.crashed'; readonly shard: number; readonly error: string; readonly atMs: number };

/** Between a shard and its parent. */
export type ShardEvent =
  | { readonly type: 'SYNC'; readonly records: readonly MembershipRecord[] }
  | { readonly type: 'respawn'; readonly nodeId: string }
  | { readonly type: `xstate.done.actor.${string}`; readonly output: unknown; readonly actorId: string }
  | { readonly type: `xstate.error.actor.${string}`; readonly error: unknown; readonly actorId: string }
  | NodeChange;

export type ShardReport = NodeChange | { readonly type: 'node.removed'; readonly nodeId: string } | { readonly type: 'node.crashed'; readonly nodeId: string; readonly error: string };

export interface ShardInput {
  readonly index: number;
  readonly records: readonly MembershipRecord[];
  /** How this shard's first nodes start: `unknown` when a new leader (or a respawned shard) takes them over. */
  readonly startAs: 'joining' | 'unknown';
}
