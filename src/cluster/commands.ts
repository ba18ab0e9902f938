import type { StackSpec } from '../compose/types.ts';
import type { RolloutProgress } from '../machines/rollout-types.ts';

/**
 * Commands that change cluster state. They are the only way state changes, both through the
 * single-node state store and through the replicated Raft log, and they carry any timestamp
 * they need so applying them stays deterministic.
 */
export type ClusterCommand =
  | { readonly type: 'deploy-stack'; readonly stack: StackSpec; readonly specHash: string; readonly atMs: number }
  | { readonly type: 'remove-stack'; readonly name: string; readonly atMs: number }
  | { readonly type: 'register-node'; readonly node: NodeRecord }
  | { readonly type: 'remove-node'; readonly nodeId: string }
  | UpdateNodeCommand
  | PlaceServiceCommand
  | RollbackStackCommand
  | RolloutProgressCommand
  | { readonly type: 'mark-stable'; readonly stack: string; readonly version: number }
  | { readonly type: 'put'; readonly key: string; readonly value: string }
  | { readonly type: 'delete'; readonly key: string };

/**
 * The leader's decision of where a service's replicas run: replica slot (1-based, as in container
 * names) → node id. `stackVersion` is the stack version the decision was made for, so a decision
 * computed from an older spec (a deposed leader's, a delayed retry) is refused rather than applied.
 */
export interface PlaceServiceCommand {
  readonly type: 'place-service';
  readonly stack: string;
  readonly service: string;
  readonly stackVersion: number;
  readonly slots: Readonly<Record<string, string>>;
  /**
   * Start-first moves in flight (rebalance, src/orchestrator/failover/rebalance.ts): slot → the
   * node that starts a second copy of it while the slot's own node keeps running it. A later
   * command that names the slot on that node completes the move; one without it abandons the move.
   */
  readonly moving?: Readonly<Record<string, string>>;
}

/**
 * Back to an earlier version of a stack's spec, as a new version (versions never go backwards).
 * By hand (API/CLI): the previous stable version, or `toVersion`; the whole stack unless `service`
 * is named. `auto`: the leader reverting one service whose rollout rolled back.
 */
export interface RollbackStackCommand {
  readonly type: 'rollback-stack';
  readonly name: string;
  readonly service?: string;
  readonly toVersion?: number;
  readonly auto?: { readonly rolloutId: number };
  readonly reason?: string;
  readonly atMs: number;
}

/** The leader's rollout machine moved: its progress, committed so a new leader resumes it. */
export interface RolloutProgressCommand {
  readonly type: 'rollout-progress';
  readonly stack: string;
  /** The stack version being rolled out; refused once another rollout replaced it. */
  readonly rolloutId: number;
  readonly service: string;
  readonly progress: RolloutProgress;
  readonly atMs: number;
}

/** A client's request: (clientId, seq) makes a retried write apply once. */
export interface ClientRequest {
  readonly clientId: string;
  readonly seq: number;
  readonly command: ClusterCommand;
}

export type NodeRole = 'manager' | 'worker';
export type NodeAvailability = 'active' | 'pause' | 'drain';

export interface NodeRecord {
  readonly id: string;
  /** Where peers reach the node's cluster port ("host:port"). */
  readonly address: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The fields below are absent in records written before the cluster existed (single node). */
  readonly hostname?: string;
  readonly role?: NodeRole;
  readonly availability?: NodeAvailability;
  readonly platform?: { readonly os: string; readonly arch: string };
  readonly capacity?: { readonly nanoCpus: number; readonly memoryBytes: number };
  readonly joinedAtMs?: number;
}

/** An operator's change to a node: availability (drain moves its replicas away), labels, role. */
export interface UpdateNodeCommand {
  readonly type: 'update-node';
  readonly nodeId: string;
  readonly availability?: NodeAvailability;
  readonly role?: NodeRole;
  readonly labelsAdd?: Readonly<Record<string, string>>;
  readonly labelsRemove?: readonly string[];
}

export type CommandResult =
  | { readonly ok: true; readonly version?: number; readonly previous?: string }
  | { readonly ok: false; readonly code: string; readonly message: string };
