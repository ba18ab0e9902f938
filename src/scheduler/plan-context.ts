/**
 * State shared by one planning pass: the id-sorted nodes, what is placed on each so far, and the
 * per-service work (slots kept, replicas per node). Lives only for the duration of one
 * `planPlacements` call, so the plan stays a pure function of its input.
 */
import { acceptsNew, meetsConstraints } from './filters.ts';
import type { NodeLedger } from './node-ledger.ts';
import type { ServiceNeeds } from './service-needs.ts';
import type { PlanOptions, SchedulerNode, SchedulerPlacement } from './types.ts';

export interface PlanContext {
  readonly nodes: readonly SchedulerNode[];
  readonly indexById: ReadonlyMap<string, number>;
  readonly ledger: NodeLedger;
  readonly options: PlanOptions;
  /** Constraint text → indices of nodes that take new replicas and meet those constraints. */
  readonly eligibleByConstraints: Map<string, Int32Array>;
  /**
   * Replicas that found no node, explained only once every service is placed: a reason must
   * describe the plan's outcome (what the node holds in the end), or the same snapshot planned
   * again, with the other services' replicas now already in place, would explain it differently.
   */
  readonly unplaced: Unplaced[];
}

export type Unplaced =
  | { readonly kind: 'slots'; readonly work: ServiceWork; readonly slots: readonly number[] }
  | { readonly kind: 'node'; readonly work: ServiceWork; readonly node: number };

export interface ServiceWork {
  readonly needs: ServiceNeeds;
  readonly stackVersion: number;
  readonly record: SchedulerPlacement | undefined;
  /** Slot → node index, for every replica that has (or gets) a node in this plan. */
  readonly slots: Map<number, number>;
  /** Node index → replicas of this service on it. */
  readonly countOnNode: Map<number, number>;
  /** The dependents of the VPN group this service leads, placed with it (placement-units.ts). */
  readonly followers: readonly ServiceWork[];
}

export function assign(context: PlanContext, work: ServiceWork, slot: number, node: number): void {
  work.slots.set(slot, node);
  work.countOnNode.set(node, (work.countOnNode.get(node) ?? 0) + 1);
  context.ledger.add(node, work.needs);
}

/**
 * The nodes that pass the filters that look only at the node (availability, status, constraints).
 * Services with the same constraints share the answer, so a plan of many services is not
 * (services × nodes) constraint checks.
 */
export function eligibleNodes(context: PlanContext, needs: ServiceNeeds): Int32Array {
  const cached = context.eligibleByConstraints.get(needs.constraintKey);
  if (cached) return cached;
  const indices: number[] = [];
  context.nodes.forEach((node, index) => {
    if (acceptsNew(node) && meetsConstraints(needs, node)) indices.push(index);
  });
  const eligible = Int32Array.from(indices);
  context.eligibleByConstraints.set(needs.constraintKey, eligible);
  return eligible;
}
