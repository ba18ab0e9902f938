import { describe, expect, it } from 'vitest';
import { gib, node, SchedulerHarness, service } from './scheduler-harness.ts';

const three = () => [node('a'), node('b'), node('c')];

describe('scheduler stability and node state', () => {
  it('keeps replicas where they are when a node joins (no rebalancing), and fills new slots on it', () => {
    const h = new SchedulerHarness(three());
    h.deploy('app', [service('web', { replicas: 3 })]);
    h.settle();
    const before = h.slots('app', 'web');
    h.nodes.push(node('d'));
    expect(h.plan().commands).toEqual([]);
    h.deploy('app', [service('web', { replicas: 4 })]);
    h.settle();
    expect(h.slots('app', 'web')).toEqual({ ...before, 4: 'd' });
  });

  it('moves only the replicas of a drained node, keeping their slots', () => {
    const h = new SchedulerHarness(three());
    h.deploy('app', [service('web', { replicas: 6 })]);
    h.settle();
    expect(h.perNode('app', 'web')).toEqual({ a: 2, b: 2, c: 2 });
    const before = h.slots('app', 'web');
    h.updateNode('b', { availability: 'drain' });
    h.settle();
    const after = h.slots('app', 'web');
    expect(h.perNode('app', 'web')).toEqual({ a: 3, c: 3 });
    for (const [slot, nodeId] of Object.entries(before)) if (nodeId !== 'b') expect(after[slot]).toBe(nodeId);
  });

  it('lets a paused node keep its replicas but gives it no new ones', () => {
    const h = new SchedulerHarness(three());
    h.deploy('app', [service('web', { replicas: 3 })]);
    h.settle();
    h.updateNode('a', { availability: 'pause' });
    expect(h.plan().commands).toEqual([]);
    h.deploy('app', [service('web', { replicas: 5 })]);
    h.settle();
    expect(h.perNode('app', 'web')).toEqual({ a: 1, b: 2, c: 2 });
  });

  it('leaves replicas on a down node unless asked to replace them; a node that left always loses them', () => {
    const h = new SchedulerHarness(three());
    h.deploy('app', [service('web', { replicas: 3 })]);
    h.settle();
    h.updateNode('c', { status: 'down' });
    expect(h.plan().commands).toEqual([]);
    h.updateNode('c', { status: 'suspect' });
    expect(h.plan({ replaceOnDown: true }).commands).toEqual([]);
    h.updateNode('c', { status: 'down' });
    h.settle({ replaceOnDown: true });
    expect(h.perNode('app', 'web')).toEqual({ a: 2, b: 1 });

    const left = new SchedulerHarness(three());
    left.deploy('app', [service('web', { replicas: 3 })]);
    left.settle();
    left.updateNode('a', { status: 'left' });
    left.settle();
    expect(left.perNode('app', 'web')).toEqual({ b: 2, c: 1 });
  });

  it('re-places replicas whose node record is gone, since the log refuses a placement naming it', () => {
    const h = new SchedulerHarness(three());
    h.deploy('app', [service('web', { replicas: 3 })]);
    h.settle();
    h.nodes = h.nodes.filter((n) => n.id !== 'a');
    h.settle();
    expect(h.perNode('app', 'web')).toEqual({ b: 2, c: 1 });
  });

  it('moves replicas whose node no longer meets a changed constraint or label, and only those', () => {
    const h = new SchedulerHarness([node('a', { labels: { disk: 'ssd' } }), node('b', { labels: { disk: 'ssd' } }), node('c', { labels: { disk: 'hdd' } })]);
    h.deploy('app', [service('db', { replicas: 3 })]);
    h.settle();
    h.deploy('app', [service('db', { replicas: 3, constraints: ['node.labels.disk==ssd'] })]);
    h.settle();
    expect(h.perNode('app', 'db')).toEqual({ a: 2, b: 1 });
    h.updateNode('b', { labels: { disk: 'hdd' } });
    h.settle();
    expect(h.perNode('app', 'db')).toEqual({ a: 3 });
  });

  it('scales down by dropping the highest slots, and re-issues an unchanged placement for a new stack version', () => {
    const h = new SchedulerHarness(three());
    h.deploy('app', [service('web', { replicas: 3 })]);
    h.settle();
    const before = h.slots('app', 'web');
    h.deploy('app', [service('web', { replicas: 2 })]);
    const plan = h.settle();
    expect(h.slots('app', 'web')).toEqual({ 1: before[1], 2: before[2] });
    expect(plan.commands[0]!.stackVersion).toBe(2);
  });

  it('keeps the replicas admitted first when a node can no longer hold all it runs', () => {
    const h = new SchedulerHarness([node('a', { capacity: { nanoCpus: 2e9, memoryBytes: gib } }), node('b', { capacity: { nanoCpus: 2e9, memoryBytes: gib } })]);
    h.deploy('app', [service('web', { replicas: 2, cpus: 1, constraints: ['node.id==a'] })]);
    h.settle();
    expect(h.perNode('app', 'web')).toEqual({ a: 2 });
    h.updateNode('a', { capacity: { nanoCpus: 1e9, memoryBytes: gib } });
    const plan = h.settle();
    expect(h.slots('app', 'web')).toEqual({ 1: 'a' });
    expect(plan.pending.map((p) => [p.slot, p.reasons.map((r) => r.filter)])).toEqual([[2, ['resources', 'constraint']]]);
  });

  it('never moves a running replica to make room for a new one', () => {
    const h = new SchedulerHarness([node('a', { capacity: { nanoCpus: 1e9, memoryBytes: gib } })]);
    h.deploy('z', [service('old', { replicas: 1, cpus: 1 })]);
    h.settle();
    // Stack "a" sorts before "z", but z/old already runs: a/new stays pending rather than evicting it.
    h.deploy('a', [service('new', { replicas: 1, cpus: 1 })]);
    const plan = h.settle();
    expect(h.slots('z', 'old')).toEqual({ 1: 'a' });
    expect(plan.pending.map((p) => `${p.stack}/${p.service}`)).toEqual(['a/new']);
  });
});

describe('scheduler input it did not write', () => {
  it('repairs a placement with slots that are not replica numbers, beyond the count, or on unknown nodes', () => {
    const h = new SchedulerHarness([node('a'), node('b')]);
    h.deploy('app', [service('web', { replicas: 2 })]);
    h.placements.app = { web: { stack: 'app', service: 'web', stackVersion: 1, slots: { 0: 'a', x: 'a', '01': 'a', 2: 'b', 7: 'a', 1: 'ghost' }, version: 1 } };
    h.settle();
    expect(h.slots('app', 'web')).toEqual({ 1: 'a', 2: 'b' });
  });

  it('ignores placements of services and stacks the snapshot does not have', () => {
    const h = new SchedulerHarness([node('a')]);
    h.deploy('app', [service('web', { replicas: 1, cpus: 4 })]);
    h.placements.app = { gone: { stack: 'app', service: 'gone', stackVersion: 1, slots: { 1: 'a' }, version: 1 } };
    h.placements.removed = { web: { stack: 'removed', service: 'web', stackVersion: 1, slots: { 1: 'a' }, version: 1 } };
    const plan = h.settle();
    expect(plan.commands.map((c) => `${c.stack}/${c.service}`)).toEqual(['app/web']);
    expect(h.slots('app', 'web')).toEqual({ 1: 'a' });
  });
});
