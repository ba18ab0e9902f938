import type { ClusterStateData } from '../cluster/state.ts';
import type { ServiceSpec } from '../compose/types.ts';
import { replicasAllowedOnOneNode, replicasOnOneNode } from '../compose/replica-limits.ts';
import { serviceSpecAt, slotVersion, surgeVersion } from '../cluster/slot-versions.ts';
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
  /**
   * Slots a rolling update has not moved yet (or a rollback moved back): they run an older spec
   * than `spec`. Absent when every slot runs `spec`.
   */
  readonly slotSpecs?: Readonly<Record<number, SlotSpec>>;
  /**
   * start-first: slots where a second replica of another spec starts beside the slot's own until
   * the rollout switches to it (see labels.ts surgeName).
   */
  readonly surge?: Readonly<Record<number, SlotSpec>>;
}

export interface SlotSpec {
  readonly spec: ServiceSpec;
  readonly specHash: string;
}

/** The spec slot `slot` must run: an older one while a rollout has not moved it, else the service's. */
export function specForSlot(service: DesiredService, slot: number): SlotSpec {
  return service.slotSpecs?.[slot] ?? service;
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
      const specHash = serviceSpecHash(spec);
      const base = { stack: stack.name, service: spec.name, spec, specHash };
      if (placedOn === undefined) {
        const replicas = replicasAllowedOnOneNode(spec);
        const all = Array.from({ length: replicas }, (_, index) => index + 1);
        const slotSpecs = olderSlotSpecs(state, stack.name, spec.name, specHash, all);
        const surge = surgeSpecs(state, stack.name, spec.name, specHash, slotSpecs, all);
        out.push({ ...base, replicas, requested: replicasOnOneNode(spec), ...(slotSpecs ? { slotSpecs } : {}), ...(surge ? { surge } : {}) });
        continue;
      }
      // In a cluster a service this node has no placement for is not listed at all: its status
      // belongs to the nodes that run it, and nothing of it may run here. The scheduler already
      // honoured max_replicas_per_node, so what is placed here is what is requested here.
      const slots = slotsPlacedOn(state, stack.name, spec.name, placedOn);
      if (slots.length === 0) continue;
      const slotSpecs = olderSlotSpecs(state, stack.name, spec.name, specHash, slots);
      const surge = surgeSpecs(state, stack.name, spec.name, specHash, slotSpecs, slots);
      out.push({ ...base, replicas: slots.length, requested: slots.length, slots, ...(slotSpecs ? { slotSpecs } : {}), ...(surge ? { surge } : {}) });
    }
  }
  return out;
}

/** The slots of `slots` that a rollout keeps on an older spec, with that spec. */
function olderSlotSpecs(state: Readonly<ClusterStateData>, stack: string, service: string, specHash: string, slots: readonly number[]): Record<number, SlotSpec> | undefined {
  if (!state.rollouts?.[stack]?.services[service]) return undefined;
  const current = state.stacks[stack]?.version;
  const byVersion = new Map<number, SlotSpec | undefined>();
  let out: Record<number, SlotSpec> | undefined;
  for (const slot of slots) {
    const version = slotVersion(state, stack, service, slot);
    if (version === undefined || version === current) continue;
    if (!byVersion.has(version)) {
      const older = serviceSpecAt(state, stack, service, version);
      const hash = older ? serviceSpecHash(older) : specHash;
      byVersion.set(version, older && hash !== specHash ? { spec: older, specHash: hash } : undefined);
    }
    const found = byVersion.get(version);
    if (found) (out ??= {})[slot] = found;
  }
  return out;
}

/** start-first: the slots of `slots` with a second replica starting beside, and its spec. */
function surgeSpecs(state: Readonly<ClusterStateData>, stack: string, service: string, specHash: string, slotSpecs: Readonly<Record<number, SlotSpec>> | undefined, slots: readonly number[]): Record<number, SlotSpec> | undefined {
  if (!state.rollouts?.[stack]?.services[service]?.progress?.surge.length) return undefined;
  let out: Record<number, SlotSpec> | undefined;
  for (const slot of slots) {
    const version = surgeVersion(state, stack, service, slot);
    if (version === undefined) continue;
    const spec = serviceSpecAt(state, stack, service, version);
    if (!spec) continue;
    const hash = serviceSpecHash(spec);
    const main = slotSpecs?.[slot]?.specHash ?? specHash;
    if (hash !== main) (out ??= {})[slot] = { spec, specHash: hash };
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
  // A start-first move (rebalance) runs the slot here too, beside the copy it will replace.
  for (const [slot, node] of Object.entries(placement.moving ?? {})) if (node === nodeId && !slots.includes(Number(slot))) slots.push(Number(slot));
  return slots.sort((a, b) => a - b);
}

export function serviceKey(stack: string, service: string): string {
  return `${stack}_${service}`;
}
