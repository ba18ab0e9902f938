/**
 * Typed cluster events (`GET /v1/events`, `constellation events`). Every event has the index the
 * log gave it (monotonic per daemon process), its type, when it was seen (wall clock, ms) and,
 * where they apply, the stack, service and node it is about — the fields the filters match.
 */
export type ClusterEventBody =
  | { readonly type: 'deploy.accepted'; readonly stack: string; readonly version: number; readonly specHash: string; readonly services: readonly string[] }
  | { readonly type: 'stack.removed'; readonly stack: string }
  | { readonly type: 'replica.scheduled'; readonly stack: string; readonly service: string; readonly slot: number; readonly node: string; readonly previousNode?: string }
  | ({ readonly type: 'replica.started' | 'replica.healthy' | 'replica.unhealthy' | 'replica.removed' } & ReplicaFields)
  | ({ readonly type: 'replica.exited'; readonly exitCode?: number; readonly message?: string } & ReplicaFields)
  | ({ readonly type: 'replica.restarted'; readonly restarts: number } & ReplicaFields)
  | ({ readonly type: 'replica.failed'; readonly message?: string } & ReplicaFields)
  | { readonly type: 'node.joined'; readonly node: string; readonly role: string }
  | { readonly type: 'node.removed'; readonly node: string }
  | { readonly type: 'node.status'; readonly node: string; readonly from: string; readonly to: string }
  | { readonly type: 'node.availability'; readonly node: string; readonly from: string; readonly to: string }
  | { readonly type: 'leader.changed'; readonly from?: string; readonly to?: string }
  | FailoverFields
  | ({ readonly type: 'rollout.started' | 'rollout.batch' | 'rollout.paused' | 'rollout.rolling-back' | 'rollout.completed' | 'rollout.rolled-back' | 'rollout.failed' } & RolloutFields)
  /** A VPN group slot's link changed state (service is the VPN service X). */
  | ({ readonly type: 'vpn.up' | 'vpn.down' | 'vpn.recovering' | 'vpn.starting'; readonly from?: string; readonly detail: string } & VpnLinkFields)
  /** A link recovered: every dependent runs in X's current namespace again, `seconds` after X was seen down or changed. */
  | ({ readonly type: 'vpn.recovered'; readonly seconds: number; readonly recoveries: number } & VpnLinkFields);

interface VpnLinkFields {
  readonly stack: string;
  /** The VPN service X. */
  readonly service: string;
  readonly slot: number;
  readonly node: string;
  /** X's container name, the link's id. */
  readonly link: string;
}

/**
 * The leader moved one service's replicas off a down node (src/orchestrator/failover): `node` is
 * the down node, `moved` maps each slot to where it went, `seconds` runs from the last heartbeat
 * the leader heard of the node to the committed placement. Seen on the leader that decided it.
 */
interface FailoverFields {
  readonly type: 'failover';
  readonly node: string;
  readonly cause: string;
  readonly stack: string;
  readonly service: string;
  readonly moved: Readonly<Record<string, string>>;
  readonly replicas: number;
  readonly seconds: number;
}

/** One service's rollout step (see src/machines/rollout.ts); also what the event source compares. */
export interface RolloutFields {
  readonly stack: string;
  readonly service: string;
  /** The stack version being rolled out. */
  readonly version: number;
  readonly kind: 'update' | 'rollback';
  readonly phase: string;
  readonly step?: string;
  /** 1-based batch of `batches` (of the rollback while rolling back). */
  readonly batch: number;
  readonly batches: number;
  readonly reason?: string;
}

interface ReplicaFields {
  readonly stack: string;
  readonly service: string;
  readonly slot: number;
  readonly node: string;
  readonly container: string;
  readonly containerId?: string;
}

export type ClusterEventType = ClusterEventBody['type'];

export type ClusterEvent = ClusterEventBody & { readonly index: number; readonly atMs: number };

export const clusterEventTypes: readonly ClusterEventType[] = [
  'deploy.accepted', 'stack.removed', 'replica.scheduled', 'replica.started', 'replica.healthy', 'replica.unhealthy',
  'replica.exited', 'replica.restarted', 'replica.failed', 'replica.removed', 'node.joined', 'node.removed', 'node.status',
  'node.availability', 'leader.changed', 'failover', 'rollout.started', 'rollout.batch', 'rollout.paused', 'rollout.rolling-back',
  'rollout.completed', 'rollout.rolled-back', 'rollout.failed', 'vpn.starting', 'vpn.up', 'vpn.down', 'vpn.recovering', 'vpn.recovered',
];
