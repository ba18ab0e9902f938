import type { Logger } from 'pino';
import type { ContainerView, ServiceStatus } from '../../actors/agent-types.ts';
import type { NodeView } from '../../api/routes/nodes.ts';
import type { ClientRequest, ClusterCommand } from '../../cluster/commands.ts';
import type { Clock } from '../../seams/clock.ts';
import type { HeartbeatAnswer } from '../heartbeat-loop.ts';
import { PeerRpcError } from '../peer-rpc.ts';
import type { ClusterNode } from '../start-cluster-node.ts';
import type { Heartbeat } from '../status-board.ts';
import { createHeartbeatRelay } from './heartbeat-relay.ts';
import type { IngressListener } from '../../ingress/ingress-table.ts';
import { startWorkerSessionServer, type WorkerSessionServer } from './session-server.ts';
import type { WorkerReadAnswer, WorkerSubmitAnswer } from './worker-api-client.ts';

/** What a worker's API may ask the leader to do: what the REST API itself writes, nothing else. */
const FORWARDABLE: ReadonlySet<ClusterCommand['type']> = new Set(['deploy-stack', 'remove-stack', 'update-node', 'rollback-stack']);

export interface ManagerWorkerRoutesOptions {
  readonly cluster: ClusterNode;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly heartbeatIntervalMs: number;
  /** The leader's intake of one heartbeat (its status board). */
  readonly receive: (heartbeat: Heartbeat) => HeartbeatAnswer;
  /** What the API on this manager shows, handed to a worker's API. */
  readonly view: () => { readonly containers: readonly ContainerView[]; readonly services: readonly ServiceStatus[]; readonly nodeViews: readonly NodeView[] };
  readonly removeNode: (id: string) => Promise<void>;
  /** The cluster's ingress table, streamed to workers over their sessions. */
  readonly ingress?: () => readonly IngressListener[];
}

function isBeat(value: unknown): value is Heartbeat {
  const beat = value as Partial<Heartbeat> | null;
  if (typeof beat !== 'object' || beat === null || typeof beat.nodeId !== 'string') return false;
  if (beat.engineDown !== undefined && typeof beat.engineDown !== 'boolean') return false;
  return beat.status === undefined || (Array.isArray(beat.status.containers) && Array.isArray(beat.status.services));
}

/**
 * A manager's side of its workers: their sessions, the relay of their heartbeats to the leader
 * (followers batch them, see heartbeat-relay.ts), and the routes a worker's API forwards to —
 * reads answered from this manager's applied state once it has caught up to the worker's last
 * write, and writes submitted through this manager's store (which forwards them to the leader).
 */
export function installManagerWorkerRoutes(options: ManagerWorkerRoutesOptions): WorkerSessionServer {
  const { cluster, clock, logger } = options;
  const relay = createHeartbeatRelay({
    clock,
    flushDelayMs: Math.max(20, Math.min(100, options.heartbeatIntervalMs / 5)),
    send: async (beats) => {
      const leaderId = cluster.raft.status().leaderId;
      const address = leaderId === undefined ? undefined : cluster.addressOf(leaderId);
      if (!address) throw new PeerRpcError('no_leader', 'no leader known yet', 503);
      const answer = await cluster.callPeer<{ needFull: Record<string, boolean>; appliedIndex?: number }>(address, '/cluster/worker-beats', { beats }, Math.max(1000, options.heartbeatIntervalMs * 2));
      // (A leader that does not say what it applied grants no lease.)
      return { needFull: answer.needFull, appliedIndex: typeof answer.appliedIndex === 'number' ? answer.appliedIndex : Number.POSITIVE_INFINITY };
    },
  });
  cluster.addRoute('/cluster/worker-beats', {
    auth: 'cluster-secret',
    handle: (body) => {
      const beats = (body as { beats?: unknown }).beats;
      if (!Array.isArray(beats) || !beats.every(isBeat)) return Promise.reject(new PeerRpcError('invalid_heartbeat', 'worker-beats needs {beats: [{nodeId, status?}]}', 400));
      if (!cluster.isLeader()) return Promise.reject(new PeerRpcError('not_leader', `${cluster.identity.nodeId} is not the leader`, 503));
      const needFull: Record<string, boolean> = {};
      for (const beat of beats) {
        // A relayed beat is only taken for a worker: a manager reports for itself.
        if (cluster.store.current().nodes[beat.nodeId]?.role !== 'worker') continue;
        needFull[beat.nodeId] = options.receive(beat).needFull;
      }
      return Promise.resolve({ needFull, appliedIndex: cluster.raft.status().appliedIndex });
    },
  });
  const sessions = startWorkerSessionServer({
    cluster,
    clock,
    logger,
    heartbeatIntervalMs: options.heartbeatIntervalMs,
    onBeat: (beat) => {
      if (!cluster.isLeader()) return relay.relay(beat);
      const answer = options.receive(beat);
      return Promise.resolve({ needFull: answer.needFull, ...(answer.appliedIndex === undefined ? {} : { leaderIndex: answer.appliedIndex }) });
    },
    ...(options.ingress ? { ingress: options.ingress } : {}),
  });

  const caughtUp = async (minIndex: unknown): Promise<void> => {
    if (typeof minIndex !== 'number' || minIndex <= 0) return;
    await cluster.store.appliedUpTo(minIndex, clock.nowMs() + 10_000);
  };
  cluster.addRoute('/cluster/worker-read', {
    auth: 'worker',
    handle: async (body) => {
      await caughtUp((body as { minIndex?: unknown }).minIndex);
      const state = cluster.store.current();
      return { appliedIndex: state.appliedIndex, stacks: state.stacks, nodes: state.nodes, placements: state.placements, history: state.history, rollouts: state.rollouts, ...options.view() } satisfies WorkerReadAnswer;
    },
  });
  cluster.addRoute('/cluster/worker-submit', {
    auth: 'worker',
    handle: async (body, caller) => {
      const request = (body as { request?: ClientRequest }).request;
      if (!request || typeof request.clientId !== 'string' || typeof request.seq !== 'number' || typeof request.command !== 'object' || request.command === null) {
        throw new PeerRpcError('invalid_request', 'worker-submit needs {request: {clientId, seq, command}}', 400);
      }
      if (!FORWARDABLE.has(request.command.type)) throw new PeerRpcError('forbidden_for_workers', `a worker may not submit "${String(request.command.type)}"`, 403);
      // Roles change only through a manager's API, past its quorum and manager-count checks.
      if (request.command.type === 'update-node' && request.command.role !== undefined) throw new PeerRpcError('forbidden_for_workers', 'a worker may not change a node\'s role', 403);
      logger.debug({ worker: caller, command: request.command.type }, 'write forwarded by a worker');
      const result = await cluster.store.submit(request);
      return { result, appliedIndex: cluster.raft.status().appliedIndex } satisfies WorkerSubmitAnswer;
    },
  });
  cluster.addRoute('/cluster/worker-remove-node', {
    auth: 'worker',
    handle: async (body) => {
      const nodeId = (body as { nodeId?: unknown }).nodeId;
      if (typeof nodeId !== 'string') throw new PeerRpcError('invalid_request', 'worker-remove-node needs {nodeId}', 400);
      await options.removeNode(nodeId);
      return { appliedIndex: cluster.raft.status().appliedIndex };
    },
  });
  return {
    sessions: () => sessions.sessions(),
    stop: () => {
      relay.stop();
      sessions.stop();
    },
  };
}
