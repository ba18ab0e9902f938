import { afterEach, describe, expect, it } from 'vitest';
import { replaceDelayMs } from '../../../src/orchestrator/failover/failover-timing.ts';
import { service } from '../scheduler/scheduler-harness.ts';
import { DOWN_AFTER_MS, HEARTBEAT_MS, LeaderHarness, timing } from './leader-harness.ts';

const withVolume = (name: string, replicas: number) => ({ ...service(name, { replicas }), volumes: [{ type: 'volume' as const, source: `${name}-data`, target: '/data', readOnly: false }] });

let harness: LeaderHarness | undefined;
afterEach(() => harness?.stop());

async function cluster(): Promise<LeaderHarness> {
  harness = new LeaderHarness(['n1', 'n2', 'n3']);
  harness.deploy('app', [service('web', { replicas: 6 })]);
  await harness.advance(HEARTBEAT_MS * 2);
  expect(harness.spread('app', 'web')).toEqual({ n1: 2, n2: 2, n3: 2 });
  return harness;
}

describe('failover: detection → replacement', () => {
  it('places a silent node’s replicas on the survivors once the grace has passed, not before', async () => {
    const h = await cluster();
    const lastBeatMs = h.clock.nowMs() - (h.clock.nowMs() % HEARTBEAT_MS);
    h.silence('n3');
    const before = h.slots('app', 'web');
    await h.advance(DOWN_AFTER_MS - HEARTBEAT_MS);
    expect(h.slots('app', 'web')).toEqual(before);
    await h.advance(HEARTBEAT_MS * 2);
    expect(h.spread('app', 'web')).toEqual({ n1: 3, n2: 3 });
    // Only n3's slots moved; every other replica kept its node.
    const after = h.slots('app', 'web');
    for (const [slot, node] of Object.entries(before)) if (node !== 'n3') expect(after[slot]).toBe(node);
    const [move] = h.decisions.slice(-1);
    expect(move!.atMs - lastBeatMs).toBeLessThanOrEqual(DOWN_AFTER_MS + HEARTBEAT_MS);
    expect(h.failovers).toHaveLength(1);
    expect(h.failovers[0]).toMatchObject({ node: 'n3', cause: 'node-down', stack: 'app', service: 'web' });
    expect(Object.keys(h.failovers[0]!.moved)).toHaveLength(2);
  });

  it('replaces nothing for a blip shorter than the grace', async () => {
    const h = await cluster();
    const since = h.clock.nowMs();
    h.silence('n2');
    await h.advance(DOWN_AFTER_MS - 2 * HEARTBEAT_MS);
    h.resume('n2');
    await h.advance(10_000);
    expect(h.decisionsAfter(since)).toEqual([]);
    expect(h.scheduling.liveness.statusOf('n2')).toBe('ready');
  });

  it('a node that comes back keeps what moved away where it now runs (no rebalance by default)', async () => {
    const h = await cluster();
    h.silence('n3');
    await h.advance(DOWN_AFTER_MS + HEARTBEAT_MS * 2);
    const moved = h.slots('app', 'web');
    h.resume('n3');
    await h.advance(5000);
    expect(h.scheduling.liveness.statusOf('n3')).toBe('ready');
    expect(h.slots('app', 'web')).toEqual(moved);
  });
});

describe('failover: leader change', () => {
  it('a new leader reschedules nothing while every node keeps heartbeating', async () => {
    const h = await cluster();
    const since = h.clock.nowMs();
    h.changeLeader();
    expect(h.scheduling.liveness.statusOf('n2')).toBe('suspect');
    await h.advance(DOWN_AFTER_MS * 5);
    expect(h.decisionsAfter(since)).toEqual([]);
    expect(h.scheduling.liveness.statusOf('n2')).toBe('ready');
  });

  it('a new leader replaces a node silent since before it took over after one grace, never sooner', async () => {
    const h = await cluster();
    h.silence('n3');
    await h.advance(HEARTBEAT_MS);
    const takeover = h.clock.nowMs();
    h.changeLeader();
    await h.advance(DOWN_AFTER_MS - HEARTBEAT_MS);
    expect(h.decisionsAfter(takeover)).toEqual([]);
    await h.advance(HEARTBEAT_MS * 2);
    expect(h.spread('app', 'web')).toEqual({ n1: 3, n2: 3 });
    expect(h.decisionsAfter(takeover)[0]!.atMs - takeover).toBeLessThanOrEqual(DOWN_AFTER_MS + HEARTBEAT_MS);
  });
});

describe('failover: at-most-once waits for the lease', () => {
  it('moves an at-least-once service at once and the singleton with a volume only after the cut node’s lease surely ran out', async () => {
    const h = await cluster();
    h.deploy('db', [{ ...withVolume('pg', 1), deploy: { ...withVolume('pg', 1).deploy, placement: { constraints: ['node.id!=n1'], preferences: [] } } }]);
    // Long after this leader took over, so only its own last answer to the node bounds the lease.
    await h.advance(timing.handoverMs * 2);
    const home = h.slots('db', 'pg')['1']!;
    expect(home).not.toBe('n1');
    const lastHeard = h.scheduling.liveness.view(home).lastHeardMs!;
    h.silence(home);
    const delay = replaceDelayMs(timing, 1000);
    await h.advance(DOWN_AFTER_MS + HEARTBEAT_MS * 2);
    // The web replicas of the down node already moved; the singleton is held with its deadline.
    expect(h.spread('app', 'web')[home]).toBeUndefined();
    expect(h.slots('db', 'pg')['1']).toBe(home);
    expect(h.scheduling.failover.held()).toEqual([{ stack: 'db', service: 'pg', slot: 1, node: home, untilMs: lastHeard + delay }]);
    await h.clock.runUntil(() => h.slots('db', 'pg')['1'] !== home, 60_000);
    const moved = h.decisions.find((d) => d.command.stack === 'db' && d.command.slots['1'] !== home)!;
    expect(moved.atMs).toBeGreaterThanOrEqual(lastHeard + delay);
    expect(moved.atMs - (lastHeard + delay)).toBeLessThan(50);
    expect(h.slots('db', 'pg')['1']).not.toBe('n1');
  });

  it('after a leader change, counts the predecessor’s possible leases up to the handover bound', async () => {
    const h = await cluster();
    h.deploy('db', [{ ...withVolume('pg', 1), deploy: { ...withVolume('pg', 1).deploy, placement: { constraints: ['node.id!=n1'], preferences: [] } } }]);
    await h.advance(HEARTBEAT_MS);
    const home = h.slots('db', 'pg')['1']!;
    h.silence(home);
    const takeover = h.clock.nowMs();
    h.changeLeader();
    await h.clock.runUntil(() => h.slots('db', 'pg')['1'] !== home, 60_000);
    const moved = h.decisions.find((d) => d.command.stack === 'db' && d.command.slots['1'] !== home)!;
    expect(moved.atMs).toBeGreaterThanOrEqual(takeover + timing.handoverMs + replaceDelayMs(timing, 1000));
  });

  it('an explicit at-least-once label lets a singleton with a volume move at once', async () => {
    const h = await cluster();
    const pg = withVolume('pg', 1);
    h.deploy('db', [{ ...pg, deploy: { ...pg.deploy, labels: { 'constellation.delivery': 'at-least-once' }, placement: { constraints: ['node.id!=n1'], preferences: [] } } }]);
    await h.advance(HEARTBEAT_MS);
    const home = h.slots('db', 'pg')['1']!;
    h.silence(home);
    await h.advance(DOWN_AFTER_MS + HEARTBEAT_MS * 2);
    expect(h.slots('db', 'pg')['1']).not.toBe(home);
    expect(h.scheduling.failover.held()).toEqual([]);
  });

  it('holds a lost worker’s at-most-once replica to the same lease as a manager’s: replaced only after lease + drift', async () => {
    const h = await cluster();
    h.apply({ type: 'register-node', node: { id: 'w1', address: 'w1:7421', labels: {}, role: 'worker', availability: 'active' } });
    h.apply({ type: 'register-node', node: { id: 'w2', address: 'w2:7421', labels: {}, role: 'worker', availability: 'active' } });
    h.deploy('db', [{ ...withVolume('pg', 1), deploy: { ...withVolume('pg', 1).deploy, placement: { constraints: ['node.role==worker'], preferences: [] } } }]);
    h.beatAs('w1');
    h.beatAs('w2');
    await h.clock.runUntil(() => h.slots('db', 'pg')['1'] !== undefined, 5000);
    const home = h.slots('db', 'pg')['1']!;
    const other = home === 'w1' ? 'w2' : 'w1';
    // (Past this leader's handover bound, so the deadline is the worker's own lease.)
    await h.advance(timing.handoverMs);
    h.silence(home);
    await h.advance(1);
    const lastHeard = h.scheduling.liveness.view(home).lastHeardMs!;
    const delay = replaceDelayMs(timing, 1000);
    await h.advance(DOWN_AFTER_MS + HEARTBEAT_MS * 2);
    expect(h.slots('db', 'pg')).toEqual({ '1': home });
    expect(h.scheduling.failover.held()).toEqual([{ stack: 'db', service: 'pg', slot: 1, node: home, untilMs: lastHeard + delay }]);
    await h.clock.runUntil(() => h.slots('db', 'pg')['1'] !== home, 60_000);
    const moved = h.decisions.find((d) => d.command.stack === 'db' && d.command.slots['1'] !== home)!;
    expect(moved.atMs).toBeGreaterThanOrEqual(lastHeard + delay);
    expect(h.slots('db', 'pg')).toEqual({ '1': other });
  });
});

describe('failover: a node whose engine died while its daemon lives', () => {
  it('fails over like a dead node once the grace has passed (cause engine-down), and moves nothing back when the engine returns', async () => {
    const h = await cluster();
    const before = h.slots('app', 'web');
    h.enginesDown.add('n3');
    await h.advance(DOWN_AFTER_MS - HEARTBEAT_MS);
    expect(h.slots('app', 'web')).toEqual(before);
    await h.advance(HEARTBEAT_MS * 3);
    expect(h.scheduling.liveness.statusOf('n3')).toBe('down');
    expect(h.spread('app', 'web')).toEqual({ n1: 3, n2: 3 });
    expect(h.failovers).toHaveLength(1);
    expect(h.failovers[0]).toMatchObject({ node: 'n3', cause: 'engine-down' });
    const moved = h.slots('app', 'web');
    h.enginesDown.delete('n3');
    await h.advance(HEARTBEAT_MS * 2);
    expect(h.scheduling.liveness.statusOf('n3')).toBe('ready');
    await h.advance(5000);
    expect(h.slots('app', 'web')).toEqual(moved);
  });

  it('holds its at-most-once replica to the lease (the node renews none from a beat saying its engine is down)', async () => {
    const h = await cluster();
    h.deploy('db', [{ ...withVolume('pg', 1), deploy: { ...withVolume('pg', 1).deploy, placement: { constraints: ['node.id!=n1'], preferences: [] } } }]);
    await h.advance(timing.handoverMs);
    const home = h.slots('db', 'pg')['1']!;
    h.enginesDown.add(home);
    await h.advance(1);
    const lastHeard = h.scheduling.liveness.view(home).lastHeardMs!;
    await h.clock.runUntil(() => h.slots('db', 'pg')['1'] !== home, 60_000);
    const moved = h.decisions.find((d) => d.command.stack === 'db' && d.command.slots['1'] !== home)!;
    expect(moved.atMs).toBeGreaterThanOrEqual(lastHeard + replaceDelayMs(timing, 1000));
  });
});
