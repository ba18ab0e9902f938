import { describe, expect, it } from 'vitest';
import { gib, node, SchedulerHarness, service } from './scheduler-harness.ts';

describe('global services', () => {
  it('runs one replica on every eligible node, numbered from 1 in node id order', () => {
    const h = new SchedulerHarness([node('b'), node('a', { role: 'manager' }), node('c')]);
    h.deploy('mon', [service('agent', { mode: 'global' }), service('workers-only', { mode: 'global', constraints: ['node.role==worker'] })]);
    h.settle();
    expect(h.slots('mon', 'agent')).toEqual({ 1: 'a', 2: 'b', 3: 'c' });
    expect(h.slots('mon', 'workers-only')).toEqual({ 1: 'b', 2: 'c' });
  });

  it('gives a node that joins later its replica under the lowest free slot, without renumbering the others', () => {
    const h = new SchedulerHarness([node('a'), node('b'), node('c')]);
    h.deploy('mon', [service('agent', { mode: 'global' })]);
    h.settle();
    h.nodes = h.nodes.filter((n) => n.id !== 'b');
    h.settle();
    expect(h.slots('mon', 'agent')).toEqual({ 1: 'a', 3: 'c' });
    h.nodes.push(node('d'), node('e'));
    h.settle();
    expect(h.slots('mon', 'agent')).toEqual({ 1: 'a', 2: 'd', 3: 'c', 4: 'e' });
  });

  it('drops the replica of a drained node instead of moving it; a paused or down node keeps its own', () => {
    const h = new SchedulerHarness([node('a'), node('b'), node('c')]);
    h.deploy('mon', [service('agent', { mode: 'global' })]);
    h.settle();
    h.updateNode('a', { availability: 'drain' }).updateNode('b', { availability: 'pause' }).updateNode('c', { status: 'down' });
    h.settle();
    expect(h.slots('mon', 'agent')).toEqual({ 2: 'b', 3: 'c' });
    h.settle({ replaceOnDown: true });
    expect(h.slots('mon', 'agent')).toEqual({ 2: 'b' });
  });

  it('leaves a pending replica that names the node when the node has no room for it', () => {
    const h = new SchedulerHarness([node('a'), node('b', { capacity: { nanoCpus: 1e9, memoryBytes: gib } })]);
    h.deploy('edge', [service('proxy', { mode: 'global', ports: [443], memoryBytes: 2 * gib })]);
    h.deploy('zeta', [service('other', { replicas: 1, ports: [443], constraints: ['node.id==a'] })]);
    const plan = h.settle();
    expect(h.slots('edge', 'proxy')).toEqual({ 1: 'a' });
    expect(plan.pending).toEqual([
      { stack: 'edge', service: 'proxy', node: 'b', reasons: [{ nodeId: 'b', filter: 'resources', message: 'reserves 2048 MiB memory, node has 1024 MiB of 1024 MiB unreserved' }] },
      { stack: 'zeta', service: 'other', slot: 1, reasons: [
        { nodeId: 'a', filter: 'ports', message: 'host port 443/tcp is already bound on the node by edge/proxy' },
        { nodeId: 'b', filter: 'constraint', message: 'constraint "node.id==a" does not hold: node.id is "b"' },
      ] },
    ]);
  });

  it('places global services before replicated ones, whatever the stack names', () => {
    const h = new SchedulerHarness([node('a', { capacity: { nanoCpus: 1e9, memoryBytes: gib } })]);
    h.deploy('a-app', [service('web', { replicas: 1, cpus: 1 })]);
    h.deploy('z-mon', [service('agent', { mode: 'global', cpus: 1 })]);
    const plan = h.settle();
    expect(h.slots('z-mon', 'agent')).toEqual({ 1: 'a' });
    expect(plan.pending.map((p) => `${p.stack}/${p.service}`)).toEqual(['a-app/web']);
  });

  it('repairs a placement that names one node twice (the log refuses such a global placement)', () => {
    const h = new SchedulerHarness([node('a'), node('b')]);
    h.deploy('mon', [service('agent', { mode: 'global' })]);
    h.placements.mon = { agent: { stack: 'mon', service: 'agent', stackVersion: 1, slots: { 1: 'a', 2: 'a' }, version: 1 } };
    h.settle();
    expect(h.slots('mon', 'agent')).toEqual({ 1: 'a', 2: 'b' });
  });
});
