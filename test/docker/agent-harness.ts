import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createDockerRuntime, type DockerodeRuntime } from '../../src/adapters/docker/dockerode-runtime.ts';
import { FileStateStore } from '../../src/adapters/file-state-store.ts';
import { systemClock } from '../../src/adapters/system-clock.ts';
import { startDaemonSystem, type AgentEvent, type DaemonSystem } from '../../src/actors/daemon-system.ts';
import { noopTelemetry } from '../../src/actors/agent-telemetry.ts';
import { nodeSelector } from '../../src/agent/labels.ts';
import { stableHash } from '../../src/cluster/stable-hash.ts';
import type { ServiceSpec, StackSpec } from '../../src/compose/types.ts';
import { eventually } from '../support/eventually.ts';

/** A node agent on a real engine with a real file state store, for the agent-*.test.ts files. */
export interface RealAgent {
  readonly nodeId: string;
  readonly runtime: DockerodeRuntime;
  readonly store: FileStateStore;
  agent: DaemonSystem;
  readonly events: AgentEvent[];
  deploy(stack: StackSpec): Promise<void>;
  removeStack(name: string): Promise<void>;
  /** Waits, event by event, until `predicate` holds on the agent; fails naming `what`. */
  waitFor(predicate: (agent: DaemonSystem) => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** Stops the agent (containers keep running) and starts a fresh one on the same store and engine. */
  restartAgent(): Promise<void>;
  /** Removes every container of this node, stops the agent, deletes the data dir. */
  dispose(): Promise<void>;
}

export async function startRealAgent(dockerHost: string, nodeId: string): Promise<RealAgent> {
  const dataDir = await mkdtemp(join(tmpdir(), `agent-${nodeId}-`));
  const runtime = createDockerRuntime(dockerHost);
  const store = new FileStateStore(dataDir);
  await store.open();
  const events: AgentEvent[] = [];
  const waiters = new Set<() => void>();
  let seq = 0;
  const start = async () => {
    const agent = await startDaemonSystem({ nodeId, runtime, store, clock: systemClock, logger: pino({ level: 'silent' }), telemetry: noopTelemetry, reconcileIntervalMs: 2000 });
    agent.subscribe((event) => {
      events.push(event);
      for (const w of [...waiters]) w();
    });
    return agent;
  };
  const real: RealAgent = {
    nodeId,
    runtime,
    store,
    agent: await start(),
    events,
    async deploy(stack) {
      const result = await store.submit({ clientId: 'test', seq: ++seq, command: { type: 'deploy-stack', stack, specHash: stableHash(stack), atMs: Date.now() } });
      if (!result.ok) throw new Error(`deploy refused: ${result.message}`);
    },
    async removeStack(name) {
      const result = await store.submit({ clientId: 'test', seq: ++seq, command: { type: 'remove-stack', name, atMs: Date.now() } });
      if (!result.ok) throw new Error(`remove refused: ${result.message}`);
    },
    waitFor(predicate, what, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          let held = false;
          try {
            held = predicate(real.agent);
          } catch {
            held = false;
          }
          if (!held) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; services: ${JSON.stringify(real.agent.services())}; containers: ${JSON.stringify(real.agent.containers())}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async restartAgent() {
      await real.agent.stop();
      real.agent = await start();
    },
    async dispose() {
      await real.agent.stop();
      const leftovers = await runtime.list(nodeSelector(nodeId));
      await Promise.all(leftovers.map((c) => runtime.remove(c.id)));
      await eventually(async () => (await runtime.list(nodeSelector(nodeId))).length === 0, { timeoutMs: 30_000, what: `containers of ${nodeId} removed` });
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return real;
}

/** A replica that stops at once on SIGTERM (a bare `sleep` as PID 1 would ignore it). */
export const SLEEPER = ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'];

export function realService(name: string, image: string, overrides: Partial<Omit<ServiceSpec, 'deploy'>> & { replicas?: number; restartPolicy?: ServiceSpec['deploy']['restartPolicy'] } = {}): ServiceSpec {
  const { replicas = 1, restartPolicy, ...rest } = overrides;
  const update = { parallelism: 1, delayMs: 0, failureAction: 'pause', monitorMs: 0, maxFailureRatio: 0, order: 'stop-first' } as const;
  return {
    name,
    image,
    command: SLEEPER,
    environment: {},
    ports: [],
    volumes: [],
    labels: {},
    dependsOn: {},
    capAdd: [],
    capDrop: [],
    devices: [],
    stopGracePeriodMs: 2000,
    deploy: {
      mode: 'replicated',
      replicas,
      placement: { constraints: [], preferences: [] },
      resources: { limits: {}, reservations: {} },
      restartPolicy: restartPolicy ?? { condition: 'any', delayMs: 100, windowMs: 0 },
      updateConfig: update,
      rollbackConfig: update,
      labels: {},
    },
    ...rest,
  };
}

export function converged(agent: DaemonSystem, stack: string): boolean {
  const services = agent.services().filter((s) => s.stack === stack);
  return services.length > 0 && services.every((s) => s.converged);
}
