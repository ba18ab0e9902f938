import type { ClusterStateData } from '../cluster/state.ts';
import type { ServiceSpec } from '../compose/types.ts';
import { replicasAllowedOnOneNode, replicasOnOneNode } from '../compose/replica-limits.ts';
import { serviceSpecHash } from './spec-hash.ts';

/** One service as this node must run it. */
export interface DesiredService {
  readonly stack: string;
  readonly service: string;
  readonly spec: ServiceSpec;
  readonly specHash: string;
  /** Replicas this node runs: what the service asks for, capped by max_replicas_per_node. */
  readonly replicas: number;
  /** Replicas the service asks for on one node; more than `replicas` when the cap holds some back. */
  readonly requested: number;
  /**
   * In a cluster: exactly the replica slots the scheduler placed on this node (sorted). Absent on a
   * single node, which runs slots 1..replicas. Slots keep their cluster-wide number so container
   * names (`<stack>_<service>_<slot>`) stay unique across the cluster.
   */
  readonly slots?: readonly number[];
}

/** Whether this node should run `slot` of the service. */
export function wantsSlot(service: DesiredService, slot: number): boolean {
  return service.slots ? service.slots.includes(slot) : slot >= 1 && slot <= service.replicas;
}

/** The slots this node runs of the service, in order. */
export function localSlots(service: DesiredService): readonly number[] {
  return service.slots ?? Array.from({ length: service.replicas }, (_, index) => index + 1);
}

/**
 * Flattens cluster state into the services this node runs. One node runs everything; the
 * scheduler will narrow this per node when the cluster grows. A global service runs once here.
 */
export function desiredServices(state: Readonly<ClusterStateData>, placedOn?: string): DesiredService[] {
  const out: DesiredService[] = [];
  for (const stack of Object.values(state.stacks)) {
    for (const spec of stack.spec.services) {
      const base = { stack: stack.name, service: spec.name, spec, specHash: serviceSpecHash(spec) };
      if (placedOn === undefined) {
        out.push({ ...base, replicas: replicasAllowedOnOneNode(spec), requested: replicasOnOneNode(spec) });
        continue;
      }
      // In a cluster a service this node has no placement for is not listed at all: its status
      // belongs to the nodes that run it, and nothing of it may run here. The scheduler already
      // honoured max_replicas_per_node, so what is placed here is what is requested here.
      const slots = slotsPlacedOn(state, stack.name, spec.name, placedOn);
      if (slots.length > 0) out.push({ ...base, replicas: slots.length, requested: slots.length, slots });
    }
  }
  return out;
}

/**
 * The slots of one service placed on `nodeId`. A placement decided for an older stack version is
 * still honoured (it names where the replica runs until the leader re-places it), so a redeploy
 * updates replicas in place instead of stopping them while the scheduler catches up.
 */
function slotsPlacedOn(state: Readonly<ClusterStateData>, stack: string, service: string, nodeId: string): number[] {
  const placement = state.placements[stack]?.[service];
  if (!placement) return [];
  const slots: number[] = [];
  for (const [slot, node] of Object.entries(placement.slots)) if (node === nodeId) slots.push(Number(slot));
  return slots.sort((a, b) => a - b);
}

export function serviceKey(stack: string, service: string): string {
  return `${stack}_${service}`;
}
