import type { ServiceSpec, StackSpec } from '../../../src/compose/types.ts';
import type { StateStore } from '../../../src/seams/state-store.ts';
import type { ClientRequest, CommandResult } from '../../../src/cluster/commands.ts';
import { ClusterState, type ClusterStateData } from '../../../src/cluster/state.ts';
import { stableHash } from '../../../src/cluster/stable-hash.ts';

type ServiceOverrides = Partial<Omit<ServiceSpec, 'deploy'>> & { replicas?: number; restartPolicy?: ServiceSpec['deploy']['restartPolicy']; limits?: ServiceSpec['deploy']['resources']['limits'] };

export function service(name: string, overrides: ServiceOverrides = {}): ServiceSpec {
  const { replicas = 1, restartPolicy, limits = {}, ...rest } = overrides;
  const update = { parallelism: 1, delayMs: 0, failureAction: 'pause', monitorMs: 0, maxFailureRatio: 0, order: 'stop-first' } as const;
  return {
    name,
    image: 'constellation-test/busybox:1',
    command: ['sleep', '3600'],
    environment: {},
    ports: [],
    volumes: [],
    labels: {},
    dependsOn: {},
    capAdd: [],
    capDrop: [],
    devices: [],
    stopGracePeriodMs: 1000,
    deploy: {
      mode: 'replicated',
      replicas,
      placement: { constraints: [], preferences: [] },
      resources: { limits, reservations: {} },
      restartPolicy: restartPolicy ?? { condition: 'any', delayMs: 0, windowMs: 0 },
      updateConfig: update,
      rollbackConfig: update,
      labels: {},
    },
    ...rest,
  };
}

export function stack(name: string, services: ServiceSpec[]): StackSpec {
  return { name, services };
}

/** A StateStore in memory (the file store has its own tests): enough to drive the agent. */
export class MemoryStateStore implements StateStore {
  private readonly state = new ClusterState();
  private readonly listeners = new Set<(s: Readonly<ClusterStateData>) => void>();
  private seq = 0;

  async open(): Promise<void> {}
  current(): Readonly<ClusterStateData> {
    return this.state.view();
  }
  async submit(request: ClientRequest): Promise<CommandResult> {
    const result = this.state.apply(this.state.appliedIndex + 1, request);
    for (const l of this.listeners) l(this.state.view());
    return result;
  }
  subscribe(listener: (s: Readonly<ClusterStateData>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  async close(): Promise<void> {}

  deploy(spec: StackSpec): Promise<CommandResult> {
    return this.submit({ clientId: 'test', seq: ++this.seq, command: { type: 'deploy-stack', stack: spec, specHash: stableHash(spec), atMs: 0 } });
  }
  removeStack(name: string): Promise<CommandResult> {
    return this.submit({ clientId: 'test', seq: ++this.seq, command: { type: 'remove-stack', name, atMs: 0 } });
  }
}
