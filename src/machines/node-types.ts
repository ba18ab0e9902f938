import type { NodeTiming } from './node-timing.ts';

/**
 * Types of the node machine (one per known cluster node, run by the leader). Liveness and
 * availability are independent: a drained node is still heartbeating, a paused node can go down.
 *
 *   joining  the node record exists, the node has not been heard yet (it is joining)
 *   unknown  the leader is new and has not heard the node yet (rebuilt within one grace)
 *   ready    heard within `suspectAfterMs`
 *   suspect  silent for `suspectAfterMs`: shown, nothing moved yet
 *   down     silent for `downAfterMs` (the grace): its work may be replaced
 *   left     it left the cluster on purpose (final)
 */
export type NodeLiveness = 'joining' | 'unknown' | 'ready' | 'suspect' | 'down';
export type NodeStatus = NodeLiveness | 'left';
/** As Swarm: active takes new work, pause takes none but keeps its own, drain moves its work away. */
export type NodeAvailability = 'active' | 'pause' | 'drain';
export const NODE_AVAILABILITIES: readonly NodeAvailability[] = ['active', 'pause', 'drain'];

export interface NodeMachineInput {
  readonly nodeId: string;
  readonly timing: NodeTiming;
  /**
   * `joining` for a node whose record was just added; `unknown` for every node a new leader
   * inherits (issue 7: a new leader must not reschedule work just because it is new).
   */
  readonly startAs: 'joining' | 'unknown';
  readonly availability?: NodeAvailability;
}

export interface NodeContext {
  readonly nodeId: string;
  readonly timing: NodeTiming;
  readonly startAs: 'joining' | 'unknown';
  status: NodeStatus;
  availability: NodeAvailability;
  /** The last heartbeat's status report, as the node sent it (the machine never looks inside). */
  lastReport: unknown;
  heartbeats: number;
}

export type NodeEvent =
  | { readonly type: 'HEARTBEAT'; readonly report?: unknown }
  /** The join was committed and the node's session is up. */
  | { readonly type: 'JOINED' }
  /** The node leaves on purpose (`node rm`, or it said goodbye). */
  | { readonly type: 'LEAVE' }
  | { readonly type: 'SET_AVAILABILITY'; readonly availability: NodeAvailability };

export type NodeChange =
  | { readonly type: 'node.status'; readonly nodeId: string; readonly status: NodeStatus; readonly previous: NodeStatus | undefined; readonly availability: NodeAvailability }
  | { readonly type: 'node.availability'; readonly nodeId: string; readonly availability: NodeAvailability; readonly previous: NodeAvailability; readonly status: NodeStatus };
