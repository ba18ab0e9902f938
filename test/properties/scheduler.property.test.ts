// Properties of the pure scheduler over random clusters and stacks, checked by an oracle written
// here (not the scheduler's own filters): a plan never breaks a constraint, a reservation, a host
// port, a per-node cap or a node's availability; no replica stays pending where it would fit;
// spread is even within one replica; a global service runs once on every eligible node; the plan
// does not depend on the order of the input's arrays and keys; and planning the applied plan
// again yields no commands (SchedulerHarness.settle checks that on every plan).
// Each case first schedules a fresh cluster, then changes nodes (drain, pause, down, leave,
// relabel, resize, join) and stacks (redeploy, remove, add) and schedules again from there.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ServiceSpec } from '../../src/compose/types.ts';
import { constraintHolds, isConstraintError, parseConstraint } from '../../src/scheduler/constraints.ts';
import { planPlacements } from '../../src/scheduler/plan-placements.ts';
import type { PlanOptions, SchedulerNode, SchedulerSnapshot } from '../../src/scheduler/types.ts';
import { gib, node, SchedulerHarness, service, type ServiceOptions } from '../unit/scheduler/scheduler-harness.ts';

const nodeIds = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7', 'n8', 'constructor', '__proto__', 'toString'] as const;
const stackNames = ['alpha', 'beta', 'gamma'] as const;
const serviceNames = ['web', 'db', 'constructor', '__proto__', 'toString'] as const;
const constraintPool = ['node.labels.zone==x', 'node.labels.zone!=y', 'node.role==worker', 'node.labels.disk==ssd', 'node.platform.arch==amd64', 'node.hostname!=host-n1'];

const nodeStateArb = fc.record({
  role: fc.constantFrom('manager' as const, 'worker' as const, 'worker' as const),
  availability: fc.oneof({ arbitrary: fc.constant('active' as const), weight: 6 }, { arbitrary: fc.constantFrom('pause' as const, 'drain' as const), weight: 1 }),
  status: fc.oneof({ arbitrary: fc.constant('ready' as const), weight: 6 }, { arbitrary: fc.constantFrom('joining' as const, 'suspect' as const, 'down' as const, 'left' as const), weight: 1 }),
  zone: fc.option(fc.constantFrom('x', 'y', 'z'), { nil: undefined }),
  disk: fc.option(fc.constantFrom('ssd', 'hdd'), { nil: undefined }),
  cpus: fc.constantFrom(1, 2, 4),
  memoryGiB: fc.constantFrom(1, 2, 4),
});
type NodeState = typeof nodeStateArb extends fc.Arbitrary<infer T> ? T : never;

function toNode(id: string, state: NodeState): SchedulerNode {
  return node(id, {
    role: state.role, availability: state.availability, status: state.status,
    labels: { ...(state.zone === undefined ? {} : { zone: state.zone }), ...(state.disk === undefined ? {} : { disk: state.disk }) },
    capacity: { nanoCpus: state.cpus * 1e9, memoryBytes: state.memoryGiB * gib },
  });
}

const serviceOptionsArb: fc.Arbitrary<ServiceOptions> = fc.record({
  mode: fc.constantFrom('replicated' as const, 'replicated' as const, 'replicated' as const, 'global' as const),
  replicas: fc.integer({ min: 0, max: 9 }),
  constraints: fc.subarray(constraintPool, { maxLength: 2 }),
  spread: fc.subarray(['node.labels.zone', 'node.labels.disk']),
  maxReplicasPerNode: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  cpus: fc.option(fc.constantFrom(0.5, 1, 1.5), { nil: undefined }),
  memoryBytes: fc.option(fc.constantFrom(gib / 2, gib), { nil: undefined }),
  ports: fc.subarray([80, 443], { maxLength: 1 }),
}).map((o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as ServiceOptions);

const stackSpecArb = fc.uniqueArray(fc.record({ name: fc.constantFrom(...serviceNames), options: serviceOptionsArb }), { selector: (s) => s.name, minLength: 1, maxLength: 3 })
  .map((list) => list.map((s) => service(s.name, s.options)));

const scenarioArb = fc.record({
  nodes: fc.uniqueArray(fc.record({
    id: fc.constantFrom(...nodeIds),
    before: fc.option(nodeStateArb, { nil: undefined, freq: 5 }),
    after: fc.option(nodeStateArb, { nil: undefined, freq: 5 }),
    changes: fc.boolean(),
  }), { selector: (n) => n.id, maxLength: 9 }),
  stacks: fc.uniqueArray(fc.record({
    name: fc.constantFrom(...stackNames),
    before: fc.option(stackSpecArb, { nil: undefined, freq: 4 }),
    after: fc.option(stackSpecArb, { nil: undefined, freq: 4 }),
    redeploys: fc.boolean(),
  }), { selector: (s) => s.name, minLength: 1, maxLength: 3 }),
  replaceOnDown: fc.boolean(),
  shuffleSeed: fc.integer(),
});
type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

interface Replica { stack: string; service: ServiceSpec; slot: number; nodeId: string }

function replicasOf(h: SchedulerHarness): Replica[] {
  const out: Replica[] = [];
  for (const [stackName, stack] of h.stacks) {
    for (const spec of stack.spec.services) {
      for (const [slot, nodeId] of Object.entries(h.slots(stackName, spec.name))) out.push({ stack: stackName, service: spec, slot: Number(slot), nodeId });
    }
  }
  return out;
}

const nano = (cpus: number | undefined): number => Math.round((cpus ?? 0) * 1e9);
const holdsAll = (spec: ServiceSpec, n: SchedulerNode): boolean => spec.deploy.placement.constraints.every((text) => {
  const parsed = parseConstraint(text);
  return !isConstraintError(parsed) && constraintHolds(parsed, n);
});
const takesNew = (n: SchedulerNode): boolean => n.availability === 'active' && n.status === 'ready';

/** Could `node` take one more replica of `spec`, given what `replicas` puts where? The oracle's own filter chain. */
function couldTake(spec: ServiceSpec, stack: string, n: SchedulerNode, replicas: readonly Replica[]): boolean {
  if (!takesNew(n) || !holdsAll(spec, n)) return false;
  const here = replicas.filter((r) => r.nodeId === n.id);
  const mine = here.filter((r) => r.stack === stack && r.service.name === spec.name).length;
  if (spec.deploy.mode === 'global' && mine > 0) return false;
  const max = spec.deploy.placement.maxReplicasPerNode;
  if (max !== undefined && max > 0 && mine >= max) return false;
  const reserved = spec.deploy.resources.reservations;
  if (reserved.cpus && here.reduce((sum, r) => sum + nano(r.service.deploy.resources.reservations.cpus), 0) + nano(reserved.cpus) > n.capacity.nanoCpus) return false;
  if (reserved.memoryBytes && here.reduce((sum, r) => sum + (r.service.deploy.resources.reservations.memoryBytes ?? 0), 0) + reserved.memoryBytes > n.capacity.memoryBytes) return false;
  const taken = new Set(here.flatMap((r) => r.service.ports.map((p) => p.published)));
  return !spec.ports.some((p) => taken.has(p.published));
}

/** Safety and completeness of the placements after a plan was applied. */
function checkPlacements(h: SchedulerHarness, pending: ReturnType<typeof planPlacements>['pending'], previous: Readonly<Record<string, string>>, options: PlanOptions): void {
  const nodes = new Map(h.nodes.map((n) => [n.id, n]));
  const replicas = replicasOf(h);
  for (const r of replicas) {
    const where = `${r.stack}/${r.service.name}.${r.slot} on ${r.nodeId}`;
    const n = nodes.get(r.nodeId);
    expect(n, `${where}: known node`).toBeDefined();
    expect(n!.availability, `${where}: not on a draining node`).not.toBe('drain');
    expect(n!.status, `${where}: not on a node that left`).not.toBe('left');
    if (options.replaceOnDown) expect(n!.status, `${where}: replaced off a down node`).not.toBe('down');
    expect(holdsAll(r.service, n!), `${where}: constraints hold`).toBe(true);
    if (r.service.deploy.mode === 'replicated') expect(r.slot, where).toBeLessThanOrEqual(r.service.deploy.replicas);
    if (previous[`${r.stack}/${r.service.name}/${r.slot}`] !== r.nodeId) expect(takesNew(n!), `${where}: a new replica goes to an active, ready node`).toBe(true);
  }
  for (const n of h.nodes) {
    const here = replicas.filter((r) => r.nodeId === n.id);
    expect(here.reduce((sum, r) => sum + nano(r.service.deploy.resources.reservations.cpus), 0), `cpus on ${n.id}`).toBeLessThanOrEqual(n.capacity.nanoCpus);
    expect(here.reduce((sum, r) => sum + (r.service.deploy.resources.reservations.memoryBytes ?? 0), 0), `memory on ${n.id}`).toBeLessThanOrEqual(n.capacity.memoryBytes);
    const ports = here.flatMap((r) => r.service.ports.map((p) => p.published));
    expect(new Set(ports).size, `host ports on ${n.id}: ${ports.join(',')}`).toBe(ports.length);
    const perService = new Map<string, { spec: ServiceSpec; count: number }>();
    for (const r of here) {
      const key = `${r.stack}/${r.service.name}`;
      perService.set(key, { spec: r.service, count: (perService.get(key)?.count ?? 0) + 1 });
    }
    for (const [key, { spec, count }] of perService) {
      if (spec.deploy.mode === 'global') expect(count, `${key} runs once on ${n.id}`).toBe(1);
      const max = spec.deploy.placement.maxReplicasPerNode;
      if (max !== undefined) expect(count, `${key} on ${n.id} within max_replicas_per_node`).toBeLessThanOrEqual(max);
    }
  }
  for (const [stackName, stack] of h.stacks) {
    for (const spec of stack.spec.services) {
      const mine = pending.filter((p) => p.stack === stackName && p.service === spec.name);
      const placed = Object.keys(h.slots(stackName, spec.name)).length;
      if (spec.deploy.mode === 'replicated') {
        // Every slot is either placed or pending, and a pending one fits on no node at all.
        expect(placed + mine.length, `${stackName}/${spec.name} slots`).toBe(spec.deploy.replicas);
        if (mine.length > 0) {
          for (const n of h.nodes) expect(couldTake(spec, stackName, n, replicas), `${stackName}/${spec.name} pending though ${n.id} fits`).toBe(false);
          expect(new Set(mine[0]!.reasons.map((r) => r.nodeId)), 'every node is explained').toEqual(new Set(h.nodes.map((n) => n.id)));
        }
      } else {
        // Global: every eligible node runs it, or has a pending replica that says why it cannot.
        const running = new Set(Object.values(h.slots(stackName, spec.name)));
        for (const n of h.nodes) {
          const eligible = takesNew(n) && holdsAll(spec, n);
          const named = mine.find((p) => p.node === n.id);
          if (eligible && !running.has(n.id)) expect(named, `${stackName}/${spec.name} on ${n.id}: runs or is pending`).toBeDefined();
          if (named) {
            expect(couldTake(spec, stackName, n, replicas), `${stackName}/${spec.name} pending though ${n.id} fits`).toBe(false);
            expect(named.reasons.length).toBeGreaterThan(0);
          }
        }
      }
    }
  }
}

/** On a fresh plan: services that no dynamic filter limits are spread within one replica over their eligible nodes, and globals run everywhere eligible. */
function checkFreshSpread(h: SchedulerHarness): void {
  for (const [stackName, stack] of h.stacks) {
    for (const spec of stack.spec.services) {
      const { reservations } = spec.deploy.resources;
      if (spec.ports.length > 0 || reservations.cpus || reservations.memoryBytes || spec.deploy.placement.maxReplicasPerNode !== undefined) continue;
      const eligible = h.nodes.filter((n) => takesNew(n) && holdsAll(spec, n));
      const counts = h.perNode(stackName, spec.name);
      const perEligible = eligible.map((n) => counts[n.id] ?? 0);
      if (spec.deploy.mode === 'global') {
        expect(perEligible.every((c) => c === 1) && Object.keys(counts).length === eligible.length, `${stackName}/${spec.name} once per eligible node`).toBe(true);
      } else if (eligible.length > 0) {
        expect(Math.max(...perEligible) - Math.min(...perEligible), `${stackName}/${spec.name} spread ${JSON.stringify(counts)}`).toBeLessThanOrEqual(1);
        expect(perEligible.reduce((a, b) => a + b, 0)).toBe(spec.deploy.replicas);
      }
    }
  }
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A deep copy with every array and every object's keys in another order. */
function shuffled<T>(value: T, random: () => number): T {
  if (Array.isArray(value)) return value.map((v) => shuffled(v, random)).map((v) => [random(), v] as const).sort((a, b) => a[0] - b[0]).map(([, v]) => v) as T;
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value).map(([k, v]) => [random(), k, shuffled(v, random)] as const).sort((a, b) => a[0] - b[0]);
  const out = Object.create(Object.getPrototypeOf(value) as object | null) as Record<string, unknown>;
  for (const [, k, v] of entries) out[k] = v;
  return out as T;
}

function reorder<T>(list: readonly T[], random: () => number): T[] {
  return list.map((v) => [random(), v] as const).sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

/** The snapshot with service arrays shuffled too: they are arrays, but the plan must not care about their order. */
function shuffledSnapshot(snapshot: SchedulerSnapshot, seed: number): SchedulerSnapshot {
  const random = mulberry32(seed);
  // Keep each spec's ordered lists (constraints, preferences, ports) as they are: their order is
  // the user's. Shuffle what is a set: nodes, stacks, services, labels, placement keys.
  return {
    nodes: reorder(snapshot.nodes, random).map((n) => shuffled(n, random)),
    stacks: reorder(snapshot.stacks, random).map((s) => ({ ...s, spec: { ...s.spec, services: reorder(s.spec.services, random) } })),
    placements: shuffled(snapshot.placements, random),
  };
}

/** What the runs exercised, so a generator that stopped producing a case fails loudly instead of passing vacuously. */
const seen = { pending: 0, moved: 0, global: 0, drained: 0, spread: 0 };

function run(scenario: Scenario): void {
  const before = scenario.nodes.filter((n) => n.before !== undefined).map((n) => toNode(n.id, n.before!));
  const h = new SchedulerHarness(before);
  for (const s of scenario.stacks) if (s.before) h.deploy(s.name, s.before);
  const fresh = h.settle();
  checkPlacements(h, fresh.pending, {}, {});
  checkFreshSpread(h);

  const previous: Record<string, string> = {};
  for (const r of replicasOf(h)) previous[`${r.stack}/${r.service.name}/${r.slot}`] = r.nodeId;
  h.nodes = scenario.nodes.flatMap((n) => {
    const state = n.changes ? n.after : n.before ?? n.after;
    return state === undefined ? [] : [toNode(n.id, state)];
  });
  for (const s of scenario.stacks) {
    if (s.after && (s.redeploys || !s.before)) h.deploy(s.name, s.after);
    else if (!s.after && s.redeploys) h.remove(s.name);
  }
  const options: PlanOptions = { replaceOnDown: scenario.replaceOnDown };
  const snapshot = h.snapshot();
  const plan = planPlacements(snapshot, options);
  expect(planPlacements(shuffledSnapshot(snapshot, scenario.shuffleSeed), options), 'the same plan whatever the input order').toEqual(plan);
  const settled = h.settle(options);
  expect(settled).toEqual(plan);
  checkPlacements(h, settled.pending, previous, options);

  if (plan.pending.length > 0) seen.pending++;
  if (replicasOf(h).some((r) => previous[`${r.stack}/${r.service.name}/${r.slot}`] !== undefined && previous[`${r.stack}/${r.service.name}/${r.slot}`] !== r.nodeId)) seen.moved++;
  if (replicasOf(h).some((r) => r.service.deploy.mode === 'global')) seen.global++;
  if (h.nodes.some((n) => n.availability === 'drain')) seen.drained++;
  if (replicasOf(h).some((r) => r.service.deploy.placement.preferences.length > 0)) seen.spread++;
}

describe('scheduler properties', () => {
  it('plans are safe, complete, even, order-independent and idempotent', () => {
    fc.assert(fc.property(scenarioArb, run), { numRuns: 400 });
    for (const [what, runs] of Object.entries(seen)) expect(runs, `runs with ${what}`).toBeGreaterThan(10);
  });

  it('a fresh plan on one cluster is the same under input reordering, as a whole', () => {
    fc.assert(fc.property(scenarioArb, (scenario) => {
      const h = new SchedulerHarness(scenario.nodes.filter((n) => n.before).map((n) => toNode(n.id, n.before!)));
      for (const s of scenario.stacks) if (s.before) h.deploy(s.name, s.before);
      const snapshot = h.snapshot();
      expect(planPlacements(shuffledSnapshot(snapshot, scenario.shuffleSeed))).toEqual(planPlacements(snapshot));
    }), { numRuns: 200 });
  });
});
