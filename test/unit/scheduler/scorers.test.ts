import { describe, expect, it } from 'vitest';
import { node, SchedulerHarness, service } from './scheduler-harness.ts';

const zoned = (id: string, zone?: string, rack?: string) => node(id, { labels: { ...(zone === undefined ? {} : { zone }), ...(rack === undefined ? {} : { rack }) } });

describe('scheduler scorers', () => {
  it('spreads a service evenly over nodes: 6 replicas on 3 nodes are 2/2/2', () => {
    const h = new SchedulerHarness([node('a'), node('b'), node('c')]);
    h.deploy('app', [service('web', { replicas: 6 })]);
    h.settle();
    expect(h.perNode('app', 'web')).toEqual({ a: 2, b: 2, c: 2 });
    // Slots take nodes in rank order, so ties break by node id, the same on every run.
    expect(h.slots('app', 'web')).toEqual({ 1: 'a', 2: 'b', 3: 'c', 4: 'a', 5: 'b', 6: 'c' });
  });

  it('breaks a node-spread tie towards the zone with fewer replicas of the service', () => {
    // Two nodes in zone x, one in y: without the preference the third replica of `web` would go
    // by id (a, b, c); with it, the second replica goes to y before x gets its second.
    const h = new SchedulerHarness([zoned('a', 'x'), zoned('b', 'x'), zoned('c', 'y')]);
    h.deploy('app', [service('web', { replicas: 2, spread: ['node.labels.zone'] })]);
    h.settle();
    expect(h.slots('app', 'web')).toEqual({ 1: 'a', 2: 'c' });
  });

  it('counts replicas a zone already runs, on nodes that take no new ones too', () => {
    const h = new SchedulerHarness([zoned('a', 'x'), zoned('b', 'x'), zoned('c', 'y'), zoned('d', 'y')]);
    h.deploy('app', [service('web', { replicas: 2, spread: ['node.labels.zone'] })]);
    h.settle();
    expect(h.perNode('app', 'web')).toEqual({ a: 1, c: 1 });
    // Pause both used nodes: zone x and y have one replica each, so the next two go one per zone.
    h.updateNode('a', { availability: 'pause' }).updateNode('c', { availability: 'pause' });
    h.deploy('app', [service('web', { replicas: 4, spread: ['node.labels.zone'] })]);
    h.settle();
    expect(h.perNode('app', 'web')).toEqual({ a: 1, b: 1, c: 1, d: 1 });
  });

  it('treats nodes without the label as one more zone', () => {
    const h = new SchedulerHarness([zoned('a', 'x'), zoned('b', 'x'), zoned('c'), zoned('d')]);
    h.deploy('app', [service('web', { replicas: 2, spread: ['node.labels.zone'] })]);
    h.settle();
    expect(h.slots('app', 'web')).toEqual({ 1: 'a', 2: 'c' });
  });

  it('applies nested preferences in order: zone, then rack within the zone', () => {
    const h = new SchedulerHarness([zoned('a', 'x', 'r1'), zoned('b', 'x', 'r1'), zoned('c', 'x', 'r2'), zoned('d', 'y', 'r3'), zoned('e', 'y', 'r3')]);
    h.deploy('app', [service('web', { replicas: 4, spread: ['node.labels.zone', 'node.labels.rack'] })]);
    h.settle();
    // 1 → x/r1/a; 2 → zone y (d); 3 → zone x again, rack r2 (c) before r1's b; 4 → y's e.
    expect(h.slots('app', 'web')).toEqual({ 1: 'a', 2: 'd', 3: 'c', 4: 'e' });
  });

  it('prefers the least-loaded node when a service is spread evenly', () => {
    const h = new SchedulerHarness([node('a'), node('b'), node('c')]);
    h.deploy('busy', [service('worker', { replicas: 2, constraints: ['node.id!=c'] })]);
    h.settle();
    h.deploy('app', [service('web', { replicas: 1 })]);
    h.settle();
    expect(h.slots('app', 'web')).toEqual({ 1: 'c' });
  });

  it('ranks node spread before zones (the even-within-one rule holds with preferences too)', () => {
    // Zone x has three nodes, y one. Swarm would split zones 3/3 and stack y's node with three;
    // here no node gets a second replica before every node has one.
    const h = new SchedulerHarness([zoned('a', 'x'), zoned('b', 'x'), zoned('c', 'x'), zoned('d', 'y')]);
    h.deploy('app', [service('web', { replicas: 6, spread: ['node.labels.zone'] })]);
    h.settle();
    const counts = Object.values(h.perNode('app', 'web'));
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    expect(h.perNode('app', 'web').d).toBe(2);
  });
});
