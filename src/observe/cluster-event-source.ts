import type { Logger } from 'pino';
import type { ContainerView } from '../actors/agent-types.ts';
import type { LinkView } from '../machines/vpn-link-types.ts';
import type { ClusterStateData } from '../cluster/state.ts';
import { diffClusterViews, type ClusterViewSnapshot, type ReplicaView, type RolloutView, type VpnLinkLook } from './cluster-view-diff.ts';
import type { EventLog } from './event-log.ts';

/** A node as the event source sees it (the API's NodeView has these and more). */
export interface NodeLook {
  readonly id: string;
  readonly status: string;
  readonly availability: string;
  readonly role: string;
}

/**
 * Where the source looks. The same on one node and in a cluster: desired state from the store
 * (the replicated log in a cluster, so every manager sees every deploy and placement), what runs
 * from the agent view (in a cluster the status board every manager holds: all nodes' replicas),
 * nodes and leader from the cluster services (a single node is its own ready leader).
 */
export interface ClusterViewInputs {
  readonly localNodeId: string;
  /** In a cluster placements come from the log; a single node runs every slot itself. */
  readonly clustered: boolean;
  state(): Readonly<ClusterStateData>;
  containers(): readonly (ContainerView & { readonly node?: string })[];
  nodes(): readonly NodeLook[];
  leader(): string | undefined;
  /** This node's VPN group links (the agent's). */
  vpnLinks?(): readonly LinkView[];
  /** Change notifications that make the source look now rather than at its next poll. */
  readonly changes: readonly ((listener: () => void) => () => void)[];
}

export interface ClusterEventSourceOptions {
  readonly inputs: ClusterViewInputs;
  readonly log: EventLog;
  readonly logger: Logger;
  /** Looks at least this often: heartbeats and node liveness change without notifications. */
  readonly pollIntervalMs?: number;
}

/**
 * Turns what the daemon already knows into typed cluster events: each look builds a snapshot of
 * desired and observed state and appends the difference to the log. Looks are coalesced (one per
 * turn of the event loop however many notifications arrive) and also happen on a timer.
 */
export class ClusterEventSource {
  private previous: ClusterViewSnapshot | undefined;
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribes: (() => void)[] = [];

  constructor(private readonly options: ClusterEventSourceOptions) {}

  start(): void {
    // The first look is the baseline: what already exists at start is state, not news.
    this.previous = this.look();
    this.unsubscribes = this.options.inputs.changes.map((subscribe) => subscribe(() => this.trigger()));
    this.timer = setInterval(() => this.trigger(), this.options.pollIntervalMs ?? 500);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const unsubscribe of this.unsubscribes) unsubscribe();
    this.unsubscribes = [];
  }

  /** Look soon (after the current turn, so a burst of notifications costs one look). */
  trigger(): void {
    if (this.scheduled || !this.previous) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.lookNow();
    });
  }

  /** Looks immediately; tests and the benchmark call it to avoid waiting for a timer. */
  lookNow(): void {
    if (!this.previous) return;
    try {
      const next = this.look();
      for (const event of diffClusterViews(this.previous, next)) this.options.log.append(event);
      this.previous = next;
    } catch (error) {
      // An event source must never take the daemon down; the next look tries again.
      this.options.logger.error({ err: error }, 'cluster event source failed to look');
    }
  }

  private look(): ClusterViewSnapshot {
    const { inputs } = this.options;
    const state = inputs.state();
    const stacks: Record<string, ClusterViewSnapshot['stacks'][string]> = {};
    const placements: Record<string, string> = {};
    for (const stack of Object.values(state.stacks)) {
      stacks[stack.name] = { version: stack.version, specHash: stack.specHash, services: stack.spec.services.map((service) => service.name) };
      if (inputs.clustered) continue;
      for (const service of stack.spec.services) {
        const slots = service.deploy.mode === 'global' ? 1 : service.deploy.replicas;
        for (let slot = 1; slot <= slots; slot++) placements[`${stack.name}/${service.name}/${slot}`] = inputs.localNodeId;
      }
    }
    if (inputs.clustered) {
      for (const [stackName, services] of Object.entries(state.placements)) {
        for (const [serviceName, record] of Object.entries(services)) {
          for (const [slot, node] of Object.entries(record.slots)) placements[`${stackName}/${serviceName}/${slot}`] = node;
        }
      }
    }
    const replicas: Record<string, ReplicaView> = {};
    for (const container of inputs.containers()) {
      const node = container.node ?? inputs.localNodeId;
      replicas[`${node}/${container.name}`] = {
        stack: container.stack,
        service: container.service,
        slot: container.slot,
        node,
        name: container.name,
        state: container.state,
        health: container.health,
        restarts: container.restarts,
        ...(container.containerId ? { containerId: container.containerId } : {}),
        ...(container.exitCode !== undefined ? { exitCode: container.exitCode } : {}),
        ...(container.message ? { message: container.message } : {}),
      };
    }
    const nodes: Record<string, ClusterViewSnapshot['nodes'][string]> = {};
    for (const node of inputs.nodes()) nodes[node.id] = { status: node.status, availability: node.availability, role: node.role };
    const rollouts: Record<string, RolloutView> = {};
    for (const [stackName, rollout] of Object.entries(state.rollouts ?? {})) {
      for (const [serviceName, part] of Object.entries(rollout.services)) {
        const progress = part.progress;
        const back = progress?.phase === 'rolling-back';
        rollouts[`${stackName}/${serviceName}`] = {
          stack: stackName,
          service: serviceName,
          version: rollout.id,
          kind: rollout.kind,
          phase: progress?.phase ?? 'pending',
          ...(progress?.step ? { step: progress.step } : {}),
          batch: (back ? progress.rollbackBatch : progress?.batch ?? 0) + 1,
          batches: back ? progress.rollbackBatches.length : progress?.batches.length ?? 0,
          ...(progress?.reason ? { reason: progress.reason } : {}),
        };
      }
    }
    const vpnLinks: Record<string, VpnLinkLook> = {};
    for (const link of inputs.vpnLinks?.() ?? []) {
      const node = inputs.localNodeId;
      vpnLinks[`${node}/${link.link}`] = {
        stack: link.stack, vpn: link.vpn, slot: link.slot, node, link: link.link, state: link.state, detail: link.detail, recoveries: link.recoveries,
        ...(link.lastRecoverySeconds !== undefined ? { lastRecoverySeconds: link.lastRecoverySeconds } : {}),
      };
    }
    return { stacks, placements, replicas, nodes, leader: inputs.leader(), rollouts, vpnLinks };
  }
}
