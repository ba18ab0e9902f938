// Property of the pure scheduler for VPN groups (issue 9 item 4), over random clusters, groups
// and node changes (drain, pause, down with or without failover, leave, resize), checked by an
// oracle written here: a group is never split (each dependent's slot i is on the node of the
// VPN's slot i, or both are pending); a group's node meets every member's constraints and holds
// the sum of every member's reservations; a pending group fits on no node; when a group moves,
// its dependents' commands come before its VPN's; and planning again changes nothing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ServiceSpec } from '../../src/compose/types.ts';
import { constraintHolds, isConstraintError, parseConstraint } from '../../src/scheduler/constraints.ts';
import type { Plan, PlanOptions, SchedulerNode } from '../../src/scheduler/types.ts';
import { gib, node, SchedulerHarness, service } from '../unit/scheduler/scheduler-harness.ts';

const nodeIds = ['n1', 'n2', 'n3', 'n4', 'n5'] as const;
const constraintPool = ['node.labels.zone==x', 'node.labels.zone!=y', 'node.labels.disk==ssd', 'node.role==worker'];

const nodeStateArb = (downWeight: number) => fc.record({
  role: fc.constantFrom('manager' as const, 'worker' as const, 'worker' as const),
  availability: fc.oneof({ arbitrary: fc.constant('active' as const), weight: 5 }, { arbitrary: fc.constantFrom('pause' as const, 'drain' as const), weight: 1 }),
  status: fc.oneof(
    { arbitrary: fc.constant('ready' as const), weight: 5 },
    { arbitrary: fc.constant('down' as const), weight: downWeight },
    { arbitrary: fc.constantFrom('left' as const, 'suspect' as const), weight: 1 },
  ),
  zone: fc.constantFrom('x', 'y'),
  disk: fc.constantFrom('ssd', 'hdd'),
  cpus: fc.constantFrom(1, 2, 4),
});
type NodeState = ReturnType<typeof nodeStateArb> extends fc.Arbitrary<infer T> ? T : never;

const memberArb = fc.record({
  constraints: fc.subarray(constraintPool, { maxLength: 2 }),
  cpus: fc.constantFrom(0, 0, 0.5, 1),
});

const groupArb = fc.record({
  mode: fc.constantFrom('replicated' as const, 'replicated' as const, 'global' as const),
  replicas: fc.integer({ min: 0, max: 4 }),
  vpn: memberArb,
  port: fc.boolean(),
  dependents: fc.array(memberArb, { minLength: 1, maxLength: 3 }),
});

const scenarioArb = fc.record({
  nodes: fc.uniqueArray(fc.record({ id: fc.constantFrom(...nodeIds), before: nodeStateArb(0), after: nodeStateArb(4), changes: fc.boolean() }), { selector: (n) => n.id, minLength: 1, maxLength: 5 }),
  groups: fc.array(groupArb, { minLength: 1, maxLength: 2 }),
  loner: memberArb,
  // true / false, or hold one named member of the first group (an at-most-once member).
  replaceOnDown: fc.constantFrom<boolean | 'hold-vpn' | 'hold-dependent'>(true, false, 'hold-vpn', 'hold-dependent'),
});
type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

function toNode(id: string, state: NodeState): SchedulerNode {
  return node(id, {
    role: state.role, availability: state.availability, status: state.status,
    labels: { zone: state.zone, disk: state.disk },
    capacity: { nanoCpus: state.cpus * 1e9, memoryBytes: 8 * gib },
  });
}

interface Group { readonly vpn: ServiceSpec; readonly dependents: readonly ServiceSpec[] }

function groupsOf(scenario: Scenario): Group[] {
  return scenario.groups.map((g, index) => {
    const common = { mode: g.mode, replicas: g.replicas };
    const options = (m: { constraints: string[]; cpus: number }) => ({ ...common, constraints: m.constraints, ...(m.cpus > 0 ? { cpus: m.cpus } : {}) });
    const vpn = service(`vpn${index}`, { ...options(g.vpn), ...(g.port ? { ports: [8000 + index] } : {}) });
    return { vpn, dependents: g.dependents.map((d, i) => ({ ...service(`vpn${index}-dep${i}`, options(d)), networkMode: `service:vpn${index}` })) };
  });
}

const holdsAll = (specs: readonly ServiceSpec[], n: SchedulerNode): boolean => specs.every((spec) => spec.deploy.placement.constraints.every((text) => {
  const parsed = parseConstraint(text);
  return !isConstraintError(parsed) && constraintHolds(parsed, n);
}));
const nano = (spec: ServiceSpec): number => Math.round((spec.deploy.resources.reservations.cpus ?? 0) * 1e9);

function optionsOf(scenario: Scenario, groups: readonly Group[]): PlanOptions {
  const choice = scenario.replaceOnDown;
  if (typeof choice === 'boolean') return { replaceOnDown: choice };
  const held = choice === 'hold-vpn' ? groups[0]!.vpn.name : groups[0]!.dependents[0]!.name;
  return { replaceOnDown: (_stack, service) => service !== held };
}

/** Every container on each node: spec per replica. */
function perNode(h: SchedulerHarness): Map<string, ServiceSpec[]> {
  const out = new Map<string, ServiceSpec[]>();
  for (const [stackName, stack] of h.stacks) {
    for (const spec of stack.spec.services) {
      for (const nodeId of Object.values(h.slots(stackName, spec.name))) out.set(nodeId, [...out.get(nodeId) ?? [], spec]);
    }
  }
  return out;
}

const seen = { moved: 0, pending: 0, held: 0, global: 0 };

function check(h: SchedulerHarness, groups: readonly Group[], plan: Plan, previous: ReadonlyMap<string, Record<string, string>>): void {
  const nodes = new Map(h.nodes.map((n) => [n.id, n]));
  const containers = perNode(h);
  for (const [nodeId, specs] of containers) {
    expect(specs.reduce((sum, s) => sum + nano(s), 0), `reservations on ${nodeId}`).toBeLessThanOrEqual(nodes.get(nodeId)!.capacity.nanoCpus);
  }
  for (const group of groups) {
    const members = [group.vpn, ...group.dependents];
    const lead = h.slots('s', group.vpn.name);
    for (const dependent of group.dependents) expect(h.slots('s', dependent.name), `${dependent.name} is never split from ${group.vpn.name}`).toEqual(lead);
    for (const [slot, nodeId] of Object.entries(lead)) expect(holdsAll(members, nodes.get(nodeId)!), `${group.vpn.name}.${slot} on ${nodeId} meets every member's constraints`).toBe(true);
    const pendingVpn = plan.pending.filter((p) => p.service === group.vpn.name).map((p) => p.slot ?? p.node);
    for (const dependent of group.dependents) {
      expect(plan.pending.filter((p) => p.service === dependent.name).map((p) => p.slot ?? p.node), `${dependent.name} pending with its VPN`).toEqual(pendingVpn);
    }
    if (pendingVpn.length > 0) {
      seen.pending++;
      // No node that takes new replicas could hold one more whole group.
      for (const n of h.nodes) {
        if (n.availability !== 'active' || n.status !== 'ready' || !holdsAll(members, n)) continue;
        if (group.vpn.deploy.mode === 'global' && Object.values(lead).includes(n.id)) continue;
        const used = (containers.get(n.id) ?? []).reduce((sum, s) => sum + nano(s), 0);
        const need = members.reduce((sum, s) => sum + nano(s), 0);
        const portTaken = group.vpn.ports.length > 0 && Object.values(lead).includes(n.id);
        if (group.vpn.deploy.mode === 'global' && !pendingVpn.includes(n.id)) continue;
        expect(used + need > n.capacity.nanoCpus || portTaken, `${group.vpn.name} pending though ${n.id} holds the group`).toBe(true);
      }
    }
    if (group.vpn.deploy.mode === 'global' && Object.keys(lead).length > 0) seen.global++;
    // A moved group: its dependents' commands come before its VPN's.
    const before = previous.get(group.vpn.name) ?? {};
    const moved = Object.entries(before).some(([slot, nodeId]) => lead[slot] !== undefined && lead[slot] !== nodeId);
    if (moved) {
      seen.moved++;
      const order = plan.commands.map((c) => c.service);
      const vpnAt = order.indexOf(group.vpn.name);
      expect(vpnAt).toBeGreaterThanOrEqual(0);
      for (const dependent of group.dependents) expect(order.indexOf(dependent.name), `${dependent.name} moves before ${group.vpn.name}`).toBeLessThan(vpnAt);
    }
  }
}

function run(scenario: Scenario): void {
  const groups = groupsOf(scenario);
  const loner = service('zz-loner', { constraints: scenario.loner.constraints, ...(scenario.loner.cpus > 0 ? { cpus: scenario.loner.cpus } : {}), replicas: 2 });
  const specs = [...groups.flatMap((g) => [g.vpn, ...g.dependents]), loner];
  const h = new SchedulerHarness(scenario.nodes.map((n) => toNode(n.id, n.before)));
  h.deploy('s', specs);
  const fresh = h.settle();
  check(h, groups, fresh, new Map());

  const previous = new Map(groups.map((g) => [g.vpn.name, h.slots('s', g.vpn.name)]));
  const reservedBefore = new Map([...perNode(h)].map(([nodeId, list]) => [nodeId, list.reduce((sum, spec) => sum + nano(spec), 0)]));
  h.nodes = scenario.nodes.map((n) => toNode(n.id, n.changes ? n.after : n.before));
  const options = optionsOf(scenario, groups);
  const plan = h.settle(options);
  check(h, groups, plan, previous);
  if (typeof scenario.replaceOnDown === 'string' && h.nodes.some((n) => n.status === 'down' && Object.values(previous.get(groups[0]!.vpn.name) ?? {}).includes(n.id))) {
    // The held member keeps the whole first group on its down node.
    for (const [slot, nodeId] of Object.entries(previous.get(groups[0]!.vpn.name)!)) {
      const n = h.nodes.find((x) => x.id === nodeId)!;
      // Held only where it may stay at all: constraints still hold and all it ran still fits.
      const fits = (reservedBefore.get(nodeId) ?? 0) <= n.capacity.nanoCpus;
      if (n.status === 'down' && n.availability !== 'drain' && fits && holdsAll([groups[0]!.vpn, ...groups[0]!.dependents], n)) {
        seen.held++;
        expect(h.slots('s', groups[0]!.vpn.name)[slot], `${groups[0]!.vpn.name}.${slot} held on down ${nodeId}`).toBe(nodeId);
      }
    }
  }
}

describe('VPN group placement properties', () => {
  it('a group is never split, meets every member\'s constraints and reservations, and moves dependents first', () => {
    fc.assert(fc.property(scenarioArb, run), { numRuns: 1000 });
    for (const [what, runs] of Object.entries(seen)) expect(runs, `runs with ${what}`).toBeGreaterThan(10);
  });
});
