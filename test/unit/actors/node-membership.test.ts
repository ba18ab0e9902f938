import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { VirtualClock } from '../../../src/sim/virtual-clock.ts';
import { nodeMachine } from '../../../src/machines/node.ts';
import { type MembershipEvent, type MembershipRecord, startNodeMembership, shardOf } from '../../../src/actors/node-membership.ts';

const logger = pino({ level: 'silent' });
const ids = (n: number) => Array.from({ length: n }, (_, i) => `node-${String(i).padStart(4, '0')}`);
const records = (nodeIds: readonly string[]): MembershipRecord[] => nodeIds.map((id) => ({ id }));

function start(nodeIds: readonly string[], startAs: 'joining' | 'unknown', extra: Partial<Parameters<typeof startNodeMembership>[0]> = {}) {
  const clock = new VirtualClock();
  const events: MembershipEvent[] = [];
  const membership = startNodeMembership({ clock, logger, nodes: records(nodeIds), startAs, onEvent: (e) => events.push(e), ...extra });
  const statusEvents = (status: string) => events.filter((e) => e.type === 'node.status' && e.status === status);
  return { clock, events, membership, statusEvents };
}

/** Every node in `beating` heartbeats every 500 ms (the default period) for `ms`. */
async function heartbeatFor(t: ReturnType<typeof start>, beating: readonly string[], ms: number) {
  for (let elapsed = 0; elapsed < ms; elapsed += 500) {
    for (const id of beating) expect(t.membership.heartbeat(id, { containers: 1 })).toBe(true);
    await t.clock.advance(500);
  }
}

describe('node membership with 1,000 nodes on the virtual clock', () => {
  const all = ids(1000);

  it('keeps 1,000 heartbeating nodes ready, and marks exactly the 10 that go silent suspect, then down, on time', async () => {
    const t = start(all, 'joining');
    await heartbeatFor(t, all, 3000);
    expect(t.membership.counts()).toMatchObject({ ready: 1000, suspect: 0, down: 0 });
    expect(t.statusEvents('ready')).toHaveLength(1000);

    const silent = all.slice(0, 10);
    const beating = all.slice(10);
    const cutAtMs = t.clock.nowMs() - 500; // their last heartbeat was sent at the start of the last period
    t.events.length = 0;
    await heartbeatFor(t, beating, 3000);
    expect(t.statusEvents('suspect').map((e) => (e as { nodeId: string }).nodeId).sort()).toEqual(silent);
    expect(t.statusEvents('down').map((e) => (e as { nodeId: string }).nodeId).sort()).toEqual(silent);
    for (const e of t.statusEvents('suspect')) expect(e.atMs).toBe(cutAtMs + 1000);
    for (const e of t.statusEvents('down')) expect(e.atMs).toBe(cutAtMs + 2000);
    expect(t.membership.counts()).toMatchObject({ ready: 990, down: 10 });
    expect(t.membership.node('node-0000')).toMatchObject({ status: 'down', availability: 'active' });
    expect(t.membership.node('node-0500')).toMatchObject({ status: 'ready', lastReport: { containers: 1 } });

    // One comes back.
    t.membership.heartbeat('node-0003', { containers: 0 });
    expect(t.membership.node('node-0003')?.status).toBe('ready');
    expect(t.events.at(-1)).toMatchObject({ type: 'node.status', nodeId: 'node-0003', status: 'ready', previous: 'down' });
    t.membership.stop();
  });

  it('after a leader change, nodes start unknown: heartbeating ones are ready at once, silent ones down after one grace, nobody else down', async () => {
    const t = start(all, 'unknown');
    expect(t.membership.counts()).toMatchObject({ unknown: 1000 });
    const silent = all.slice(990);
    await heartbeatFor(t, all.slice(0, 990), 1500);
    expect(t.membership.counts()).toMatchObject({ ready: 990, unknown: 10, down: 0 });
    await heartbeatFor(t, all.slice(0, 990), 500);
    expect(t.statusEvents('down').map((e) => (e as { nodeId: string }).nodeId).sort()).toEqual(silent);
    for (const e of t.statusEvents('down')) expect(e.atMs).toBe(2000);
    expect(t.statusEvents('suspect')).toHaveLength(0);
    t.membership.stop();
  });

  it('spreads nodes over its shards so no parent holds more than a few hundred children', () => {
    const counts = new Array(16).fill(0);
    for (const id of all) counts[shardOf(id, 16)] += 1;
    expect(Math.max(...counts)).toBeLessThan(100);
    expect(Math.min(...counts)).toBeGreaterThan(30);
  });
});

describe('node membership follows the records', () => {
  it('refuses a heartbeat from a node it has no record of', () => {
    const t = start(['a'], 'joining');
    expect(t.membership.heartbeat('stranger')).toBe(false);
    expect(t.membership.node('stranger')).toBeUndefined();
  });

  it('adds new records as joining, removes vanished ones, and applies availability changes once', () => {
    const t = start(['a', 'b'], 'unknown');
    t.membership.sync([{ id: 'a' }, { id: 'b', availability: 'drain' }, { id: 'c' }]);
    expect(t.membership.node('c')?.status).toBe('joining');
    expect(t.membership.node('b')?.availability).toBe('drain');
    expect(t.events.filter((e) => e.type === 'node.availability')).toEqual([
      expect.objectContaining({ nodeId: 'b', availability: 'drain', previous: 'active' }),
    ]);
    t.events.length = 0;
    t.membership.sync([{ id: 'a' }, { id: 'b', availability: 'drain' }, { id: 'c' }]); // same again: nothing
    expect(t.events).toEqual([]);
    t.membership.sync([{ id: 'b', availability: 'drain' }, { id: 'c' }]);
    expect(t.events).toEqual([expect.objectContaining({ type: 'node.removed', nodeId: 'a' })]);
    expect(t.membership.node('a')).toBeUndefined();
    expect(t.membership.heartbeat('a')).toBe(false);
    expect(t.membership.nodes().map((n) => n.nodeId)).toEqual(['b', 'c']);
  });

  it('a node that left stays left while its record exists, and is forgotten when the record goes', async () => {
    const t = start(['a', 'b'], 'joining');
    t.membership.joined('a');
    t.membership.leave('a');
    expect(t.events.at(-1)).toMatchObject({ type: 'node.status', nodeId: 'a', status: 'left', previous: 'ready' });
    await t.clock.advance(10);
    t.membership.sync([{ id: 'a' }, { id: 'b' }]);
    expect(t.membership.node('a')?.status).toBe('left');
    t.membership.heartbeat('a');
    expect(t.membership.node('a')?.status).toBe('left');
    t.membership.sync([{ id: 'b' }]);
    expect(t.membership.node('a')).toBeUndefined();
    t.membership.sync([{ id: 'a' }, { id: 'b' }]); // re-added: a new join
    expect(t.membership.node('a')?.status).toBe('joining');
  });

  it('a throwing listener is ignored and the others still hear every change', () => {
    const heard: string[] = [];
    const t = start(['a'], 'joining', { onEvent: () => { throw new Error('listener bug'); } });
    t.membership.subscribe((e) => heard.push(e.type));
    t.membership.joined('a');
    expect(heard).toEqual(['node.status']);
    expect(t.membership.node('a')?.status).toBe('ready');
  });
});

describe('node membership supervision', () => {
  // A node machine with a bug that throws on a particular report.
  const buggy = nodeMachine.provide({
    actions: {
      record: ({ event }: { event: { type: string; report?: unknown } }) => {
        if (event.report === 'boom') throw new Error('bug in record');
      },
    } as never,
  });

  it('respawns a node machine that threw as unknown, without disturbing the others or the root', async () => {
    const t = start(['a', 'b', 'c'], 'joining', { nodeLogic: buggy });
    for (const id of ['a', 'b', 'c']) t.membership.heartbeat(id);
    t.membership.heartbeat('b', 'boom');
    expect(t.events.filter((e) => e.type === 'node.crashed')).toEqual([expect.objectContaining({ nodeId: 'b', error: 'bug in record' })]);
    expect(t.membership.node('b')).toBeUndefined(); // stopped, respawn pending
    expect(t.membership.node('a')?.status).toBe('ready');
    await t.clock.advance(500); // the first respawn back-off
    expect(t.membership.node('b')?.status).toBe('unknown');
    t.membership.heartbeat('b');
    expect(t.membership.node('b')?.status).toBe('ready');
    // The root still routes and reports.
    t.membership.heartbeat('a');
    await t.clock.advance(2000);
    expect(t.membership.counts()).toMatchObject({ down: 3 });
  });

  it('a respawned node that stays silent is down after one grace from its respawn', async () => {
    const t = start(['a'], 'joining', { nodeLogic: buggy });
    t.membership.heartbeat('a', 'boom');
    await t.clock.advance(500);
    expect(t.membership.node('a')?.status).toBe('unknown');
    await t.clock.advance(1999);
    expect(t.membership.node('a')?.status).toBe('unknown');
    await t.clock.advance(1);
    expect(t.membership.node('a')?.status).toBe('down');
  });

  it('does not respawn a crashed node whose record was removed meanwhile', async () => {
    const t = start(['a', 'b'], 'joining', { nodeLogic: buggy });
    t.membership.heartbeat('a', 'boom');
    t.membership.sync([{ id: 'b' }]);
    await t.clock.advance(1000);
    expect(t.membership.nodes().map((n) => n.nodeId)).toEqual(['b']);
  });
});
