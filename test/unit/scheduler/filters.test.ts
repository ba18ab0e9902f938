import { describe, expect, it } from 'vitest';
import { gib, node, SchedulerHarness, service } from './scheduler-harness.ts';

describe('scheduler filters', () => {
  it('places only on nodes that meet every constraint, and keeps the rest pending with each rejection', () => {
    const h = new SchedulerHarness([
      node('a', { labels: { zone: 'east' } }),
      node('b', { labels: { zone: 'west' } }),
      node('c', { role: 'manager', labels: { zone: 'east' } }),
    ]);
    h.deploy('app', [service('db', { replicas: 2, constraints: ['node.labels.zone==east', 'node.role==worker'], maxReplicasPerNode: 1 })]);
    const plan = h.settle();
    expect(h.slots('app', 'db')).toEqual({ 1: 'a' });
    expect(plan.pending).toEqual([{
      stack: 'app', service: 'db', slot: 2,
      reasons: [
        { nodeId: 'a', filter: 'max-replicas-per-node', message: 'node runs 1 replica(s) of app/db, max_replicas_per_node is 1' },
        { nodeId: 'b', filter: 'constraint', message: 'constraint "node.labels.zone==east" does not hold: node.labels.zone is "west"' },
        { nodeId: 'c', filter: 'constraint', message: 'constraint "node.role==worker" does not hold: node.role is "manager"' },
      ],
    }]);
  });

  it('counts the reservations of everything placed on a node against its capacity', () => {
    const h = new SchedulerHarness([node('a', { capacity: { nanoCpus: 2e9, memoryBytes: 4 * gib } }), node('b', { capacity: { nanoCpus: 1e9, memoryBytes: 4 * gib } })]);
    h.deploy('app', [service('cpu', { replicas: 3, cpus: 1 }), service('mem', { replicas: 2, memoryBytes: 3 * gib })]);
    const plan = h.settle();
    // cpu: 1 CPU each, 3 CPUs in all → a gets 2, b gets 1; mem: 3 GiB each, one per node.
    expect(h.perNode('app', 'cpu')).toEqual({ a: 2, b: 1 });
    expect(h.perNode('app', 'mem')).toEqual({ a: 1, b: 1 });
    expect(plan.pending).toEqual([]);

    h.deploy('more', [service('cpu', { replicas: 1, cpus: 0.5 })]);
    const more = h.settle();
    expect(more.pending).toEqual([{
      stack: 'more', service: 'cpu', slot: 1,
      reasons: [
        { nodeId: 'a', filter: 'resources', message: 'reserves 0.5 CPU, node has 0 of 2 CPU unreserved' },
        { nodeId: 'b', filter: 'resources', message: 'reserves 0.5 CPU, node has 0 of 1 CPU unreserved' },
      ],
    }]);
  });

  it('adds fractional CPU reservations exactly (ten 0.1 CPU replicas fill one CPU)', () => {
    const h = new SchedulerHarness([node('a', { capacity: { nanoCpus: 1e9, memoryBytes: gib } })]);
    h.deploy('app', [service('tiny', { replicas: 11, cpus: 0.1 })]);
    const plan = h.settle();
    expect(Object.keys(h.slots('app', 'tiny'))).toHaveLength(10);
    expect(plan.pending.map((p) => p.slot)).toEqual([11]);
  });

  it('binds each published host port once per node, across services and stacks', () => {
    const h = new SchedulerHarness([node('a'), node('b'), node('c')]);
    h.deploy('one', [service('web', { replicas: 2, ports: [80] })]);
    h.deploy('two', [service('proxy', { replicas: 2, ports: [80] }), service('api', { replicas: 3, ports: [8080] })]);
    const plan = h.settle();
    // one/web takes two nodes first (stack order), so two/proxy has one node left for port 80.
    expect(h.perNode('one', 'web')).toEqual({ a: 1, b: 1 });
    expect(h.perNode('two', 'proxy')).toEqual({ c: 1 });
    expect(h.perNode('two', 'api')).toEqual({ a: 1, b: 1, c: 1 });
    expect(plan.pending).toEqual([{
      stack: 'two', service: 'proxy', slot: 2,
      reasons: [
        { nodeId: 'a', filter: 'ports', message: 'host port 80/tcp is already bound on the node by one/web' },
        { nodeId: 'b', filter: 'ports', message: 'host port 80/tcp is already bound on the node by one/web' },
        { nodeId: 'c', filter: 'ports', message: 'host port 80/tcp is already bound on the node by another replica of this service' },
      ],
    }]);
  });

  it('gives new replicas only to active, ready nodes, and says why each other node was passed over', () => {
    const h = new SchedulerHarness([
      node('a', { availability: 'pause' }),
      node('b', { availability: 'drain' }),
      node('c', { status: 'suspect' }),
      node('d', { status: 'down', availability: 'pause' }),
      node('e'),
    ]);
    h.deploy('app', [service('web', { replicas: 2, ports: [80] })]);
    const plan = h.settle();
    expect(h.slots('app', 'web')).toEqual({ 1: 'e' });
    expect(plan.pending[0]!.reasons).toEqual([
      { nodeId: 'a', filter: 'availability', message: 'node is paused: it keeps its replicas but takes no new ones' },
      { nodeId: 'b', filter: 'availability', message: 'node is draining: its replicas move elsewhere' },
      { nodeId: 'c', filter: 'status', message: 'node is suspect: only ready nodes take new replicas' },
      { nodeId: 'd', filter: 'availability', message: 'node is paused: it keeps its replicas but takes no new ones' },
      { nodeId: 'd', filter: 'status', message: 'node is down: only ready nodes take new replicas' },
      { nodeId: 'e', filter: 'ports', message: 'host port 80/tcp is already bound on the node by another replica of this service' },
    ]);
  });

  it('leaves every replica pending when no node is known, and when a constraint cannot be parsed', () => {
    const empty = new SchedulerHarness([]);
    empty.deploy('app', [service('web', { replicas: 1 })]);
    expect(empty.settle().pending).toEqual([{ stack: 'app', service: 'web', slot: 1, reasons: [] }]);

    const h = new SchedulerHarness([node('a')]);
    h.deploy('app', [service('web', { constraints: ['node.rack==r1'] })]);
    const plan = h.settle();
    expect(plan.commands).toEqual([]);
    expect(plan.pending[0]!.reasons).toEqual([{ nodeId: 'a', filter: 'constraint', message: expect.stringContaining('"node.rack"') }]);
  });
});
