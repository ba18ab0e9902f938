import { describe, expect, it } from 'vitest';
import { createHeartbeatRelay } from '../../../src/cluster-mode/worker/heartbeat-relay.ts';
import type { Heartbeat } from '../../../src/cluster-mode/status-board.ts';
import type { Clock } from '../../../src/seams/clock.ts';

/** A clock whose timers run only when the test says so. */
function manualClock() {
  const timers = new Map<number, () => void>();
  let next = 0;
  const clock: Clock = {
    nowMs: () => 0,
    setTimeout: (callback) => {
      next += 1;
      timers.set(next, callback);
      return next;
    },
    clearTimeout: (handle) => timers.delete(handle as number),
  };
  const fire = (): void => {
    const due = [...timers.values()];
    timers.clear();
    for (const callback of due) callback();
  };
  return { clock, fire, pending: () => timers.size };
}

const status = (n: number): Heartbeat['status'] => ({ containers: [], services: [{ stack: 's', service: `v${n}`, image: 'i', desiredReplicas: n, running: n, healthy: 0, healthcheck: false, converged: true, failed: false }] });

describe('heartbeat relay (a follower manager batching its workers\' beats to the leader)', () => {
  it('sends one batch for many workers, merges two beats of one worker keeping its status, and answers each', async () => {
    const { clock, fire } = manualClock();
    const batches: (readonly Heartbeat[])[] = [];
    const relay = createHeartbeatRelay({ clock, flushDelayMs: 50, send: (beats) => {
      batches.push(beats);
      return Promise.resolve({ needFull: { w1: false, w2: true }, appliedIndex: 7 });
    } });
    const answers = Promise.all([relay.relay({ nodeId: 'w1', status: status(1) }), relay.relay({ nodeId: 'w2' }), relay.relay({ nodeId: 'w1' })]);
    expect(batches).toEqual([]);
    fire();
    // Each beat the leader took carries what it had applied (a worker's lease waits for that).
    expect(await answers).toEqual([{ needFull: false, leaderIndex: 7 }, { needFull: true, leaderIndex: 7 }, { needFull: false, leaderIndex: 7 }]);
    expect(batches).toEqual([[{ nodeId: 'w1', status: status(1) }, { nodeId: 'w2' }]]);
  });

  it('a newer status wins over an older one in the same batch', async () => {
    const { clock, fire } = manualClock();
    const batches: (readonly Heartbeat[])[] = [];
    const relay = createHeartbeatRelay({ clock, flushDelayMs: 50, send: (beats) => {
      batches.push(beats);
      return Promise.resolve({ needFull: {}, appliedIndex: 3 });
    } });
    const answers = Promise.all([relay.relay({ nodeId: 'w1', status: status(1) }), relay.relay({ nodeId: 'w1', status: status(2) })]);
    fire();
    // A node the leader did not answer for (not a worker, or unknown) is asked for everything again, and gets no lease.
    expect(await answers).toEqual([{ needFull: true }, { needFull: true }]);
    expect(batches).toEqual([[{ nodeId: 'w1', status: status(2) }]]);
  });

  it('a batch the leader never got asks every worker in it for its full status next time', async () => {
    const { clock, fire } = manualClock();
    const relay = createHeartbeatRelay({ clock, flushDelayMs: 50, send: () => Promise.reject(new Error('no leader')) });
    const answer = relay.relay({ nodeId: 'w1', status: status(1) });
    fire();
    expect(await answer).toEqual({ needFull: true });
  });
});
