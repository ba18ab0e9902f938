/**
 * The scheduler's own view of the cluster: what it reads (a snapshot) and what it decides (a plan).
 * These types are the scheduler's contract, kept apart from src/cluster so the state model can
 * change without touching placement logic; the leader's reconciler maps its records onto them.
 */
import type { PlaceServiceCommand } from '../cluster/commands.ts';
import type { StackSpec } from '../compose/types.ts';

/** Only `active` nodes take new replicas; `pause` keeps what it runs; `drain` has its replicas moved away. */
export type NodeAvailability = 'active' | 'pause' | 'drain';

/**
 * The node machine's state. Only `ready` nodes take new replicas. A replica on a `down` node stays
 * put unless the plan is asked to replace it (`replaceOnDown`); `left` means the node will not
 * come back, so its replicas are placed elsewhere, as if its record were gone.
 */
export type NodeStatus = 'joining' | 'ready' | 'suspect' | 'down' | 'left';

export interface SchedulerNode {
  readonly id: string;
  readonly hostname: string;
  readonly role: 'manager' | 'worker';
  readonly availability: NodeAvailability;
  readonly status: NodeStatus;
  readonly labels: Readonly<Record<string, string>>;
  readonly platform: { readonly os: string; readonly arch: string };
  /** What the node offers in total; reservations of everything placed on it are taken from this. */
  readonly capacity: { readonly nanoCpus: number; readonly memoryBytes: number };
}

export interface SchedulerStack {
  readonly name: string;
  /** The stack version a decision is made for (the `place-service` command carries it). */
  readonly version: number;
  readonly spec: StackSpec;
}

/** One service's current placement: replica slot (positive integer, decimal) → node id. */
export interface SchedulerPlacement {
  readonly stackVersion: number;
  readonly slots: Readonly<Record<string, string>>;
  /** Start-first moves in flight (slot → the node starting a second copy); the plan leaves them be. */
  readonly moving?: Readonly<Record<string, string>>;
}

export interface SchedulerSnapshot {
  readonly nodes: readonly SchedulerNode[];
  readonly stacks: readonly SchedulerStack[];
  /** stack name → service name → placement, as the log holds it. */
  readonly placements: Readonly<Record<string, Readonly<Record<string, SchedulerPlacement>>>>;
}

export interface PlanOptions {
  /**
   * Move replicas off nodes whose status is `down`: all of them (`true`), or those of the services
   * the predicate allows on that node. Off by default: a down node may only be cut off and still
   * run its replicas, so replacing them is the failover policy's call
   * (src/orchestrator/failover), not a side effect of every planning pass. The predicate must be
   * a pure function of the caller's snapshot for the plan to stay one.
   */
  readonly replaceOnDown?: boolean | ((stack: string, service: string, nodeId: string) => boolean);
}

/** The filters, in the order they run. Each can tell why it rejects a node. */
export type FilterName = 'availability' | 'status' | 'constraint' | 'max-replicas-per-node' | 'resources' | 'ports';

export interface Rejection {
  readonly nodeId: string;
  readonly filter: FilterName;
  readonly message: string;
}

/**
 * A replica that fits nowhere. Replicated services name the slot that stays empty; a global
 * service's replica belongs to one node, so it names that node instead (it has no slot until it
 * runs). `reasons` holds every filter that rejects every node; the pending replicas of one service
 * share one list, since they are rejected alike.
 */
export interface PendingReplica {
  readonly stack: string;
  readonly service: string;
  readonly slot?: number;
  readonly node?: string;
  readonly reasons: readonly Rejection[];
}

export interface Plan {
  /** One command per service whose placement changes, in a deterministic order (stack, service). */
  readonly commands: readonly PlaceServiceCommand[];
  readonly pending: readonly PendingReplica[];
}
