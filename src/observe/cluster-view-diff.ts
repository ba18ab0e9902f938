import type { ClusterEventBody, RolloutFields } from './cluster-event-types.ts';

/** One replica as some node reports it (the agent's ContainerView plus where it runs). */
export interface ReplicaView {
  readonly stack: string;
  readonly service: string;
  readonly slot: number;
  readonly node: string;
  readonly name: string;
  readonly containerId?: string;
  readonly state: string;
  readonly health: string;
  readonly restarts: number;
  readonly exitCode?: number;
  readonly message?: string;
}

/** One service's rollout as committed (`stack/service` keyed): the fields its events carry. */
export type RolloutView = RolloutFields;

/** What the event source compares from one look to the next. */
export interface ClusterViewSnapshot {
  readonly stacks: Readonly<Record<string, { readonly version: number; readonly specHash: string; readonly services: readonly string[] }>>;
  /** `stack/service/slot` → node. */
  readonly placements: Readonly<Record<string, string>>;
  /** `node/container name` → replica. */
  readonly replicas: Readonly<Record<string, ReplicaView>>;
  readonly nodes: Readonly<Record<string, { readonly status: string; readonly availability: string; readonly role: string }>>;
  readonly leader: string | undefined;
  /** `stack/service` → its rollout; absent in looks taken before rollouts existed. */
  readonly rollouts?: Readonly<Record<string, RolloutView>>;
  /** `node/link` → a VPN group slot's link (this node's; absent where nothing reports them). */
  readonly vpnLinks?: Readonly<Record<string, VpnLinkLook>>;
}

/** A VPN group slot's link as the event source compares it. */
export interface VpnLinkLook {
  readonly stack: string;
  readonly vpn: string;
  readonly slot: number;
  readonly node: string;
  readonly link: string;
  readonly state: 'starting' | 'up' | 'down' | 'recovering';
  readonly detail: string;
  readonly recoveries: number;
  readonly lastRecoverySeconds?: number;
}

export const emptyClusterView: ClusterViewSnapshot = { stacks: {}, placements: {}, replicas: {}, nodes: {}, leader: undefined, rollouts: {} };

/** States in which a replica's process has ended (and the container machine decides what next). */
const ended = new Set(['exited', 'backoff', 'failed']);

/**
 * The events between two looks at the cluster, in a stable order: desired state first (deploys,
 * placements), then nodes, then what runs. Level-triggered like the reconcilers: a change that
 * came and went between two looks is not reported, but nothing seen is ever missed or repeated.
 */
export function diffClusterViews(before: ClusterViewSnapshot, after: ClusterViewSnapshot): ClusterEventBody[] {
  const out: ClusterEventBody[] = [];
  if (before.leader !== after.leader) out.push({ type: 'leader.changed', ...(before.leader ? { from: before.leader } : {}), ...(after.leader ? { to: after.leader } : {}) });
  for (const [name, stack] of Object.entries(after.stacks)) {
    const old = before.stacks[name];
    if (!old || old.version !== stack.version) out.push({ type: 'deploy.accepted', stack: name, version: stack.version, specHash: stack.specHash, services: stack.services });
  }
  for (const name of Object.keys(before.stacks)) if (!after.stacks[name]) out.push({ type: 'stack.removed', stack: name });
  for (const [key, node] of Object.entries(after.placements)) {
    const old = before.placements[key];
    if (old === node) continue;
    const [stack = '', service = '', slot = '0'] = key.split('/');
    out.push({ type: 'replica.scheduled', stack, service, slot: Number(slot), node, ...(old ? { previousNode: old } : {}) });
  }
  for (const [key, rollout] of Object.entries(after.rollouts ?? {})) out.push(...rolloutEvents(before.rollouts?.[key], rollout));
  for (const [id, node] of Object.entries(after.nodes)) {
    const old = before.nodes[id];
    if (!old) {
      out.push({ type: 'node.joined', node: id, role: node.role });
      continue;
    }
    if (old.status !== node.status) out.push({ type: 'node.status', node: id, from: old.status, to: node.status });
    if (old.availability !== node.availability) out.push({ type: 'node.availability', node: id, from: old.availability, to: node.availability });
  }
  for (const id of Object.keys(before.nodes)) if (!after.nodes[id]) out.push({ type: 'node.removed', node: id });
  for (const [key, link] of Object.entries(after.vpnLinks ?? {})) out.push(...vpnLinkEvents(before.vpnLinks?.[key], link));
  for (const [key, replica] of Object.entries(after.replicas)) out.push(...replicaEvents(before.replicas[key], replica));
  for (const [key, replica] of Object.entries(before.replicas)) {
    if (!after.replicas[key]) out.push({ type: 'replica.removed', ...replicaFields(replica) });
  }
  return out;
}

const rolloutPhaseEvent: Record<string, ClusterEventBody['type'] | undefined> = {
  paused: 'rollout.paused', 'rolling-back': 'rollout.rolling-back', completed: 'rollout.completed', 'rolled-back': 'rollout.rolled-back', failed: 'rollout.failed',
};

/** A new rollout, each batch it starts, and each phase it enters. */
function rolloutEvents(old: RolloutView | undefined, now: RolloutView): ClusterEventBody[] {
  const fields = { stack: now.stack, service: now.service, version: now.version, kind: now.kind, phase: now.phase, ...(now.step ? { step: now.step } : {}), batch: now.batch, batches: now.batches, ...(now.reason ? { reason: now.reason } : {}) };
  const fresh = !old || old.version !== now.version;
  const out: ClusterEventBody[] = [];
  if (fresh) out.push({ type: 'rollout.started', ...fields });
  const phaseEvent = rolloutPhaseEvent[now.phase];
  if (phaseEvent && (fresh || old.phase !== now.phase)) out.push({ type: phaseEvent as 'rollout.paused', ...fields });
  else if ((now.phase === 'updating' || now.phase === 'rolling-back') && now.step === 'starting' && (fresh || old.batch !== now.batch || old.step !== 'starting' || old.phase !== now.phase)) {
    out.push({ type: 'rollout.batch', ...fields });
  }
  return out;
}

function replicaFields(replica: ReplicaView) {
  return {
    stack: replica.stack,
    service: replica.service,
    slot: replica.slot,
    node: replica.node,
    container: replica.name,
    ...(replica.containerId ? { containerId: replica.containerId } : {}),
  };
}

function replicaEvents(old: ReplicaView | undefined, now: ReplicaView): ClusterEventBody[] {
  const out: ClusterEventBody[] = [];
  const fields = replicaFields(now);
  if (old && now.restarts > old.restarts) out.push({ type: 'replica.restarted', ...fields, restarts: now.restarts });
  if (now.state !== old?.state) {
    if (now.state === 'running') out.push({ type: 'replica.started', ...fields });
    else if (now.state === 'failed') out.push({ type: 'replica.failed', ...fields, ...(now.message ? { message: now.message } : {}) });
    else if (ended.has(now.state) && !(old && ended.has(old.state))) {
      out.push({ type: 'replica.exited', ...fields, ...(now.exitCode !== undefined ? { exitCode: now.exitCode } : {}), ...(now.message ? { message: now.message } : {}) });
    }
  }
  if (now.health !== old?.health) {
    if (now.health === 'healthy') out.push({ type: 'replica.healthy', ...fields });
    else if (now.health === 'unhealthy') out.push({ type: 'replica.unhealthy', ...fields });
  }
  return out;
}

/** A link entering a state (its first look included), and each recovery it finished. */
function vpnLinkEvents(old: VpnLinkLook | undefined, now: VpnLinkLook): ClusterEventBody[] {
  const fields = { stack: now.stack, service: now.vpn, slot: now.slot, node: now.node, link: now.link };
  const out: ClusterEventBody[] = [];
  if (!old || old.state !== now.state) out.push({ type: `vpn.${now.state}`, ...fields, ...(old ? { from: old.state } : {}), detail: now.detail });
  if (now.recoveries > (old?.recoveries ?? 0) && now.lastRecoverySeconds !== undefined) {
    out.push({ type: 'vpn.recovered', ...fields, seconds: now.lastRecoverySeconds, recoveries: now.recoveries });
  }
  return out;
}
