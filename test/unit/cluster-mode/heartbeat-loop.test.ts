import { describe, expect, it } from 'vitest';
import { startHeartbeatLoop } from '../../../src/cluster-mode/heartbeat-loop.ts';
import type { Heartbeat } from '../../../src/cluster-mode/status-board.ts';
import { VirtualClock } from '../../../src/sim/virtual-clock.ts';

describe('heartbeat loop: a node whose engine does not answer', () => {
  it('says so in its beats while it lasts, and hands each answer back with the beat it answers (no lease from a flagged one)', async () => {
    const clock = new VirtualClock();
    let engineDown = false;
    const sent: Heartbeat[] = [];
    const answered: { sentAtMs: number; heartbeat: Heartbeat }[] = [];
    const loop = startHeartbeatLoop({
      nodeId: 'n1',
      intervalMs: 500,
      clock,
      status: () => ({ containers: [], services: [] }),
      engineDown: () => engineDown,
      send: (heartbeat) => {
        sent.push(heartbeat);
        return Promise.resolve({ needFull: false, appliedIndex: 1 });
      },
      onAnswered: (sentAtMs, _answer, heartbeat) => answered.push({ sentAtMs, heartbeat }),
      onBoard: () => undefined,
      onError: () => undefined,
    });
    await clock.advance(1000);
    engineDown = true;
    await clock.advance(1000);
    engineDown = false;
    await clock.advance(1000);
    loop.stop();
    const flags = sent.map((beat) => beat.engineDown === true);
    // The beats sent while the engine was down say so, the others do not.
    expect(flags).toEqual([false, false, true, true, false, false]);
    expect(answered.map((a) => a.heartbeat)).toEqual(sent);
    const times = answered.map((a) => a.sentAtMs);
    expect(times).toEqual([...times].sort((x, y) => x - y));
  });
});
