import type { AnyActorRef } from 'xstate';
import type { Logger } from 'pino';
import type { ContainerView, DaemonSystem, ServiceStatus } from '../actors/daemon-system.ts';
import { PeerRpcError } from '../cluster-mode/peer-rpc.ts';
import type { ClusterNode } from '../cluster-mode/start-cluster-node.ts';
import { clusterContainers, clusterServices } from '../cluster-mode/cluster-views.ts';
import { startHeartbeatLoop, type HeartbeatAnswer } from '../cluster-mode/heartbeat-loop.ts';
import { StatusBoard, type Heartbeat } from '../cluster-mode/status-board.ts';
import type { Config } from '../config/config-schema.ts';
import type { PlacementReconciler } from '../orchestrator/placement/placement-reconciler.ts';
import { failoverTiming } from '../orchestrator/failover/failover-timing.ts';
import type { FailoverEvent } from '../orchestrator/failover/failover-reconciler.ts';
import { startLeaderScheduling } from '../orchestrator/failover/leader-scheduling.ts';
import { replicaReadyOnBoard } from '../orchestrator/failover/replica-ready.ts';
import { nodeTimingFrom } from '../machines/node-timing.ts';
import type { NodeStatus } from '../scheduler/types.ts';
import type { NodeLease } from '../fencing/node-lease.ts';
import { registerFailoverMetrics } from '../metrics/failover-metrics.ts';
import type { Registry } from 'prom-client';
import type { Clock } from '../seams/clock.ts';
import { installJoinRoutes } from '../cluster-mode/join-server.ts';
import { installManagerWorkerRoutes } from '../cluster-mode/worker/manager-worker-routes.ts';
import { startManagerMembership } from '../cluster-mode/manager-membership.ts';
import { installNodeOperations } from '../cluster-mode/node-operations.ts';
import type { ClusterApi } from '../api/api-deps.ts';
import type { NodeView } from '../api/routes/nodes.ts';
import { clusterIngressTable } from '../ingress/start-ingress.ts';
import { startRolloutReconciler, type RolloutStep } from '../orchestrator/rollout/rollout-reconciler.ts';

export interface ClusterServices {
  /** The API's view of what runs, for the whole cluster. */
  readonly agentView: { containers(): ContainerView[]; services(): ServiceStatus[] };
  readonly placements: PlacementReconciler;
  readonly api: ClusterApi;
  statusOf(nodeId: string): NodeStatus;
  /** The node machines' actor system while this daemon leads (for the inspector). */
  membershipActor(): AnyActorRef | undefined;
  stop(): void;
}

function isHeartbeat(body: unknown): body is Heartbeat {
  const value = body as Partial<Heartbeat> | null;
  if (typeof value !== 'object' || value === null || typeof value.nodeId !== 'string') return false;
  const status = value.status as Heartbeat['status'] | undefined;
  if (value.engineDown !== undefined && typeof value.engineDown !== 'boolean') return false;
  return status === undefined || (Array.isArray(status.containers) && Array.isArray(status.services));
}

/**
 * The cluster's moving parts around one daemon: its heartbeats to the leader, and, while it leads,
 * the status board those heartbeats feed and the placement reconciler. Followers mirror the board
 * from heartbeat answers, so the API on any manager answers for the whole cluster.
 */
export function startClusterServices(options: { cluster: ClusterNode; system: DaemonSystem; config: Config; clock: Clock; logger: Logger; lease?: NodeLease; registry?: Registry; onRolloutStep?: (step: RolloutStep) => void; onRolloutMachine?: (actor: AnyActorRef, live: boolean) => void; onFailover?: (event: FailoverEvent) => void; wallClockMs?: () => number }): ClusterServices {
  const { cluster, system, config, clock, logger } = options;
  const nodeId = config.node.id;
  const board = new StatusBoard();
  const metrics = options.registry ? registerFailoverMetrics(options.registry, () => Object.keys(cluster.store.current().nodes).map((id) => statusOf(id))) : undefined;
  // Liveness (node machines), failover policy and placement loop: src/orchestrator/failover.
  const scheduling = startLeaderScheduling({
    selfId: nodeId,
    isLeader: () => cluster.isLeader(),
    current: () => cluster.store.current(),
    subscribe: (listener) => cluster.store.subscribe(listener),
    submit: (command) => cluster.submit(command),
    clock,
    logger,
    nodeTiming: nodeTimingFrom(config.cluster.heartbeatIntervalMs, config.cluster.nodeDownAfterMs),
    onFailover: (event) => {
      metrics?.failover(event.cause, event.seconds);
      options.onFailover?.(event);
    },
    replicaReady: replicaReadyOnBoard((id) => board.report(id), () => cluster.store.current()),
    failoverTiming: failoverTiming({ heartbeatIntervalMs: config.cluster.heartbeatIntervalMs, nodeDownAfterMs: config.cluster.nodeDownAfterMs, electionTimeoutMs: config.raft.electionTimeoutMs }),
  });
  const placements = scheduling.placements;
  const statusOf = (id: string): NodeStatus => {
    if (scheduling.liveness.leading()) return scheduling.liveness.statusOf(id);
    // A follower manager only shows status, from the board it mirrors off the leader (ages).
    if (id === nodeId) return 'ready';
    const report = board.report(id);
    return report && clock.nowMs() - report.lastSeenMs <= config.cluster.nodeDownAfterMs ? 'ready' : 'down';
  };
  const receive = (heartbeat: Heartbeat): HeartbeatAnswer => {
    // A node whose engine is down is alive but cannot run anything: its beat is not counted.
    if (heartbeat.engineDown === true) scheduling.engineDown(heartbeat.nodeId);
    else scheduling.heartbeat(heartbeat.nodeId, heartbeat.status !== undefined);
    const answer = board.receive(heartbeat, clock.nowMs());
    // Every Raft member (a demoted manager stays a learner) serves the API, so it mirrors the board.
    const { voters, learners } = cluster.raft.status().membership;
    const isMember = voters.includes(heartbeat.nodeId) || learners.includes(heartbeat.nodeId);
    return { needFull: answer.needFull, appliedIndex: cluster.raft.status().appliedIndex, ...(isMember ? { board: board.exportAt(clock.nowMs()) } : {}) };
  };
  cluster.addRoute('/cluster/heartbeat', {
    auth: 'cluster-secret',
    handle: (body) => {
      if (!isHeartbeat(body)) return Promise.reject(new PeerRpcError('invalid_heartbeat', 'a heartbeat is {nodeId, status?: {containers, services}}', 400));
      if (!cluster.isLeader()) return Promise.reject(new PeerRpcError('not_leader', `${nodeId} is not the leader`, 503));
      return Promise.resolve(receive(body));
    },
  });
  installJoinRoutes(cluster, clock, logger);
  const workers = installManagerWorkerRoutes({
    cluster,
    clock,
    logger,
    heartbeatIntervalMs: config.cluster.heartbeatIntervalMs,
    receive,
    view: () => ({ containers: clusterContainers(board.snapshot()), services: clusterServices(cluster.store.current(), board.snapshot(), placements.pending()), nodeViews: nodes() }),
    removeNode: (id) => removeNode(id),
    // Workers forward published ports of services they do not run: the table rides their sessions.
    ingress: () => clusterIngressTable({ state: () => cluster.store.current(), clusterContainers: () => clusterContainers(board.snapshot()), nodeUp: (id) => statusOf(id) === 'ready' }),
  });
  // Rolling updates over the whole cluster's replicas (the board), led like placement.
  const rollouts = startRolloutReconciler({
    isLeader: () => cluster.isLeader(),
    current: () => cluster.store.current(),
    subscribe: (listener) => cluster.store.subscribe(listener),
    containers: () => clusterContainers(board.snapshot()),
    submit: (command) => cluster.submit(command),
    clock,
    // Stamps on committed rollout progress; the simulator passes its virtual clock.
    wallClockMs: options.wallClockMs ?? (() => Date.now()),
    logger: logger.child({ component: 'rollout' }),
    ...(options.onRolloutStep ? { onStep: options.onRolloutStep } : {}),
    ...(options.onRolloutMachine ? { onMachine: options.onRolloutMachine } : {}),
    intervalMs: Math.min(1000, config.cluster.heartbeatIntervalMs),
  });
  const unsubscribeRole = cluster.raft.actor.subscribe(() => {
    scheduling.leadershipChanged();
    rollouts.trigger();
  });
  const managers = startManagerMembership({ cluster, clock, logger, intervalMs: config.cluster.heartbeatIntervalMs, statusOf });
  const operations = installNodeOperations({ cluster, clock, statusOf, roleChanged: () => managers.trigger() });
  const heartbeats = startHeartbeatLoop({
    nodeId,
    intervalMs: config.cluster.heartbeatIntervalMs,
    clock,
    status: () => ({ containers: system.containers(), services: system.services() }),
    engineDown: () => system.engineReachable?.() === false,
    send: async (heartbeat) => {
      if (cluster.isLeader()) return receive(heartbeat);
      const leaderId = cluster.raft.status().leaderId;
      const address = leaderId === undefined ? undefined : cluster.addressOf(leaderId);
      if (!address) throw new PeerRpcError('no_leader', 'no leader known yet', 503);
      return cluster.callPeer<HeartbeatAnswer>(address, '/cluster/heartbeat', heartbeat, Math.max(1000, config.cluster.heartbeatIntervalMs * 2));
    },
    // A beat that said the engine is down was not counted by the leader, so it renews no lease.
    onAnswered: (sentAtMs, answer, heartbeat) => {
      if (heartbeat.engineDown !== true) options.lease?.renew(sentAtMs, answer.appliedIndex ?? 0);
    },
    onBoard: (snapshot) => {
      if (!cluster.isLeader()) board.replaceWith(snapshot, clock.nowMs());
    },
    onError: (error) => logger.debug({ err: error }, 'heartbeat not delivered'),
  });
  const removeMember = async (id: string): Promise<void> => {
    const membership = cluster.raft.status().membership;
    if (![...membership.voters, ...membership.learners].includes(id)) return;
    await cluster.onLeader('/cluster/remove-member', { nodeId: id });
  };
  cluster.addLeaderRoute('/cluster/remove-member', async (body) => {
    const id = (body as { nodeId?: unknown }).nodeId;
    if (typeof id !== 'string') throw new PeerRpcError('invalid_request', 'remove-member needs {nodeId}', 400);
    await cluster.raft.removeMember(id);
    return {};
  });
  const removeNode = async (id: string): Promise<void> => {
    await removeMember(id);
    const result = await cluster.submit({ type: 'remove-node', nodeId: id });
    if (!result.ok) throw new PeerRpcError(result.code, result.message, 409);
    board.forget(id);
  };
  const nodes = (): NodeView[] => {
    const state = cluster.store.current();
    const leaderId = cluster.raft.status().leaderId;
    const containers = clusterContainers(board.snapshot());
    const membership = cluster.raft.status().membership;
    const raftOf = (id: string): NodeView['raft'] => (membership.voters.includes(id) ? 'voter' : membership.learners.includes(id) ? 'learner' : 'none');
    return Object.values(state.nodes)
      .map((record) => ({
        id: record.id,
        hostname: record.hostname ?? record.id,
        role: record.role ?? 'manager',
        status: statusOf(record.id),
        availability: record.availability ?? 'active',
        leader: record.id === leaderId,
        raft: raftOf(record.id),
        address: record.address,
        containers: containers.filter((container) => container.node === record.id).length,
        labels: record.labels,
        ...(record.platform ? { platform: record.platform } : {}),
        ...(record.capacity ? { capacity: record.capacity } : {}),
      }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  };
  return {
    api: {
      nodes,
      tokens: operations.tokens,
      rotateToken: operations.rotateToken,
      setRole: operations.setRole,
      removeNode: (id) => removeNode(id),
    },
    agentView: {
      containers: () => clusterContainers(board.snapshot()),
      services: () => clusterServices(cluster.store.current(), board.snapshot(), placements.pending()),
    },
    placements,
    statusOf,
    membershipActor: () => scheduling.liveness.membershipActor(),
    stop: () => {
      workers.stop();
      managers.stop();
      heartbeats.stop();
      scheduling.stop();
      rollouts.stop();
      unsubscribeRole.unsubscribe();
    },
  };
}
