/**
 * The whole cluster on the simulator's seams (issue 6 and 7): N managers — the real Raft member
 * with the daemon composed around it (sim-daemons.ts) — and M workers, each node with its own
 * in-memory engine, clock (drift, pauses, crashes) and cluster port (sim-peer-links.ts), all on
 * one virtual clock and one seed. A crash is a machine's: the daemon and its engine's containers
 * die; a restart boots a new incarnation on the same disk (Raft log, saved assignments).
 * The invariants of whole-cluster-checks.ts run after every clock step.
 */
import pino, { type Logger } from 'pino';
import type { ClusterCommand, CommandResult } from '../cluster/commands.ts';
import type { ServiceSpec } from '../compose/types.ts';
import type { NodeId } from '../raft/types.ts';
import { ClusterSim } from './cluster-sim.ts';
import { SeededRandom } from './seeded-random.ts';
import { simAddress, simClusterNode } from './sim-cluster-node.ts';
import { memoryAssignmentFile, startSimManager, startSimWorker, type SimManagerDaemon, type SimTimings, type SimWorkerDaemon } from './sim-daemons.ts';
import type { NetworkFaults } from './sim-network.ts';
import { SimPeerLinks } from './sim-peer-links.ts';
import { SimRuntime } from './sim-runtime.ts';
import type { AssignmentFile } from '../cluster-mode/worker/assignment-store.ts';
import { ClockScope } from './virtual-clock.ts';

export const defaultSimTimings: SimTimings = {
  heartbeatIntervalMs: 500,
  nodeDownAfterMs: 2000,
  electionTimeoutMs: 1000,
  raftHeartbeatIntervalMs: 100,
  reconcileIntervalMs: 5000,
};

export interface WholeClusterSimOptions {
  readonly seed: number;
  readonly managers: number;
  readonly workers: number;
  readonly timings?: SimTimings;
  readonly faults?: NetworkFaults;
  /** Each node's clock runs at 1 ± up to this many per mille of true time. */
  readonly clockDriftPerMille?: number;
  /** Checked after every clock step; throw to stop the run. */
  readonly onStep?: () => void;
  readonly logger?: Logger;
}

export interface Submitted {
  readonly result: CommandResult;
  /** The applied index of the manager that answered: every manager past it holds the write. */
  readonly appliedIndex: number;
}

interface WorkerMachine {
  readonly rate: number;
  readonly file: AssignmentFile;
  scope: ClockScope | undefined;
  incarnation: number;
}

export class WholeClusterSim {
  readonly raft: ClusterSim;
  readonly links: SimPeerLinks;
  readonly timings: SimTimings;
  readonly managerIds: readonly NodeId[];
  readonly workerIds: readonly NodeId[];
  readonly nodeIds: readonly NodeId[];
  readonly engines = new Map<NodeId, SimRuntime>();
  private readonly managers = new Map<NodeId, SimManagerDaemon>();
  private readonly workers = new Map<NodeId, SimWorkerDaemon>();
  private readonly machines = new Map<NodeId, WorkerMachine>();
  private readonly random: SeededRandom;
  private readonly logger: Logger;
  private seq = 0;

  constructor(private readonly options: WholeClusterSimOptions) {
    this.timings = options.timings ?? defaultSimTimings;
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.random = new SeededRandom(`whole-cluster/${options.seed}`);
    this.raft = new ClusterSim({
      seed: options.seed,
      nodeCount: options.managers,
      electionTimeoutMs: this.timings.electionTimeoutMs,
      heartbeatIntervalMs: this.timings.raftHeartbeatIntervalMs,
      ...(options.faults ? { faults: options.faults } : {}),
      ...(options.clockDriftPerMille === undefined ? {} : { clockDriftPerMille: options.clockDriftPerMille }),
      // As start-cluster-node wires it: every applied batch, no-op entries of a new term included.
      onApplied: (id) => this.managers.get(id)?.cluster.store.stateChanged(),
      onStarted: (id, node, clock, incarnation) => {
        const cluster = simClusterNode({ id, raft: node, clock, links: this.links, founders: this.raft.founders, incarnation });
        this.managers.set(id, startSimManager({ cluster, clock, engine: this.engine(id), timings: this.timings, logger: this.logger.child({ node: id }), incarnation }));
      },
      ...(options.onStep ? { onStep: options.onStep } : {}),
    });
    this.links = new SimPeerLinks({
      clock: this.raft.clock,
      random: this.random.fork('links'),
      linkUp: (from, to) => this.raft.network.linkUp(from, to),
      faults: () => this.raft.network.currentFaults(),
      pausedUntilMs: (id) => this.pausedUntilMs(id),
    });
    this.managerIds = this.raft.founders;
    this.workerIds = Array.from({ length: options.workers }, (_, i) => `w${i + 1}`);
    this.nodeIds = [...this.managerIds, ...this.workerIds];
    const drift = options.clockDriftPerMille ?? 0;
    for (const id of this.workerIds) {
      const rate = 1 + ((this.random.fork(`drift/${id}`).next() * 2 - 1) * drift) / 1000;
      this.machines.set(id, { rate, file: memoryAssignmentFile(id), scope: undefined, incarnation: 0 });
    }
  }

  get clock(): ClusterSim['clock'] {
    return this.raft.clock;
  }

  /** Boots the managers, registers every node, then boots the workers (joined, as by their token). */
  async start(): Promise<void> {
    await this.raft.start();
    for (const id of this.nodeIds) {
      const role = this.managerIds.includes(id) ? 'manager' : 'worker';
      await this.submit({ type: 'register-node', node: { id, address: simAddress(id), labels: {}, role, availability: 'active', joinedAtMs: this.clock.nowMs() } });
    }
    for (const id of this.workerIds) this.bootWorker(id);
  }

  /** Submits through a live manager's store (as the API does), retrying until committed. */
  async submit(command: ClusterCommand, limitMs = 60_000): Promise<Submitted> {
    const pending = this.startSubmit(command);
    await this.clock.runUntil(() => pending.outcome !== undefined, limitMs);
    if (!pending.outcome) throw new Error(`${command.type} not committed within ${limitMs} ms of virtual time`);
    return pending.outcome;
  }

  /** Starts a submit that goes on retrying while the caller runs the clock; `outcome` is set once answered. */
  startSubmit(command: ClusterCommand): { outcome: Submitted | undefined } {
    const clientId = 'sim-client';
    const seq = ++this.seq;
    const pending: { outcome: Submitted | undefined } = { outcome: undefined };
    let attempts = 0;
    const attempt = (): void => {
      const live = this.managerIds.filter((id) => this.managers.get(id)?.services !== undefined);
      const via = live[attempts++ % Math.max(1, live.length)];
      const daemon = via === undefined ? undefined : this.managers.get(via);
      if (!daemon) return void this.clock.setTimeout(attempt, 200);
      // Same client id and seq on every retry: the state machine applies the request once.
      daemon.cluster.store.submit({ clientId, seq, command }).then(
        (result) => {
          pending.outcome ??= { result, appliedIndex: daemon.cluster.raft.status().appliedIndex };
        },
        () => this.clock.setTimeout(attempt, 200),
      );
    };
    attempt();
    return pending;
  }

  deploy(name: string, services: ServiceSpec[]): Promise<Submitted> {
    return this.submit(this.deployCommand(name, services));
  }

  deployCommand(name: string, services: ServiceSpec[]): ClusterCommand {
    return { type: 'deploy-stack', stack: { name, services }, specHash: `${name}-${++this.seq}`, atMs: this.clock.nowMs() };
  }

  /** Power loss: the daemon and every container of the node die; its disk stays. */
  crash(id: NodeId): void {
    this.stopDaemon(id);
    this.engine(id).goDown();
  }

  /** kill -9 of the daemon alone: the engine and its containers live on (restart it with `restart`). */
  killDaemon(id: NodeId): void {
    this.stopDaemon(id);
    // The dead process's event streams close with it.
    this.engine(id).breakStreams();
  }

  /** The daemon process ends at once: its links drop and its in-memory state is gone. */
  private stopDaemon(id: NodeId): void {
    this.links.crash(id);
    if (this.managerIds.includes(id)) {
      this.managers.get(id)?.stop();
      this.managers.delete(id);
      this.raft.crash(id);
    } else {
      const machine = this.machines.get(id)!;
      machine.scope?.kill();
      machine.scope = undefined;
      this.workers.get(id)?.stop();
      this.workers.delete(id);
    }
  }

  restart(id: NodeId): void {
    this.engine(id).comeBack();
    if (this.managerIds.includes(id)) this.raft.restart(id);
    else this.bootWorker(id);
  }

  isUp(id: NodeId): boolean {
    return this.managerIds.includes(id) ? this.raft.isUp(id) || this.managers.has(id) : this.workers.has(id);
  }

  pause(id: NodeId, ms: number): void {
    if (this.managerIds.includes(id)) this.raft.pause(id, ms);
    else this.machines.get(id)?.scope?.pause(ms);
  }

  pausedUntilMs(id: NodeId): number {
    return this.managerIds.includes(id) ? this.raft.pausedUntilMs(id) : (this.machines.get(id)?.scope?.pausedUntilMs() ?? 0);
  }

  manager(id: NodeId): SimManagerDaemon | undefined {
    return this.managers.get(id);
  }

  worker(id: NodeId): SimWorkerDaemon | undefined {
    return this.workers.get(id);
  }

  /** The daemon of the member that leads (highest term), if any. */
  leader(): SimManagerDaemon | undefined {
    const node = this.raft.leader();
    return node ? this.managers.get(node.status().id) : undefined;
  }

  /** True when the leader's node machines hold every node ready. */
  allReady(): boolean {
    const services = this.leader()?.services;
    return services !== undefined && this.nodeIds.every((id) => services.statusOf(id) === 'ready');
  }

  engine(id: NodeId): SimRuntime {
    let engine = this.engines.get(id);
    if (!engine) {
      engine = new SimRuntime({ clock: this.clock });
      this.engines.set(id, engine);
    }
    return engine;
  }

  async shutdown(): Promise<void> {
    for (const daemon of [...this.managers.values(), ...this.workers.values()]) daemon.stop();
    for (const machine of this.machines.values()) machine.scope?.kill();
    this.managers.clear();
    this.workers.clear();
    await this.raft.shutdown();
  }

  private bootWorker(id: NodeId): void {
    const machine = this.machines.get(id)!;
    machine.incarnation += 1;
    const scope = new ClockScope(this.clock, machine.rate);
    machine.scope = scope;
    this.workers.set(id, startSimWorker({
      id,
      incarnation: machine.incarnation,
      clock: scope,
      engine: this.engine(id),
      timings: this.timings,
      logger: this.logger.child({ node: id }),
      file: machine.file,
      links: this.links,
      random: this.random.fork(`session/${id}/${machine.incarnation}`),
      managers: () => this.managerIds.map(simAddress),
    }));
  }
}
