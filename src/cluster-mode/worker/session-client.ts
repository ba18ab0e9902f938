import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../seams/clock.ts';
import { PEER_AUTH_HEADER, signPeerRequest } from '../peer-auth.ts';
import {
  checkManagerProof, parseManagerFrame, SESSION_NODE_HEADER, SESSION_NONCE_HEADER, sessionBody, WORKER_SESSION_PATH,
  type ManagerAddress, type ManagerFrame, type WorkerFrame, type WorkerStatus,
} from './session-protocol.ts';
import { dialWsSession, type SessionDialer, type SessionSocket } from './session-socket.ts';

export interface WorkerSessionClientOptions {
  readonly nodeId: string;
  /** This worker's key (src/cluster-mode/worker/worker-key.ts). */
  readonly key: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly heartbeatIntervalMs: number;
  /** Managers' cluster-port addresses to try, in order (the last list a manager sent, saved). */
  readonly managers: () => readonly string[];
  readonly status: () => WorkerStatus;
  readonly onAssign: (frame: Extract<ManagerFrame, { t: 'assign' }>) => void;
  readonly onManagers: (managers: readonly ManagerAddress[]) => void;
  /** The leader heard the beat sent at `sentAtMs` (this clock) and the assignments are caught up: renew the lease. */
  readonly onLease?: (sentAtMs: number) => void;
  /** The cluster's ingress table, as the connected manager last sent it. */
  readonly onIngress?: (listeners: Extract<ManagerFrame, { t: 'ingress' }>['listeners']) => void;
  /** Whether this worker's engine is unreachable now: its beats then say so and renew no lease. */
  readonly engineDown?: () => boolean;
  /** How a connection is opened (default: a WebSocket over TCP; the simulator passes its own). */
  readonly dial?: SessionDialer;
  /** Reconnection jitter source in [0, 1) (default Math.random; the simulator's is seeded). */
  readonly random?: () => number;
  /** Signing time for the upgrade (default Date.now: the manager checks it against its own wall clock). */
  readonly wallClockMs?: () => number;
}

export interface WorkerSessionClient {
  /** The manager this worker is connected to, if any. */
  connected(): ManagerAddress | undefined;
  stop(): void;
}

/**
 * The worker's end of its session: connects to one manager at a time, proves itself in the signed
 * upgrade, checks the manager's proof in its first frame, then beats every period and applies the
 * assignments it is sent. When the session drops (the manager died, or went silent for several
 * periods) it goes on to the next manager it knows, with a back-off only once every one failed in
 * a row. Losing every manager changes nothing that runs: the assignments held stay in force.
 */
export function startWorkerSessionClient(options: WorkerSessionClientOptions): WorkerSessionClient {
  const { clock, logger } = options;
  // Generous on purpose: a dead manager's socket closes at once (the kernel resets it); this only
  // catches a manager cut off without a reset. Tighter, a manager that is merely slow (a loaded
  // machine, a GC pause) would lose every worker at once and take their reconnections on top.
  const silentAfterMs = Math.max(6000, options.heartbeatIntervalMs * 8);
  let stopped = false;
  const dial = options.dial ?? dialWsSession;
  const random = options.random ?? Math.random;
  const wallClockMs = options.wallClockMs ?? Date.now;
  let socket: SessionSocket | undefined;
  let current: ManagerAddress | undefined;
  let attempt = 0;
  let failuresInRow = 0;
  let reconnectTimer: unknown;
  let beatTimer: unknown;
  let lastSentStatus: string | undefined;
  let lastHeardMs = 0;
  // Send times of the recent beats by number; an ack older than these renews nothing useful.
  let beatNumber = 0;
  const sentAt = new Map<number, number>();

  const schedule = (delayMs: number): void => {
    if (stopped) return;
    reconnectTimer = clock.setTimeout(connect, delayMs);
  };

  function connect(): void {
    reconnectTimer = undefined;
    if (stopped) return;
    const list = options.managers();
    if (list.length === 0) {
      logger.warn('no manager address known; cannot open a worker session');
      schedule(5000);
      return;
    }
    const address = list[attempt % list.length]!;
    attempt += 1;
    const nonce = randomBytes(32).toString('hex');
    const ws = dial(address, WORKER_SESSION_PATH, {
      [SESSION_NODE_HEADER]: options.nodeId,
      [SESSION_NONCE_HEADER]: nonce,
      [PEER_AUTH_HEADER]: signPeerRequest(options.key, wallClockMs(), 'GET', WORKER_SESSION_PATH, sessionBody(options.nodeId, nonce)),
    });
    socket = ws;
    let welcomed = false;
    lastHeardMs = clock.nowMs();
    const fail = (reason: string, error?: unknown): void => {
      logger.debug({ manager: address, reason, err: error }, 'worker session attempt failed');
    };
    ws.onError((error) => fail('socket error', error));
    ws.onMessage((text) => {
      let frame: ManagerFrame;
      try {
        if (text === undefined) throw new Error('binary frames are not part of the protocol');
        frame = parseManagerFrame(text);
      } catch (error) {
        logger.warn({ manager: address, err: error }, 'manager sent a malformed frame; closing the session');
        ws.close(1008, 'malformed frame');
        return;
      }
      lastHeardMs = clock.nowMs();
      if (!welcomed) {
        if (frame.t !== 'welcome' || !checkManagerProof(options.key, nonce, options.nodeId, frame.managerId, frame.proof)) {
          logger.warn({ manager: address }, 'the manager did not prove it holds this worker\'s key; not its cluster');
          ws.terminate();
          return;
        }
        welcomed = true;
        failuresInRow = 0;
        current = { id: frame.managerId, address };
        lastSentStatus = undefined;
        logger.info({ manager: frame.managerId, address }, 'worker session open');
        options.onManagers(frame.managers);
        beat();
        return;
      }
      switch (frame.t) {
        case 'assign':
          options.onAssign(frame);
          break;
        case 'managers':
          options.onManagers(frame.managers);
          break;
        case 'ack': {
          if (frame.needFull) lastSentStatus = undefined;
          const sent = frame.lease === undefined ? undefined : sentAt.get(frame.lease);
          if (sent !== undefined) options.onLease?.(sent);
          break;
        }
        case 'ingress':
          options.onIngress?.(frame.listeners);
          break;
        case 'welcome':
          break;
      }
    });
    ws.onClose(() => {
      if (socket === ws) socket = undefined;
      if (beatTimer !== undefined) clock.clearTimeout(beatTimer);
      beatTimer = undefined;
      if (welcomed) logger.warn({ manager: current?.id, address }, 'worker session lost; trying the next manager (what runs keeps running)');
      else failuresInRow += 1;
      current = undefined;
      if (stopped) return;
      // Straight on to the next manager; back off once every known one failed in a row.
      const rounds = Math.floor(failuresInRow / Math.max(1, options.managers().length));
      // A manager that dies drops all its workers at once: a random delay of up to two periods
      // spreads their reconnections over the next manager instead of landing them in one burst.
      const jitterMs = Math.floor(random() * options.heartbeatIntervalMs * 2);
      schedule(failuresInRow === 0 ? jitterMs : rounds === 0 ? 50 : Math.min(5000, 250 * 2 ** Math.min(5, rounds - 1)) + jitterMs);
    });
  }

  function beat(): void {
    beatTimer = undefined;
    const ws = socket;
    if (stopped || !ws || !ws.isOpen()) return;
    if (clock.nowMs() - lastHeardMs > silentAfterMs) {
      logger.warn({ manager: current?.id }, 'manager silent for too long; dropping the session');
      ws.terminate();
      return;
    }
    const status = options.status();
    const text = JSON.stringify(status);
    const n = ++beatNumber;
    const engineDown = options.engineDown?.() === true;
    // (A beat that says the engine is down is not counted by the leader: no lease from its ack.)
    if (!engineDown) sentAt.set(n, clock.nowMs());
    sentAt.delete(n - 64);
    const flag = engineDown ? { engineDown: true } : {};
    const frame: WorkerFrame = text === lastSentStatus ? { t: 'beat', n, ...flag } : { t: 'beat', status, n, ...flag };
    lastSentStatus = text;
    ws.send(JSON.stringify(frame));
    beatTimer = clock.setTimeout(beat, options.heartbeatIntervalMs);
  }

  connect();
  return {
    connected: () => current,
    stop: () => {
      stopped = true;
      if (reconnectTimer !== undefined) clock.clearTimeout(reconnectTimer);
      if (beatTimer !== undefined) clock.clearTimeout(beatTimer);
      socket?.terminate();
    },
  };
}
