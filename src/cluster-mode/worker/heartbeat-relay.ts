import type { Clock } from '../../seams/clock.ts';
import type { Heartbeat } from '../status-board.ts';

export interface HeartbeatRelayOptions {
  readonly clock: Clock;
  /** Sends a batch to the leader; resolves with needFull per node id it took, and what it had applied. */
  readonly send: (beats: readonly Heartbeat[]) => Promise<{ readonly needFull: Readonly<Record<string, boolean>>; readonly appliedIndex: number }>;
  /** How long beats gather before one batch leaves. */
  readonly flushDelayMs: number;
}

export interface RelayAnswer {
  readonly needFull: boolean;
  /** What the leader had applied when it took the beat; absent if it did not take it. */
  readonly leaderIndex?: number;
}

interface Pending {
  beat: Heartbeat;
  readonly waiters: ((answer: RelayAnswer) => void)[];
}

/**
 * A follower manager relays its workers' heartbeats to the leader in batches: one request per
 * flush for all of them, instead of one per worker and period, so the leader's cost grows with
 * the number of managers, not with the number of connections to them. Two beats of one worker
 * inside one batch merge (the newer status wins; a status is never dropped for a bare beat). A
 * batch that fails asks every worker in it for its full status next time.
 */
export function createHeartbeatRelay(options: HeartbeatRelayOptions): { relay(beat: Heartbeat): Promise<RelayAnswer>; stop(): void } {
  let pending = new Map<string, Pending>();
  let timer: unknown;
  let stopped = false;
  const flush = (): void => {
    timer = undefined;
    const batch = pending;
    pending = new Map();
    if (batch.size === 0) return;
    const settle = (answer: (nodeId: string) => RelayAnswer): void => {
      for (const [nodeId, entry] of batch) for (const waiter of entry.waiters) waiter(answer(nodeId));
    };
    options.send([...batch.values()].map((entry) => entry.beat)).then(
      (answers) => settle((nodeId) => (Object.hasOwn(answers.needFull, nodeId) ? { needFull: answers.needFull[nodeId]!, leaderIndex: answers.appliedIndex } : { needFull: true })),
      () => settle(() => ({ needFull: true })),
    );
  };
  return {
    relay: (beat) => {
      if (stopped) return Promise.resolve({ needFull: true });
      return new Promise((resolve) => {
        const waiter = (answer: RelayAnswer): void => resolve(answer);
        const entry = pending.get(beat.nodeId);
        if (entry) {
          if (beat.status) entry.beat = beat;
          entry.waiters.push(waiter);
        } else {
          pending.set(beat.nodeId, { beat, waiters: [waiter] });
        }
        timer ??= options.clock.setTimeout(flush, options.flushDelayMs);
      });
    },
    stop: () => {
      stopped = true;
      if (timer !== undefined) options.clock.clearTimeout(timer);
      for (const entry of pending.values()) for (const waiter of entry.waiters) waiter({ needFull: true });
      pending.clear();
    },
  };
}
