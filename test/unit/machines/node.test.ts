import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { nodeMachine } from '../../../src/machines/node.ts';
import type { NodeChange, NodeMachineInput } from '../../../src/machines/node-types.ts';
import { DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_NODE_DOWN_AFTER_MS, DEFAULT_NODE_TIMING, NodeTimingError, nodeTimingFrom } from '../../../src/machines/node-timing.ts';

/**
 * SimulatedClock.increment(ms) starts timers armed during the jump at the jump's end, so a
 * cascade (suspect, then down) would fire late. Step to each due time instead, as real time would.
 */
function advance(clock: SimulatedClock, ms: number): void {
  const target = clock.now() + ms;
  const timeouts = (clock as unknown as { timeouts: Map<number, { start: number; timeout: number }> }).timeouts;
  while (true) {
    const due = Math.min(...[...timeouts.values()].map((t) => t.start + t.timeout));
    if (!(due <= target)) break;
    clock.set(Math.max(due, clock.now()));
  }
  clock.set(target);
}

// Defaults: suspect after 1000 ms of silence, down after 2000 ms.
function start(overrides: Partial<NodeMachineInput> = {}) {
  const clock = new SimulatedClock();
  const input: NodeMachineInput = { nodeId: 'n1', timing: DEFAULT_NODE_TIMING, startAs: 'joining', ...overrides };
  const actor = createActor(nodeMachine, { input, clock });
  const changes: NodeChange[] = [];
  actor.on('*', (change) => changes.push(change));
  actor.start();
  const liveness = () => {
    const value = actor.getSnapshot().value;
    return typeof value === 'string' ? value : (value as { member: { liveness: string } }).member.liveness;
  };
  const availability = () => (actor.getSnapshot().value as { member: { availability: string } }).member.availability;
  const statuses = () => changes.filter((c) => c.type === 'node.status').map((c) => c.status);
  return { actor, clock, changes, liveness, availability, statuses, context: () => actor.getSnapshot().context };
}

describe('node timing', () => {
  it('defaults to a 500 ms heartbeat, suspect after 2 missed, down after a 2 s grace', () => {
    expect(DEFAULT_HEARTBEAT_INTERVAL_MS).toBe(500);
    expect(DEFAULT_NODE_DOWN_AFTER_MS).toBe(2000);
    expect(DEFAULT_NODE_TIMING).toEqual({ suspectAfterMs: 1000, downAfterMs: 2000 });
    expect(nodeTimingFrom(1000, 5000)).toEqual({ suspectAfterMs: 2000, downAfterMs: 5000 });
  });

  it('refuses a grace that does not outlast the suspicion window, and a non-positive period, with a code', () => {
    expect(() => nodeTimingFrom(500, 1000)).toThrow(NodeTimingError);
    expect(() => nodeTimingFrom(500, 1000)).toThrow(/cluster.nodeDownAfterMs \(1000\)/);
    expect(() => nodeTimingFrom(0, 2000)).toThrow(/cluster.heartbeatIntervalMs/);
    expect(() => nodeTimingFrom(Number.NaN, 2000)).toThrow(NodeTimingError);
    try {
      nodeTimingFrom(500, 500);
    } catch (error) {
      expect((error as NodeTimingError).code).toBe('node_timing_invalid');
    }
  });
});

describe('node machine: liveness', () => {
  it('starts joining and announces it', () => {
    const t = start();
    expect(t.liveness()).toBe('joining');
    expect(t.changes[0]).toEqual({ type: 'node.status', nodeId: 'n1', status: 'joining', previous: undefined, availability: 'active' });
  });

  it('joining → ready on JOINED', () => {
    const t = start();
    t.actor.send({ type: 'JOINED' });
    expect(t.liveness()).toBe('ready');
    expect(t.changes.at(-1)).toEqual({ type: 'node.status', nodeId: 'n1', status: 'ready', previous: 'joining', availability: 'active' });
  });

  it('joining → ready on a first heartbeat, keeping its report', () => {
    const t = start();
    t.actor.send({ type: 'HEARTBEAT', report: { containers: 3 } });
    expect(t.liveness()).toBe('ready');
    expect(t.context().lastReport).toEqual({ containers: 3 });
    expect(t.context().heartbeats).toBe(1);
  });

  it('joining → down when the join never completes within the grace', () => {
    const t = start();
    advance(t.clock, 1999);
    expect(t.liveness()).toBe('joining');
    advance(t.clock, 1);
    expect(t.liveness()).toBe('down');
    expect(t.statuses()).toEqual(['joining', 'down']);
  });

  it('ready → suspect after 2 missed heartbeats (1000 ms of silence), not before', () => {
    const t = start();
    t.actor.send({ type: 'JOINED' });
    advance(t.clock, 999);
    expect(t.liveness()).toBe('ready');
    advance(t.clock, 1);
    expect(t.liveness()).toBe('suspect');
  });

  it('a heartbeat in ready restarts the suspicion window (silence counts from the last heartbeat)', () => {
    const t = start();
    t.actor.send({ type: 'JOINED' });
    for (let i = 0; i < 10; i++) {
      advance(t.clock, 900);
      t.actor.send({ type: 'HEARTBEAT', report: i });
    }
    expect(t.liveness()).toBe('ready');
    expect(t.statuses()).toEqual(['joining', 'ready']); // heartbeats in ready report nothing
    expect(t.context().lastReport).toBe(9);
    advance(t.clock, 999);
    expect(t.liveness()).toBe('ready');
    advance(t.clock, 1);
    expect(t.liveness()).toBe('suspect');
  });

  it('suspect → ready on a heartbeat', () => {
    const t = start();
    t.actor.send({ type: 'JOINED' });
    advance(t.clock, 1500);
    expect(t.liveness()).toBe('suspect');
    t.actor.send({ type: 'HEARTBEAT' });
    expect(t.liveness()).toBe('ready');
    // and the windows start again from that heartbeat
    advance(t.clock, 999);
    expect(t.liveness()).toBe('ready');
    expect(t.statuses()).toEqual(['joining', 'ready', 'suspect', 'ready']);
  });

  it('suspect → down once the grace (2000 ms since the last heartbeat) is over', () => {
    const t = start();
    t.actor.send({ type: 'HEARTBEAT' });
    advance(t.clock, 1000);
    expect(t.liveness()).toBe('suspect');
    advance(t.clock, 999);
    expect(t.liveness()).toBe('suspect');
    advance(t.clock, 1);
    expect(t.liveness()).toBe('down');
    expect(t.changes.at(-1)).toEqual({ type: 'node.status', nodeId: 'n1', status: 'down', previous: 'suspect', availability: 'active' });
  });

  it('down → ready on a heartbeat, and on JOINED (a rejoin)', () => {
    const t = start();
    t.actor.send({ type: 'JOINED' });
    advance(t.clock, 2000);
    expect(t.liveness()).toBe('down');
    t.actor.send({ type: 'HEARTBEAT', report: 'back' });
    expect(t.liveness()).toBe('ready');
    expect(t.context().lastReport).toBe('back');
    advance(t.clock, 2000);
    expect(t.liveness()).toBe('down');
    t.actor.send({ type: 'JOINED' });
    expect(t.liveness()).toBe('ready');
  });

  it('down stays down through any silence (no timer there)', () => {
    const t = start();
    advance(t.clock, 2000);
    advance(t.clock, 60_000);
    expect(t.liveness()).toBe('down');
    expect(t.statuses()).toEqual(['joining', 'down']);
  });

  it('a blip shorter than the grace never reaches down', () => {
    const t = start();
    t.actor.send({ type: 'JOINED' });
    advance(t.clock, 1999);
    t.actor.send({ type: 'HEARTBEAT' });
    advance(t.clock, 1999);
    t.actor.send({ type: 'HEARTBEAT' });
    expect(t.statuses()).not.toContain('down');
  });

  it('honours other timings', () => {
    const t = start({ timing: nodeTimingFrom(100, 300) });
    t.actor.send({ type: 'JOINED' });
    advance(t.clock, 200);
    expect(t.liveness()).toBe('suspect');
    advance(t.clock, 100);
    expect(t.liveness()).toBe('down');
  });
});

describe('node machine: after a leader change (unknown)', () => {
  it('unknown → ready on its first heartbeat', () => {
    const t = start({ startAs: 'unknown' });
    expect(t.liveness()).toBe('unknown');
    advance(t.clock, 1500);
    t.actor.send({ type: 'HEARTBEAT' });
    expect(t.liveness()).toBe('ready');
    expect(t.statuses()).toEqual(['unknown', 'ready']);
  });

  it('unknown → ready on JOINED', () => {
    const t = start({ startAs: 'unknown' });
    t.actor.send({ type: 'JOINED' });
    expect(t.liveness()).toBe('ready');
  });

  it('unknown → down after exactly one grace, not a longer wait', () => {
    const t = start({ startAs: 'unknown' });
    advance(t.clock, 1999);
    expect(t.liveness()).toBe('unknown');
    advance(t.clock, 1);
    expect(t.liveness()).toBe('down');
    expect(t.statuses()).toEqual(['unknown', 'down']);
  });
});

describe('node machine: availability and leaving', () => {
  it('starts with the availability of its record', () => {
    expect(start().availability()).toBe('active');
    expect(start({ availability: 'drain' }).availability()).toBe('drain');
    expect(start({ availability: 'pause' }).availability()).toBe('pause');
  });

  it('moves between active, pause and drain, reporting each change once', () => {
    const t = start();
    const steps = ['pause', 'drain', 'active', 'drain', 'pause', 'active'] as const;
    for (const availability of steps) {
      t.actor.send({ type: 'SET_AVAILABILITY', availability });
      expect(t.availability()).toBe(availability);
      expect(t.context().availability).toBe(availability);
    }
    t.actor.send({ type: 'SET_AVAILABILITY', availability: 'active' }); // no change, no report
    const reported = t.changes.filter((c) => c.type === 'node.availability').map((c) => `${c.previous}->${c.availability}`);
    expect(reported).toEqual(['active->pause', 'pause->drain', 'drain->active', 'active->drain', 'drain->pause', 'pause->active']);
  });

  it('availability is independent of liveness: a drained node still goes suspect and comes back', () => {
    const t = start({ availability: 'drain' });
    t.actor.send({ type: 'JOINED' });
    advance(t.clock, 1000);
    expect(t.liveness()).toBe('suspect');
    expect(t.availability()).toBe('drain');
    t.actor.send({ type: 'HEARTBEAT' });
    expect(t.liveness()).toBe('ready');
    expect(t.changes.at(-1)).toMatchObject({ status: 'ready', availability: 'drain' });
  });

  it.each(['joining', 'unknown', 'ready', 'suspect', 'down'] as const)('%s → left on LEAVE, final, and deaf afterwards', (from) => {
    const t = start({ startAs: from === 'unknown' ? 'unknown' : 'joining' });
    if (from === 'ready' || from === 'suspect') t.actor.send({ type: 'JOINED' });
    if (from === 'suspect') advance(t.clock, 1000);
    if (from === 'down') advance(t.clock, 2000);
    expect(t.liveness()).toBe(from);
    t.actor.send({ type: 'LEAVE' });
    expect(t.actor.getSnapshot().value).toBe('left');
    expect(t.actor.getSnapshot().status).toBe('done');
    expect(t.changes.at(-1)).toMatchObject({ status: 'left', previous: from });
    const count = t.changes.length;
    t.actor.send({ type: 'HEARTBEAT' });
    advance(t.clock, 10_000);
    expect(t.changes.length).toBe(count);
  });
});
