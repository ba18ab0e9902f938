/**
 * Builds scheduler snapshots and records the plans made from them instead of applying them
 * anywhere real. `apply` writes a plan into the harness's own placement table through the same
 * check and update the replicated state uses (placementProblem, nextPlacement), so a command the
 * log would refuse fails the test; `settle` applies and re-plans to check the fixed point.
 */
import { expect } from 'vitest';
import type { NodeRecord } from '../../../src/cluster/commands.ts';
import { nextPlacement, placementProblem, trimPlacements, type PlacementRecord } from '../../../src/cluster/placements.ts';
import type { PortSpec, ServiceSpec } from '../../../src/compose/types.ts';
import { planPlacements } from '../../../src/scheduler/plan-placements.ts';
import type { Plan, PlanOptions, SchedulerNode, SchedulerSnapshot, SchedulerStack } from '../../../src/scheduler/types.ts';

export const gib = 2 ** 30;

export function node(id: string, overrides: Partial<SchedulerNode> = {}): SchedulerNode {
  return {
    id,
    hostname: `host-${id}`,
    role: 'worker',
    availability: 'active',
    status: 'ready',
    labels: {},
    platform: { os: 'linux', arch: 'x86_64' },
    capacity: { nanoCpus: 4e9, memoryBytes: 8 * gib },
    ...overrides,
  };
}

export interface ServiceOptions {
  replicas?: number;
  mode?: 'replicated' | 'global';
  constraints?: string[];
  spread?: string[];
  maxReplicasPerNode?: number;
  cpus?: number;
  memoryBytes?: number;
  /** Published host ports (tcp). */
  ports?: number[];
}

export function service(name: string, options: ServiceOptions = {}): ServiceSpec {
  const update = { parallelism: 1, delayMs: 0, failureAction: 'pause', monitorMs: 0, maxFailureRatio: 0, order: 'stop-first' } as const;
  const ports: PortSpec[] = (options.ports ?? []).map((published) => ({ target: published, published, protocol: 'tcp', mode: 'host' }));
  return {
    name,
    image: 'busybox:1',
    environment: {},
    ports,
    volumes: [],
    labels: {},
    dependsOn: {},
    capAdd: [],
    capDrop: [],
    devices: [],
    stopGracePeriodMs: 1000,
    deploy: {
      mode: options.mode ?? 'replicated',
      replicas: options.replicas ?? 1,
      placement: {
        constraints: options.constraints ?? [],
        preferences: (options.spread ?? []).map((spread) => ({ spread })),
        ...(options.maxReplicasPerNode === undefined ? {} : { maxReplicasPerNode: options.maxReplicasPerNode }),
      },
      resources: {
        limits: {},
        reservations: { ...(options.cpus === undefined ? {} : { cpus: options.cpus }), ...(options.memoryBytes === undefined ? {} : { memoryBytes: options.memoryBytes }) },
      },
      restartPolicy: { condition: 'any', delayMs: 0, windowMs: 0 },
      updateConfig: update,
      rollbackConfig: update,
      labels: {},
    },
  };
}

export class SchedulerHarness {
  nodes: SchedulerNode[];
  readonly stacks = new Map<string, SchedulerStack>();
  // Prototype-free, as the cluster state keeps them: a service may be called "__proto__".
  readonly placements: Record<string, Record<string, PlacementRecord>> = Object.create(null) as Record<string, Record<string, PlacementRecord>>;
  /** Every plan made, applied or not. */
  readonly plans: Plan[] = [];

  constructor(nodes: SchedulerNode[] = []) {
    this.nodes = nodes;
  }

  /** Deploys (or redeploys) a stack as the replicated state does: a new version, placements trimmed to the new spec. */
  deploy(name: string, services: ServiceSpec[]): this {
    const version = (this.stacks.get(name)?.version ?? 0) + 1;
    this.stacks.set(name, { name, version, spec: { name, services } });
    const kept = trimPlacements(Object.hasOwn(this.placements, name) ? this.placements[name] : undefined, services);
    if (kept) this.placements[name] = Object.assign(Object.create(null) as Record<string, PlacementRecord>, kept);
    else delete this.placements[name];
    return this;
  }

  remove(name: string): this {
    this.stacks.delete(name);
    delete this.placements[name];
    return this;
  }

  updateNode(id: string, change: Partial<SchedulerNode>): this {
    this.nodes = this.nodes.map((n) => (n.id === id ? { ...n, ...change } : n));
    return this;
  }

  snapshot(): SchedulerSnapshot {
    return { nodes: this.nodes, stacks: [...this.stacks.values()], placements: this.placements };
  }

  plan(options: PlanOptions = {}): Plan {
    const plan = planPlacements(this.snapshot(), options);
    this.plans.push(plan);
    return plan;
  }

  /** Applies each command as the replicated state would, failing on any the log would refuse. */
  apply(plan: Plan): this {
    const nodeRecords: Record<string, NodeRecord> = Object.fromEntries(this.nodes.map((n) => [n.id, { id: n.id, address: n.hostname, labels: n.labels }]));
    for (const command of plan.commands) {
      const stack = this.stacks.get(command.stack);
      const problem = placementProblem(command, { stackVersion: stack?.version, service: stack?.spec.services.find((s) => s.name === command.service), nodes: nodeRecords });
      expect(problem, `${command.stack}/${command.service} refused`).toBeUndefined();
      const table = (this.placements[command.stack] ??= Object.create(null) as Record<string, PlacementRecord>);
      table[command.service] = nextPlacement(command, table[command.service]);
    }
    return this;
  }

  /** Plans, applies, and checks that planning again changes nothing; returns the applied plan. */
  settle(options: PlanOptions = {}): Plan {
    const plan = this.plan(options);
    this.apply(plan);
    const again = this.plan(options);
    expect(again.commands, 'planning the applied plan again').toEqual([]);
    expect(again.pending).toEqual(plan.pending);
    return plan;
  }

  slots(stack: string, service: string): Record<string, string> {
    const table = this.placements[stack];
    return { ...(table !== undefined && Object.hasOwn(table, service) ? table[service]!.slots : {}) };
  }

  /** node id → replicas of the service there. */
  perNode(stack: string, service: string): Record<string, number> {
    const counts = Object.create(null) as Record<string, number>;
    for (const nodeId of Object.values(this.slots(stack, service))) counts[nodeId] = (counts[nodeId] ?? 0) + 1;
    return counts;
  }
}
