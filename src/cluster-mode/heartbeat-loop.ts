import type { ContainerView, ServiceStatus } from '../actors/agent-types.ts';
import type { Clock } from '../seams/clock.ts';
import type { BoardTransfer, Heartbeat } from './status-board.ts';

export interface HeartbeatAnswer {
  readonly needFull: boolean;
  /** What the leader had applied when it answered: renews this node's lease once caught up (src/fencing). */
  readonly appliedIndex?: number;
  /** Managers receive the leader's whole board, so their API can answer for the cluster. */
  readonly board?: BoardTransfer;
}

export interface HeartbeatLoopOptions {
  readonly nodeId: string;
  readonly intervalMs: number;
  readonly clock: Clock;
  readonly status: () => { readonly containers: readonly ContainerView[]; readonly services: readonly ServiceStatus[] };
  /** Whether this node's engine is unreachable now (the beat then says so). */
  readonly engineDown?: () => boolean;
  /** Delivers to the current leader (locally when this node leads). */
  readonly send: (heartbeat: Heartbeat) => Promise<HeartbeatAnswer>;
  readonly onBoard: (board: BoardTransfer) => void;
  /** A leader answered the heartbeat sent at `sentAtMs` (this clock): the node's lease runs from there. */
  readonly onAnswered?: (sentAtMs: number, answer: HeartbeatAnswer, heartbeat: Heartbeat) => void;
  readonly onError: (error: unknown) => void;
}

/**
 * Every node reports to the leader once per period. The status rides along only when it changed,
 * or when the leader asks (it is new, or lost us), which keeps the leader's work per quiet node to
 * one small message per period.
 */
export function startHeartbeatLoop(options: HeartbeatLoopOptions): { stop(): void; beatNow(): void } {
  let lastSent: string | undefined;
  let stopped = false;
  let inFlight = false;
  let timer: unknown;
  const beat = async (): Promise<void> => {
    const status = options.status();
    const text = JSON.stringify(status);
    const flag = options.engineDown?.() ? { engineDown: true } : {};
    const heartbeat: Heartbeat = text === lastSent ? { nodeId: options.nodeId, ...flag } : { nodeId: options.nodeId, status, ...flag };
    try {
      const sentAtMs = options.clock.nowMs();
      const answer = await options.send(heartbeat);
      options.onAnswered?.(sentAtMs, answer, heartbeat);
      if (heartbeat.status) lastSent = text;
      if (answer.needFull) lastSent = undefined;
      if (answer.board) options.onBoard(answer.board);
    } catch (error) {
      // The leader may have changed: the next beat carries the full status.
      lastSent = undefined;
      options.onError(error);
    }
  };
  const loop = (): void => {
    if (stopped) return;
    if (!inFlight) {
      inFlight = true;
      void beat().finally(() => {
        inFlight = false;
      });
    }
    timer = options.clock.setTimeout(loop, options.intervalMs);
  };
  loop();
  return {
    stop: () => {
      stopped = true;
      options.clock.clearTimeout(timer);
    },
    beatNow: () => {
      options.clock.clearTimeout(timer);
      loop();
    },
  };
}
