import type { Logger } from 'pino';
import type { ClusterStateData } from '../../cluster/state.ts';
import type { Clock } from '../../seams/clock.ts';
import { PEER_AUTH_HEADER, verifyPeerRequest } from '../peer-auth.ts';
import type { ClusterNode } from '../start-cluster-node.ts';
import type { Heartbeat } from '../status-board.ts';
import { AssignmentIndex } from './assignment-index.ts';
import {
  managerProof, parseWorkerFrame, SESSION_NODE_HEADER, SESSION_NONCE_HEADER, sessionBody, WORKER_SESSION_PATH,
  type ManagerAddress, type ManagerFrame,
} from './session-protocol.ts';
import type { SessionSocket } from './session-socket.ts';
import { workerKey } from './worker-key.ts';
import type { IngressListener } from '../../ingress/ingress-table.ts';

export interface WorkerSessionServerOptions {
  readonly cluster: ClusterNode;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The heartbeat period: a session silent for several is closed (its worker is gone or cut off). */
  readonly heartbeatIntervalMs: number;
  /**
   * Takes a worker's heartbeat to the leader's board (here, or relayed); resolves with needFull,
   * and with what the leader had applied when it took the beat (absent: the leader did not).
   */
  readonly onBeat: (heartbeat: Heartbeat) => Promise<{ readonly needFull: boolean; readonly leaderIndex?: number }>;
  /** Wall-clock time the upgrade's signature is checked against (default Date.now). */
  readonly wallClockMs?: () => number;
  /** The cluster's ingress table; looked at every heartbeat period and sent to every worker when it changed. */
  readonly ingress?: () => readonly IngressListener[];
}

export interface WorkerSessionServer {
  /** Node ids with an open session here. */
  sessions(): string[];
  stop(): void;
}

interface Session {
  readonly nodeId: string;
  readonly socket: SessionSocket;
  lastHeardMs: number;
  lastSentMs: number;
}

/** The answer to a plain heartbeat, serialized once. */
const PLAIN_ACK = JSON.stringify({ t: 'ack', needFull: false } satisfies ManagerFrame);

/** Client nonces are remembered this long (the signature's own window is 2 minutes either way). */
const NONCE_MEMORY_MS = 5 * 60_000;
const MAX_REMEMBERED_NONCES = 100_000;
/** A worker that cannot read this much of its stream is dropped; it reconnects and gets all anew. */
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;

function managersIn(state: Readonly<ClusterStateData>): ManagerAddress[] {
  return Object.values(state.nodes)
    .filter((record) => (record.role ?? 'manager') === 'manager')
    .map((record) => ({ id: record.id, address: record.address }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * The manager's end of worker sessions (the protocol is in session-protocol.ts). Any manager
 * serves them, leader or follower: assignments come from the manager's own applied copy of the
 * log, so a leader change does not move a single session; heartbeats go to the leader's board
 * through `onBeat`. Each state change is indexed once (AssignmentIndex) and only the workers whose
 * assignment changed receive a frame, holding only the stacks that changed.
 */
export function startWorkerSessionServer(options: WorkerSessionServerOptions): WorkerSessionServer {
  const { cluster, clock, logger } = options;
  const selfId = cluster.identity.nodeId;
  const sessions = new Map<string, Session>();
  const nonces = new Map<string, number>();
  const index = new AssignmentIndex();
  // Only frees what a vanished worker held: its liveness is the leader's node machine's call.
  const idleAfterMs = Math.max(10_000, options.heartbeatIntervalMs * 12);
  // Well inside the worker's own silence limit (8 periods, at least 6 s).
  const ackEveryMs = Math.min(options.heartbeatIntervalMs * 2, 1000) - 1;
  let managers = managersIn(cluster.store.current());
  index.update(cluster.store.current());

  const send = (session: Session, frame: ManagerFrame | string): void => {
    if (!session.socket.isOpen()) return;
    if (session.socket.bufferedBytes() > MAX_BUFFERED_BYTES) {
      logger.warn({ nodeId: session.nodeId }, 'worker session cannot keep up; closing it (the worker reconnects and receives its assignment anew)');
      session.socket.terminate();
      return;
    }
    session.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    session.lastSentMs = clock.nowMs();
  };

  const rememberNonce = (nonce: string, nowMs: number): boolean => {
    if (nonces.has(nonce)) return false;
    if (nonces.size >= MAX_REMEMBERED_NONCES) {
      for (const [known, expiresMs] of nonces) if (expiresMs <= nowMs) nonces.delete(known);
      if (nonces.size >= MAX_REMEMBERED_NONCES) return false;
    }
    nonces.set(nonce, nowMs + NONCE_MEMORY_MS);
    return true;
  };

  const open = (socket: SessionSocket, nodeId: string, clientNonce: string, key: string): void => {
    sessions.get(nodeId)?.socket.close(4000, 'replaced by a newer session of this worker');
    const session: Session = { nodeId, socket, lastHeardMs: clock.nowMs(), lastSentMs: clock.nowMs() };
    sessions.set(nodeId, session);
    logger.info({ nodeId }, 'worker session opened');
    send(session, { t: 'welcome', managerId: selfId, proof: managerProof(key, clientNonce, nodeId, selfId), managers });
    send(session, { t: 'assign', full: true, upsert: index.assignmentOf(nodeId), remove: [] });
    if (ingressFrame !== undefined) send(session, ingressFrame);
    socket.onMessage((text) => {
      let frame;
      try {
        if (text === undefined) throw new Error('binary frames are not part of the protocol');
        frame = parseWorkerFrame(text);
      } catch (error) {
        logger.warn({ nodeId, err: error }, 'worker sent a malformed frame; closing its session');
        socket.close(1008, 'malformed frame');
        return;
      }
      session.lastHeardMs = clock.nowMs();
      // The node id is the session's authenticated one, never a field of the frame.
      // A plain beat is acknowledged only every other period (the worker's watchdog needs to hear
      // from its manager, not an answer to each beat): one write per worker per two periods.
      options.onBeat({ nodeId, ...(frame.status ? { status: frame.status } : {}), ...(frame.engineDown === true ? { engineDown: true } : {}) }).then(
        (answer) => {
          // The worker's lease: only for a beat the leader itself took, and only once this
          // manager's copy of the log (whose assignments went out before this frame) has caught
          // up with the leader's, so a healed worker never restarts a singleton from stale state.
          if (frame.n !== undefined && answer.leaderIndex !== undefined && cluster.raft.status().appliedIndex >= answer.leaderIndex) {
            send(session, { t: 'ack', needFull: answer.needFull, lease: frame.n });
          } else if (answer.needFull) send(session, { t: 'ack', needFull: true });
          else if (clock.nowMs() - session.lastSentMs >= ackEveryMs) send(session, PLAIN_ACK);
        },
        (error: unknown) => {
          logger.debug({ nodeId, err: error }, 'worker heartbeat not delivered to the leader');
          send(session, { t: 'ack', needFull: true });
        },
      );
    });
    socket.onError((error) => logger.debug({ nodeId, err: error }, 'worker session error'));
    socket.onClose(() => {
      if (sessions.get(nodeId) === session) {
        sessions.delete(nodeId);
        logger.info({ nodeId }, 'worker session closed');
      }
    });
  };

  cluster.addSessionRoute(WORKER_SESSION_PATH, (header) => {
    const nodeId = header(SESSION_NODE_HEADER) ?? '';
    const nonce = header(SESSION_NONCE_HEADER) ?? '';
    const record = cluster.store.current().nodes[nodeId];
    if (record?.role !== 'worker' || !/^[0-9a-f]{64}$/.test(nonce)) {
      logger.warn({ nodeId }, 'worker session refused: not a worker of this cluster');
      return 401;
    }
    const key = workerKey(cluster.identity.secret, nodeId);
    const problem = verifyPeerRequest(key, (options.wallClockMs ?? Date.now)(), header(PEER_AUTH_HEADER), 'GET', WORKER_SESSION_PATH, sessionBody(nodeId, nonce));
    if (problem || !rememberNonce(nonce, clock.nowMs())) {
      logger.warn({ nodeId, problem: problem ?? 'replayed' }, 'worker session refused: authentication failed');
      return 401;
    }
    return (socket) => open(socket, nodeId, nonce, key);
  });

  const unsubscribe = cluster.store.subscribe((state) => {
    for (const change of index.update(state)) {
      const session = sessions.get(change.nodeId);
      if (session) send(session, { t: 'assign', full: false, upsert: change.upsert, remove: change.remove });
    }
    const next = managersIn(state);
    if (JSON.stringify(next) !== JSON.stringify(managers)) {
      managers = next;
      for (const session of sessions.values()) send(session, { t: 'managers', managers });
    }
    for (const session of sessions.values()) {
      if (state.nodes[session.nodeId]?.role !== 'worker') session.socket.close(4403, 'this node is no longer a worker of the cluster');
    }
  });
  // The ingress table changes with the board (heartbeats), not only with the log: looked at once
  // per period, serialized once, and sent to every worker only when its text changed.
  let ingressFrame: string | undefined;
  let ingressTimer: unknown;
  const pushIngress = (): void => {
    if (options.ingress !== undefined) {
      try {
        const text = JSON.stringify({ t: 'ingress', listeners: options.ingress() } satisfies ManagerFrame);
        if (text !== ingressFrame) {
          ingressFrame = text;
          for (const session of sessions.values()) send(session, text);
        }
      } catch (error) {
        logger.error({ err: error }, 'ingress table for workers could not be computed');
      }
    }
    ingressTimer = clock.setTimeout(pushIngress, options.heartbeatIntervalMs);
  };
  if (options.ingress !== undefined) pushIngress();
  // A worker that vanished without closing its TCP connection (power loss, cut link) is dropped.
  let sweep: unknown;
  const sweepIdle = (): void => {
    const now = clock.nowMs();
    for (const session of sessions.values()) if (now - session.lastHeardMs > idleAfterMs) session.socket.terminate();
    sweep = clock.setTimeout(sweepIdle, idleAfterMs / 2);
  };
  sweep = clock.setTimeout(sweepIdle, idleAfterMs / 2);

  return {
    sessions: () => [...sessions.keys()],
    stop: () => {
      clock.clearTimeout(sweep);
      clock.clearTimeout(ingressTimer);
      unsubscribe();
      for (const session of sessions.values()) session.socket.terminate();
      sessions.clear();
    },
  };
}
