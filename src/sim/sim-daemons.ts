/**
 * One simulated daemon incarnation, composed as src/daemon/start-daemon.ts composes the real one
 * but on the simulator's seams. A manager: its Raft member's state store, the node lease and the
 * fenced store, the node agent on the in-memory engine, and the cluster services (heartbeats, the
 * leader's scheduling loop with node machines, failover and placement, worker sessions). A worker:
 * its assignment store, its node lease (renewed by its manager's lease acks) and the fenced store,
 * the node agent and its session client to a manager.
 */
import type { Logger } from 'pino';
import { noopTelemetry, startDaemonSystem, type DaemonSystem } from '../actors/daemon-system.ts';
import type { ClusterNode } from '../cluster-mode/start-cluster-node.ts';
import { AssignmentStore, type AssignmentFile } from '../cluster-mode/worker/assignment-store.ts';
import { startWorkerSessionClient, type WorkerSessionClient } from '../cluster-mode/worker/session-client.ts';
import { workerKey } from '../cluster-mode/worker/worker-key.ts';
import type { Config } from '../config/config-schema.ts';
import { startClusterServices, type ClusterServices } from '../daemon/cluster-services.ts';
import { FencedStore } from '../fencing/fenced-store.ts';
import { NodeLease } from '../fencing/node-lease.ts';
import { stopAtMostOnceBeforeSync } from '../fencing/fence-before-sync.ts';
import { failoverTiming } from '../orchestrator/failover/failover-timing.ts';
import type { Clock } from '../seams/clock.ts';
import type { ContainerRuntime } from '../seams/container-runtime.ts';
import { MemoryRestartLedger } from '../seams/restart-ledger.ts';
import type { SeededRandom } from './seeded-random.ts';
import { simAddress } from './sim-cluster-node.ts';
import type { SimPeerLinks } from './sim-peer-links.ts';

export interface SimTimings {
  readonly heartbeatIntervalMs: number;
  readonly nodeDownAfterMs: number;
  readonly electionTimeoutMs: number;
  readonly raftHeartbeatIntervalMs: number;
  readonly reconcileIntervalMs: number;
}

export function simConfig(nodeId: string, timings: SimTimings): Config {
  return {
    node: { id: nodeId, dataDir: `/sim/${nodeId}`, labels: {} },
    docker: { host: 'sim' },
    api: { host: '127.0.0.1', port: 0, token: 'sim', readOnlyToken: '' },
    cluster: {
      bootstrap: false, token: '', secret: 'sim', listen: { host: nodeId, port: 7421 }, advertiseAddress: simAddress(nodeId), seeds: [],
      heartbeatIntervalMs: timings.heartbeatIntervalMs, nodeDownAfterMs: timings.nodeDownAfterMs,
      discovery: { tailscale: { enabled: false, socket: '', tag: '' } },
    },
    raft: { electionTimeoutMs: timings.electionTimeoutMs, heartbeatIntervalMs: timings.raftHeartbeatIntervalMs, snapshotEveryEntries: 10_000 },
    reconcile: { intervalMs: timings.reconcileIntervalMs },
    log: { level: 'silent', format: 'json' },
    metrics: { enabled: false },
  };
}

export interface SimDaemon {
  readonly id: string;
  readonly incarnation: number;
  /** Stops every actor of this incarnation (its clock is killed by the caller). */
  stop(): void;
}

export interface SimManagerDaemon extends SimDaemon {
  readonly cluster: ClusterNode;
  readonly lease: NodeLease;
  /** Set once the member caught up with its log and the agent started (as start-daemon waits). */
  system?: DaemonSystem;
  services?: ClusterServices;
}

export function startSimManager(options: { cluster: ClusterNode; clock: Clock; engine: ContainerRuntime; timings: SimTimings; logger: Logger; incarnation: number }): SimManagerDaemon {
  const { cluster, clock, timings, logger } = options;
  const id = cluster.identity.nodeId;
  const config = simConfig(id, timings);
  const leaseMs = failoverTiming({ heartbeatIntervalMs: timings.heartbeatIntervalMs, nodeDownAfterMs: timings.nodeDownAfterMs, electionTimeoutMs: timings.electionTimeoutMs }).leaseMs;
  const lease = new NodeLease({ clock, leaseMs, appliedIndex: () => cluster.raft.status().appliedIndex });
  let stopped = false;
  const daemon: SimManagerDaemon = {
    id,
    incarnation: options.incarnation,
    cluster,
    lease,
    stop: () => {
      stopped = true;
      daemon.services?.stop();
      void daemon.system?.stop();
      lease.stop();
      void cluster.stop();
    },
  };
  cluster.store.stateChanged();
  void (async () => {
    await stopAtMostOnceBeforeSync(options.engine, id, logger);
    await cluster.synced();
    if (stopped) return;
    const system = await startDaemonSystem({
      nodeId: id,
      runPlacedOnly: true,
      runtime: options.engine,
      store: new FencedStore(cluster.store, id, lease, logger),
      clock,
      logger,
      telemetry: noopTelemetry,
      reconcileIntervalMs: timings.reconcileIntervalMs,
      restartLedger: new MemoryRestartLedger(),
    });
    if (stopped) return void system.stop();
    daemon.system = system;
    daemon.services = startClusterServices({ cluster, system, config, clock, logger, lease, wallClockMs: () => clock.nowMs() });
  })();
  return daemon;
}

export interface SimWorkerDaemon extends SimDaemon {
  readonly store: AssignmentStore;
  system?: DaemonSystem;
  session?: WorkerSessionClient;
}

/** The assignments a worker saved, kept across its incarnations (its disk). */
export function memoryAssignmentFile(id: string): AssignmentFile {
  let saved: string | undefined;
  return {
    location: `memory:${id}/assignments.json`,
    read: () => Promise.resolve(saved),
    replace: (text) => {
      saved = text;
      return Promise.resolve();
    },
  };
}

export function startSimWorker(options: {
  id: string; incarnation: number; clock: Clock; engine: ContainerRuntime; timings: SimTimings; logger: Logger;
  file: AssignmentFile; links: SimPeerLinks; random: SeededRandom; managers: () => readonly string[];
}): SimWorkerDaemon {
  const { id, clock, timings, logger } = options;
  const store = new AssignmentStore(options.file, logger);
  const leaseMs = failoverTiming({ heartbeatIntervalMs: timings.heartbeatIntervalMs, nodeDownAfterMs: timings.nodeDownAfterMs, electionTimeoutMs: timings.electionTimeoutMs }).leaseMs;
  const lease = new NodeLease({ clock, leaseMs, appliedIndex: () => 0 });
  let stopped = false;
  let managers: readonly string[] = options.managers();
  const daemon: SimWorkerDaemon = {
    id,
    incarnation: options.incarnation,
    store,
    stop: () => {
      stopped = true;
      daemon.session?.stop();
      lease.stop();
      void daemon.system?.stop();
      void store.close();
    },
  };
  void (async () => {
    await store.open();
    const system = await startDaemonSystem({
      nodeId: id, runPlacedOnly: true, runtime: options.engine, store: new FencedStore(store, id, lease, logger), clock, logger,
      telemetry: noopTelemetry, reconcileIntervalMs: timings.reconcileIntervalMs, restartLedger: new MemoryRestartLedger(),
    });
    if (stopped) return void system.stop();
    daemon.system = system;
    daemon.session = startWorkerSessionClient({
      nodeId: id,
      key: workerKey('sim', id),
      clock,
      logger,
      heartbeatIntervalMs: timings.heartbeatIntervalMs,
      managers: () => managers,
      status: () => ({ containers: system.containers(), services: system.services() }),
      onAssign: (frame) => store.apply(frame),
      onLease: (sentAtMs) => lease.renew(sentAtMs, 0),
      onManagers: (list) => {
        if (list.length > 0) managers = list.map((manager) => manager.address);
      },
      dial: options.links.dialer(id),
      random: () => options.random.next(),
    });
  })();
  return daemon;
}
