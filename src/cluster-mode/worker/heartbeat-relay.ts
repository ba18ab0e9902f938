import type { Clock } from '../../seams/clock.ts';
import type { Heartbeat } from '../status-board.ts';

export interface HeartbeatRelayOptions {
  readonly clock: Clock;
  /** Sends a batch to the leader; resolves with needFull per node id. */
  readonly send: (beats: readonly Heartbeat[]) => Promise<Readonly<Record<string, boolean>>>;
  /** How long beats gather before one batch leaves. */
  readonly flushDelayMs: number;
}

interface Pending {
  beat: Heartbeat;
  readonly waiters: ((needFull: boolean) => void)[];
}

/**
 * A follower manager relays its workers' heartbeats to the leader in batches: one request per
 * flush for all of them, instead of one per worker and period, so the leader's cost grows with
 * the number of managers, not with the number of connections to them. Two beats of one worker
 * inside one batch merge (the newer status wins; a status is never dropped for a bare beat). A
 * batch that fails asks every worker in it for its full status next time.
 */
export function createHeartbeatRelay(options: HeartbeatRelayOptions): { relay(beat: Heartbeat): Promise<{ needFull: boolean }>; stop(): void } {
  let pending = new Map<string, Pending>();
  let timer: unknown;
  let stopped = false;
  const flush = (): void => {
    timer = undefined;
    const batch = pending;
    pending = new Map();
    if (batch.size === 0) return;
    const settle = (answer: (nodeId: string) => boolean): void => {
      for (const [nodeId, entry] of batch) for (const waiter of entry.waiters) waiter(answer(nodeId));
    };
    options.send([...batch.values()].map((entry) => entry.beat)).then(
      (answers) => settle((nodeId) => answers[nodeId] ?? true),
      () => settle(() => true),
    );
  };
  return {
    relay: (beat) => {
      if (stopped) return Promise.resolve({ needFull: true });
      return new Promise((resolve) => {
        const waiter = (needFull: boolean): void => resolve({ needFull });
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
      for (const entry of pending.values()) for (const waiter of entry.waiters) waiter(true);
      pending.clear();
    },
  };
}
