/**
 * The scheduler: a pure function from a snapshot of nodes, stacks and placements to a plan — the
 * `place-service` commands for the services whose placement changes, and the replicas that fit
 * nowhere with every reason why. No I/O, no clock, no randomness: the same snapshot gives the
 * same plan whatever the order of its arrays and keys, and planning the applied plan again gives
 * no commands.
 *
 * Order of work, so that earlier decisions never undo later ones:
 *   1. keep every existing replica that may stay (all services, before anything new is placed,
 *      so a new replica never takes the room of one that runs);
 *   2. place global services' replicas (per-node daemons get their node before replicated
 *      services fill it), then replicated services' empty slots.
 * Within each step services go by stack name, then service name. A VPN group is one unit: its
 * VPN is planned with the whole group's needs and its dependents follow it slot by slot
 * (placement-units.ts), so a group is never split.
 *
 * Commands come by stack, then service name, except that a group's dependents come right before
 * its VPN, last-started first: when a group moves, the old node loses (and stops) its dependents
 * while the VPN still runs there, and only then the VPN; the new node's agent starts the VPN
 * before the dependents whatever order the commands reach it in.
 */
import type { PlaceServiceCommand } from '../cluster/commands.ts';
import { keepExisting } from './keep-existing.ts';
import { NodeLedger } from './node-ledger.ts';
import { placeGlobal } from './place-global.ts';
import { placeReplicated } from './place-replicated.ts';
import { explainRejections } from './filters.ts';
import type { PlanContext, ServiceWork } from './plan-context.ts';
import { followLead, placementUnits } from './placement-units.ts';
import { groupNeeds, serviceNeeds } from './service-needs.ts';
import type { PendingReplica, Plan, PlanOptions, Rejection, SchedulerNode, SchedulerSnapshot } from './types.ts';

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function planPlacements(snapshot: SchedulerSnapshot, options: PlanOptions = {}): Plan {
  const nodes = uniqueById(snapshot.nodes);
  const context: PlanContext = {
    nodes,
    indexById: new Map(nodes.map((node, index) => [node.id, index])),
    ledger: new NodeLedger(nodes.length),
    options,
    eligibleByConstraints: new Map(),
    unplaced: [],
  };

  const work: ServiceWork[] = [];
  for (const stack of [...snapshot.stacks].sort((a, b) => byText(a.name, b.name))) {
    const records = Object.hasOwn(snapshot.placements, stack.name) ? snapshot.placements[stack.name] : undefined;
    const recordOf = (name: string) => (records !== undefined && Object.hasOwn(records, name) ? records[name] : undefined);
    for (const unit of placementUnits(stack.spec).sort((a, b) => byText(a.lead.name, b.lead.name))) {
      const followers: ServiceWork[] = unit.dependents.map((spec) => ({
        needs: serviceNeeds(stack.name, spec), stackVersion: stack.version, record: recordOf(spec.name), slots: new Map(), countOnNode: new Map(), followers: [],
      }));
      const needs = groupNeeds(stack.name, unit.lead, unit.dependents);
      work.push({ needs, stackVersion: stack.version, record: recordOf(unit.lead.name), slots: new Map(), countOnNode: new Map(), followers });
    }
  }
  const globalFirst = [...work.filter((w) => w.needs.spec.deploy.mode === 'global'), ...work.filter((w) => w.needs.spec.deploy.mode !== 'global')];

  for (const service of globalFirst) keepExisting(context, service);
  for (const service of globalFirst) {
    if (service.needs.spec.deploy.mode === 'global') placeGlobal(context, service);
    else placeReplicated(context, service);
  }

  for (const service of work) for (const follower of service.followers) followLead(service, follower);

  const commands: PlaceServiceCommand[] = [];
  const command = (service: ServiceWork): void => {
    const slots = slotRecord(service, nodes);
    const record = service.record;
    if (record === undefined && service.slots.size === 0) return;
    if (record !== undefined && record.stackVersion === service.stackVersion && sameSlots(record.slots, slots)) return;
    commands.push({ type: 'place-service', stack: service.needs.stack, service: service.needs.service, stackVersion: service.stackVersion, slots });
  };
  for (const service of work) {
    for (const follower of [...service.followers].reverse()) command(follower);
    command(service);
  }
  return { commands, pending: explainUnplaced(context).sort((a, b) => byText(a.stack, b.stack) || byText(a.service, b.service) || (a.slot ?? 0) - (b.slot ?? 0) || byText(a.node ?? '', b.node ?? '')) };
}

/** The pending replicas, each with every filter that rejects every node it could have gone to, as the plan leaves them. */
function explainUnplaced(context: PlanContext): PendingReplica[] {
  const { nodes, ledger } = context;
  const pending: PendingReplica[] = [];
  for (const unplaced of context.unplaced) {
    const { needs, countOnNode } = unplaced.work;
    if (unplaced.kind === 'node') {
      const node = nodes[unplaced.node]!;
      const reasons = explainRejections(needs, ledger, unplaced.node, node, 0);
      for (const service of [needs.service, ...needs.groupMembers]) pending.push({ stack: needs.stack, service, node: node.id, reasons });
      continue;
    }
    const reasons: Rejection[] = nodes.flatMap((node, index) => explainRejections(needs, ledger, index, node, countOnNode.get(index) ?? 0));
    for (const slot of unplaced.slots) pending.push({ stack: needs.stack, service: needs.service, slot, reasons });
    // A dependent waits for its VPN's slot, for the same reasons (they are the whole group's).
    for (const follower of unplaced.work.followers) {
      const deploy = follower.needs.spec.deploy;
      for (const slot of unplaced.slots) if (slot <= deploy.replicas) pending.push({ stack: needs.stack, service: follower.needs.service, slot, reasons });
    }
  }
  return pending;
}

/** Nodes in id order (which every tie-break uses), one per id. */
function uniqueById(nodes: readonly SchedulerNode[]): SchedulerNode[] {
  const sorted = [...nodes].sort((a, b) => byText(a.id, b.id));
  return sorted.filter((node, index) => index === 0 || sorted[index - 1]!.id !== node.id);
}

function slotRecord(service: ServiceWork, nodes: readonly SchedulerNode[]): Record<string, string> {
  const slots: Record<string, string> = {};
  for (const slot of [...service.slots.keys()].sort((a, b) => a - b)) slots[String(slot)] = nodes[service.slots.get(slot)!]!.id;
  return slots;
}

function sameSlots(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((slot) => Object.hasOwn(b, slot) && b[slot] === a[slot]);
}
