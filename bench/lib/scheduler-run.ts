/**
 * The scheduler benchmark's workload and measurement (used by `npm run bench:scheduler` and by
 * `npm run bench:cluster` for its placementsPerSecond): the pure planPlacements, no daemon, no
 * log, no engine. Simulated nodes (10 zones, a rack label, managers, a few drained/paused/down
 * nodes, varied capacity) and stacks × replicas with constraints, zone spread, reservations and
 * max_replicas_per_node — the shape of Nomad's C1M (1,000 jobs × 1,000 tasks), scaled to our
 * per-service cap. Placements per second for a plan from empty (median of the rounds), plus the
 * cost of a plan that changes nothing and of draining 1 % of the nodes.
 *
 * Nomad's number is a published figure (HashiCorp's "C1M" write-up, 2016: 1,000,000 containers on
 * 5,000 nodes in about 4.5 minutes ≈ 3,750 placements/s, many scheduler workers on many servers),
 * not a run on this machine; the ratio is a reference point only.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { nextPlacement, type PlacementRecord } from '../../src/cluster/placements.ts';
import type { ServiceSpec } from '../../src/compose/types.ts';
import { planPlacements } from '../../src/scheduler/plan-placements.ts';
import type { Plan, SchedulerNode, SchedulerSnapshot, SchedulerStack } from '../../src/scheduler/types.ts';
import { describeHost } from './host.ts';

export const nomadC1mPlacementsPerSecond = 3750;
const gib = 2 ** 30;

export interface SchedulerBenchSettings {
  readonly rounds: number;
  readonly nodes: number;
  readonly stacks: number;
  /** Replicas per service (one service per stack). */
  readonly replicas: number;
}

export const defaultSchedulerBenchSettings: SchedulerBenchSettings = { rounds: 5, nodes: 10_000, stacks: 100, replicas: 1000 };

export type SchedulerBenchReport = ReturnType<typeof runSchedulerBench>['report'];

/** Deterministic cluster: the i-th node's traits follow from i, so every run plans the same input. */
function makeNodes(nodeCount: number): SchedulerNode[] {
  return Array.from({ length: nodeCount }, (_, i): SchedulerNode => ({
    id: `node-${String(i).padStart(5, '0')}`,
    hostname: `host-${i}`,
    role: i % 200 === 0 ? 'manager' : 'worker',
    availability: i % 97 === 0 ? 'drain' : i % 89 === 0 ? 'pause' : 'active',
    status: i % 101 === 0 ? 'down' : 'ready',
    labels: { zone: `zone-${i % 10}`, rack: `rack-${i % 250}`, ...(i % 4 === 0 ? { disk: 'ssd' } : {}), ...(i % 7 === 0 ? { tier: 'batch' } : {}) },
    platform: { os: 'linux', arch: i % 20 === 0 ? 'aarch64' : 'x86_64' },
    capacity: { nanoCpus: (i % 3 === 0 ? 16 : 8) * 1e9, memoryBytes: (i % 3 === 0 ? 32 : 16) * gib },
  }));
}

/** Four kinds of service, cycling over the stacks: each with constraints and zone spread. */
function makeStacks(count: number, replicas: number): SchedulerStack[] {
  const update = { parallelism: 1, delayMs: 0, failureAction: 'pause', monitorMs: 0, maxFailureRatio: 0, order: 'stop-first' } as const;
  const kinds: { constraints: string[]; spread: string[]; cpus: number; memoryBytes: number; max?: number }[] = [
    { constraints: ['node.role==worker'], spread: ['node.labels.zone'], cpus: 0.25, memoryBytes: 256 * 2 ** 20 },
    { constraints: ['node.role==worker', 'node.labels.tier!=batch'], spread: ['node.labels.zone', 'node.labels.rack'], cpus: 0.5, memoryBytes: 512 * 2 ** 20 },
    { constraints: ['node.labels.disk==ssd'], spread: ['node.labels.zone'], cpus: 0.1, memoryBytes: 128 * 2 ** 20, max: 2 },
    { constraints: ['node.platform.arch==amd64', 'node.role!=manager'], spread: [], cpus: 0.2, memoryBytes: 64 * 2 ** 20 },
  ];
  return Array.from({ length: count }, (_, i): SchedulerStack => {
    const kind = kinds[i % kinds.length]!;
    const spec: ServiceSpec = {
      name: 'app', image: 'busybox:1', environment: {}, ports: [], volumes: [], labels: {}, dependsOn: {}, capAdd: [], capDrop: [], devices: [], stopGracePeriodMs: 1000,
      deploy: {
        mode: 'replicated', replicas,
        placement: { constraints: kind.constraints, preferences: kind.spread.map((spread) => ({ spread })), ...(kind.max === undefined ? {} : { maxReplicasPerNode: kind.max }) },
        resources: { limits: {}, reservations: { cpus: kind.cpus, memoryBytes: kind.memoryBytes } },
        restartPolicy: { condition: 'any', delayMs: 0, windowMs: 0 }, updateConfig: update, rollbackConfig: update, labels: {},
      },
    };
    return { name: `stack-${String(i).padStart(4, '0')}`, version: 1, spec: { name: `stack-${i}`, services: [spec] } };
  });
}

function apply(plan: Plan, placements: Record<string, Record<string, PlacementRecord>>): void {
  for (const command of plan.commands) {
    const table = (placements[command.stack] ??= {});
    table[command.service] = nextPlacement(command, table[command.service]);
  }
}

/** Wall time and this process's CPU time: on a shared machine the second shows what the plan itself cost. */
function timed(snapshot: SchedulerSnapshot): { plan: Plan; ms: number; cpuMs: number } {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const plan = planPlacements(snapshot);
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { plan, ms, cpuMs: (used.user + used.system) / 1000 };
}

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;

export function runSchedulerBench(settings: SchedulerBenchSettings, commit: string) {
  const { rounds, nodes: nodeCount, stacks: stackCount, replicas: replicasPerService } = settings;
  const nodes = makeNodes(nodeCount);
  const stacks = makeStacks(stackCount, replicasPerService);
  const totalReplicas = stackCount * replicasPerService;
  const loadAtStart = loadavg()[0]!;

  const fresh: number[] = [];
  const freshCpu: number[] = [];
  let plan: Plan | undefined;
  // One unmeasured warm-up so the JIT has compiled the hot paths, as in any steady-state leader.
  timed({ nodes, stacks, placements: {} });
  for (let r = 0; r < rounds; r++) {
    const result = timed({ nodes, stacks, placements: {} });
    fresh.push(result.ms);
    freshCpu.push(result.cpuMs);
    plan = result.plan;
  }
  const placed = plan!.commands.reduce((sum, c) => sum + Object.keys(c.slots).length, 0);

  const placements: Record<string, Record<string, PlacementRecord>> = {};
  apply(plan!, placements);
  const unchanged = timed({ nodes, stacks, placements });
  if (unchanged.plan.commands.length !== 0) throw new Error(`a plan of the applied plan changed ${unchanged.plan.commands.length} services`);

  // Drain every 100th active node: its replicas move, nothing else does.
  const drainedIds = new Set(nodes.filter((n, i) => n.availability === 'active' && i % 100 === 1).map((n) => n.id));
  const drainedNodes = nodes.map((n) => (drainedIds.has(n.id) ? { ...n, availability: 'drain' as const } : n));
  const drain = timed({ nodes: drainedNodes, stacks, placements });
  let moved = 0;
  for (const command of drain.plan.commands) {
    const before = placements[command.stack]![command.service]!.slots;
    for (const [slot, nodeId] of Object.entries(command.slots)) if (before[slot] !== nodeId) moved++;
  }

  // The same replicas as ten times as many services of a tenth the size: gathering candidates is
  // O(nodes) per service, so this shape shows that term (one round, after the warm-up above).
  const smallStacks = makeStacks(stackCount * 10, Math.max(1, Math.round(replicasPerService / 10)));
  const small = timed({ nodes, stacks: smallStacks, placements: {} });
  const smallPlaced = small.plan.commands.reduce((sum, c) => sum + Object.keys(c.slots).length, 0);

  // Wall-clock rate: what a leader on this (shared) machine would see.
  const placementsPerSecond = Math.round(placed / (median(fresh) / 1000));
  const report = {
    benchmark: 'scheduler' as const,
    date: new Date().toISOString(),
    commit,
    machine: describeHost(),
    loadAverage: { atStart: round(loadAtStart), atEnd: round(loadavg()[0]!), note: 'the machine is shared; higher load means noisier numbers' },
    method: 'planPlacements in-process on a generated snapshot (no I/O); one warm-up plan, then `rounds` plans from empty, median reported',
    settings: {
      nodes: nodeCount, stacks: stackCount, servicesPerStack: 1, replicasPerService, totalReplicas, rounds,
      nodeMix: '10 zones, 250 racks, 1 in 200 managers, 1 in 97 drained, 1 in 89 paused, 1 in 101 down, 1 in 20 aarch64, 8 or 16 CPUs',
      serviceKinds: 'role/tier/disk/arch constraints; spread on zone or zone+rack; 0.1–0.5 CPU and 64–512 MiB reserved; one kind max_replicas_per_node 2',
    },
    results: {
      freshPlanMs: fresh.map((ms) => round(ms)),
      freshPlanMedianMs: round(median(fresh)),
      freshPlanCpuMs: freshCpu.map((ms) => round(ms)),
      placementsPerCpuSecond: Math.round(placed / (median(freshCpu) / 1000)),
      placed,
      pending: plan!.pending.length,
      unchangedPlanMs: round(unchanged.ms),
      unchangedPlanCpuMs: round(unchanged.cpuMs),
      drain: { nodesDrained: drainedIds.size, replicasMoved: moved, planMs: round(drain.ms), planCpuMs: round(drain.cpuMs) },
      manySmallServices: {
        stacks: smallStacks.length, replicasPerService: smallStacks[0]!.spec.services[0]!.deploy.replicas, placed: smallPlaced,
        planMs: round(small.ms), planCpuMs: round(small.cpuMs), placementsPerSecond: Math.round(smallPlaced / (small.ms / 1000)),
        note: 'one round; candidate gathering costs O(nodes) per service, so many small services place slower than few large ones',
      },
    },
    reference: {
      note: 'published figure, not a same-machine run: HashiCorp Nomad C1M (2016), 1,000,000 containers on 5,000 nodes, ≈ 3,750 placements/s',
      nomadC1mPlacementsPerSecond,
    },
    summary: {
      placementsPerSecond,
      overNomadC1mPublished: round(placementsPerSecond / nomadC1mPlacementsPerSecond, 2),
      aim: '>= 50000 placements/s',
    },
  };
  const lines: string[] = [];
  lines.push(`${totalReplicas} replicas on ${nodeCount} nodes: ${placed} placed, ${plan!.pending.length} pending; plan from empty median ${report.results.freshPlanMedianMs} ms → ${placementsPerSecond} placements/s (${report.summary.overNomadC1mPublished}x Nomad's published C1M rate)`);
  lines.push(`as ${smallStacks.length} services: ${smallPlaced} placed in ${round(small.ms)} ms → ${report.results.manySmallServices.placementsPerSecond} placements/s`);
  lines.push(`unchanged re-plan ${report.results.unchangedPlanMs} ms; drain of ${drainedIds.size} nodes moved ${moved} replicas in ${report.results.drain.planMs} ms`);
  return { report, lines };
}
