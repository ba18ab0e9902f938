/**
 * Rebalancing (issue 7 item 4), for services that ask for it with the deploy label
 * `constellation.rebalance: "true"` (off by default, like Swarm: a healthy replica is never moved
 * just to even things out). When a node comes back (or joins), such a service's `deploy.placement`
 * spread is restored by moving replicas onto it **start-first**: the move is committed as
 * `moving: {slot: node}`, the target node starts a second copy of the slot while the old node
 * keeps running its own, and only once the leader's status board shows the new copy running (and
 * healthy, where there is a healthcheck) is the slot placed on the target, which stops the old copy.
 * A move whose copy does not come up within `timeoutMs`, or whose target stops being ready, is
 * abandoned (the old copy never stopped).
 *
 * What counts as balanced is the scheduler's own answer: the plan it would make for the service
 * from scratch, everything else kept. A slot moves from a node over that plan's count to a node
 * under it, and (without placement preferences) only when the two differ by two or more, so an
 * odd replica never ping-pongs between equally good nodes.
 *
 * Only replicated at-least-once services move: an at-most-once replica can never run twice, so
 * moving one would stop it first, which this never does. Members of VPN groups never move here
 * (see vpnGroupMembers).
 */
import type { PlaceServiceCommand } from '../../cluster/commands.ts';
import { planPlacements } from '../../scheduler/plan-placements.ts';
import type { PlanOptions, SchedulerPlacement, SchedulerSnapshot, SchedulerStack } from '../../scheduler/types.ts';
import type { ServiceSpec } from '../../compose/types.ts';
import { vpnOf } from '../../compose/vpn-groups.ts';
import { deliveryMode, wantsRebalance } from './delivery-mode.ts';

export interface RebalanceInput {
  readonly snapshot: SchedulerSnapshot;
  readonly planOptions?: PlanOptions;
  /** Whether `node` runs the current spec of the slot, running and healthy (where checked). */
  readonly replicaReady: (nodeId: string, stack: string, service: string, slot: number) => boolean;
  /** Whether the move of this slot to `nodeId` has waited too long for its copy. */
  readonly moveExpired: (stack: string, service: string, slot: number, nodeId: string) => boolean;
  /** Services that must not move now (a rollout is replacing their replicas). */
  readonly busy?: (stack: string, service: string) => boolean;
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The commands that start, complete or abandon start-first moves; none while the spread is right. */
export function planRebalance(input: RebalanceInput): PlaceServiceCommand[] {
  const { snapshot } = input;
  const nodeById = new Map(snapshot.nodes.map((node) => [node.id, node]));
  const usable = (id: string): boolean => {
    const node = nodeById.get(id);
    return node !== undefined && node.status === 'ready' && node.availability === 'active';
  };
  const commands: PlaceServiceCommand[] = [];
  for (const stack of [...snapshot.stacks].sort((a, b) => byText(a.name, b.name))) {
    const records = Object.hasOwn(snapshot.placements, stack.name) ? snapshot.placements[stack.name]! : undefined;
    const grouped = vpnGroupMembers(stack);
    for (const spec of [...stack.spec.services].sort((a, b) => byText(a.name, b.name))) {
      if (grouped.has(spec.name) || !wantsRebalance(spec) || spec.deploy.mode !== 'replicated' || deliveryMode(spec) !== 'at-least-once') continue;
      const record = records && Object.hasOwn(records, spec.name) ? records[spec.name]! : undefined;
      if (!record || record.stackVersion !== stack.version || input.busy?.(stack.name, spec.name)) continue;
      const moving = record.moving ?? {};
      const command = Object.keys(moving).length > 0 ? progressMoves(input, stack, spec, record, usable) : startMoves(input, stack, spec, record, usable);
      if (command) commands.push(command);
    }
  }
  return commands;
}

/**
 * Members of VPN groups never rebalance: a group moves only whole (the scheduler's drain and
 * failover), and a start-first move of one member would split it — a second VPN copy with no
 * dependents, or a dependent's copy on a node without its VPN. The loader warns about the label.
 */
function vpnGroupMembers(stack: SchedulerStack): Set<string> {
  return new Set(stack.spec.services.flatMap((spec) => {
    const vpn = vpnOf(spec);
    return vpn === undefined ? [] : [spec.name, vpn];
  }));
}

/** Completes the moves whose copy runs, abandons the failed ones, waits for the rest. */
function progressMoves(input: RebalanceInput, stack: SchedulerStack, spec: ServiceSpec, record: SchedulerPlacement, usable: (id: string) => boolean): PlaceServiceCommand | undefined {
  const slots = { ...record.slots };
  const moving: Record<string, string> = {};
  let changed = false;
  for (const [slot, target] of Object.entries(record.moving ?? {})) {
    if (!Object.hasOwn(slots, slot)) {
      changed = true;
      continue;
    }
    if (usable(target) && input.replicaReady(target, stack.name, spec.name, Number(slot))) {
      slots[slot] = target;
      changed = true;
    } else if (!usable(target) || input.moveExpired(stack.name, spec.name, Number(slot), target)) changed = true;
    else moving[slot] = target;
  }
  if (!changed) return undefined;
  return { type: 'place-service', stack: stack.name, service: spec.name, stackVersion: stack.version, slots, ...(Object.keys(moving).length > 0 ? { moving } : {}) };
}

/** Starts moves towards the scheduler's from-scratch spread, if every node involved is well. */
function startMoves(input: RebalanceInput, stack: SchedulerStack, spec: ServiceSpec, record: SchedulerPlacement, usable: (id: string) => boolean): PlaceServiceCommand | undefined {
  const slotEntries = Object.entries(record.slots);
  if (slotEntries.length !== spec.deploy.replicas) return undefined;
  // A replica on a node in trouble is the failover's business, not a rebalance's.
  if (slotEntries.some(([, node]) => !usable(node))) return undefined;
  const target = freshCounts(input, stack, spec.name);
  if (!target) return undefined;
  const current = new Map<string, number>();
  for (const [, node] of slotEntries) current.set(node, (current.get(node) ?? 0) + 1);
  const count = (map: Map<string, number>, id: string): number => map.get(id) ?? 0;
  const minGap = spec.deploy.placement.preferences.length > 0 ? 1 : 2;
  const nodes = [...new Set([...current.keys(), ...target.keys()])].sort(byText);
  const parallelism = spec.deploy.updateConfig.parallelism > 0 ? spec.deploy.updateConfig.parallelism : Number.POSITIVE_INFINITY;
  const moving: Record<string, string> = {};
  const bySlotDesc = slotEntries.map(([slot, node]) => [Number(slot), node] as const).sort((a, b) => b[0] - a[0]);
  let moves = 0;
  for (const to of nodes) {
    while (moves < parallelism && count(current, to) < count(target, to)) {
      const from = nodes.find((id) => count(current, id) > count(target, id) && count(current, id) - count(current, to) >= minGap);
      if (from === undefined) break;
      const slot = bySlotDesc.find(([s, node]) => node === from && !Object.hasOwn(moving, String(s)));
      if (!slot) break;
      moving[String(slot[0])] = to;
      current.set(from, count(current, from) - 1);
      current.set(to, count(current, to) + 1);
      moves++;
    }
  }
  if (moves === 0) return undefined;
  return { type: 'place-service', stack: stack.name, service: spec.name, stackVersion: stack.version, slots: { ...record.slots }, moving };
}

/** Replicas per node the scheduler would give the service placed anew, everything else kept; undefined if it could not place them all. */
function freshCounts(input: RebalanceInput, stack: SchedulerStack, service: string): Map<string, number> | undefined {
  const { snapshot } = input;
  const placements = { ...snapshot.placements };
  const services = { ...placements[stack.name] };
  delete services[service];
  placements[stack.name] = services;
  const plan = planPlacements({ ...snapshot, placements }, input.planOptions ?? {});
  if (plan.pending.some((p) => p.stack === stack.name && p.service === service)) return undefined;
  const command = plan.commands.find((c) => c.stack === stack.name && c.service === service);
  if (!command) return undefined;
  const counts = new Map<string, number>();
  for (const node of Object.values(command.slots)) counts.set(node, (counts.get(node) ?? 0) + 1);
  return counts;
}
