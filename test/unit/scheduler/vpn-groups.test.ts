/**
 * A VPN group is placed, failed over and drained as one unit (issue 9 item 4): the VPN's slot i
 * and every dependent's slot i share a node chosen with the union of the members' constraints,
 * the sum of their reservations and the group's ports; and when a group moves, its dependents'
 * commands come before the VPN's (the old node stops them first).
 */
import { describe, expect, it } from 'vitest';
import type { ServiceSpec } from '../../../src/compose/types.ts';
import { placementUnits } from '../../../src/scheduler/placement-units.ts';
import { gib, node, SchedulerHarness, service, type ServiceOptions } from './scheduler-harness.ts';

function dependent(name: string, vpn: string, options: ServiceOptions = {}): ServiceSpec {
  return { ...service(name, options), networkMode: `service:${vpn}` };
}

/** Each dependent's slots equal the VPN's, slot by slot. */
function expectWhole(h: SchedulerHarness, stack: string, vpn: string, dependents: readonly string[]): void {
  const lead = h.slots(stack, vpn);
  for (const name of dependents) expect(h.slots(stack, name), `${name} follows ${vpn}`).toEqual(lead);
}

describe('VPN group placement', () => {
  it('puts a group on the one node that meets the union of its members\' constraints', () => {
    const h = new SchedulerHarness([
      node('a', { labels: { zone: 'x', disk: 'hdd' } }),
      node('b', { labels: { zone: 'y', disk: 'ssd' } }),
      node('c', { labels: { zone: 'x', disk: 'ssd' } }),
    ]);
    h.deploy('media', [service('vpn', { constraints: ['node.labels.zone==x'] }), dependent('torrent', 'vpn', { constraints: ['node.labels.disk==ssd'] })]);
    h.settle();
    expect(h.slots('media', 'vpn')).toEqual({ 1: 'c' });
    expectWhole(h, 'media', 'vpn', ['torrent']);
  });

  it('needs the sum of the members\' reservations on one node', () => {
    // Alone, each fits on a (1.5 CPU), and a sorts first; together (2 CPU) only b holds them.
    const h = new SchedulerHarness([node('a', { capacity: { nanoCpus: 1.5e9, memoryBytes: 8 * gib } }), node('b', { capacity: { nanoCpus: 2e9, memoryBytes: 8 * gib } })]);
    h.deploy('media', [service('vpn', { cpus: 1 }), dependent('torrent', 'vpn', { cpus: 1 })]);
    h.settle();
    expect(h.slots('media', 'vpn')).toEqual({ 1: 'b' });
    expectWhole(h, 'media', 'vpn', ['torrent']);
  });

  it('takes the group\'s ports (the VPN\'s) into account', () => {
    const h = new SchedulerHarness([node('a'), node('b')]);
    h.deploy('aaa', [service('proxy', { ports: [8080], constraints: ['node.id==a'] })]);
    h.deploy('media', [service('vpn', { ports: [8080] }), dependent('web', 'vpn')]);
    h.settle();
    expect(h.slots('media', 'vpn')).toEqual({ 1: 'b' });
    expectWhole(h, 'media', 'vpn', ['web']);
  });

  it('pairs slot i with slot i across replicas, spreading the groups', () => {
    const h = new SchedulerHarness([node('a'), node('b'), node('c')]);
    h.deploy('media', [service('vpn', { replicas: 3 }), dependent('web', 'vpn', { replicas: 3 }), dependent('db', 'vpn', { replicas: 3 })]);
    h.settle();
    expect(h.perNode('media', 'vpn')).toEqual({ a: 1, b: 1, c: 1 });
    expectWhole(h, 'media', 'vpn', ['web', 'db']);
  });

  it('counts a group\'s containers when ranking by load: a lone service goes beside the smaller group', () => {
    const h = new SchedulerHarness([node('a'), node('b')]);
    h.deploy('big', [service('vpn', { constraints: ['node.id==a'] }), dependent('d1', 'vpn'), dependent('d2', 'vpn')]);
    h.deploy('small', [service('one', { constraints: ['node.id==b'] }), service('two', { constraints: ['node.id==b'] })]);
    h.deploy('zz', [service('solo')]);
    h.settle();
    // a runs 3 containers (one group), b runs 2: the least loaded is b.
    expect(h.slots('zz', 'solo')).toEqual({ 1: 'b' });
  });

  it('places a global group once per eligible node, its members together', () => {
    const h = new SchedulerHarness([node('a'), node('b', { labels: { gpu: 'yes' } }), node('c', { labels: { gpu: 'yes' } })]);
    h.deploy('edge', [service('vpn', { mode: 'global' }), dependent('agent', 'vpn', { mode: 'global', constraints: ['node.labels.gpu==yes'] })]);
    h.settle();
    expect(new Set(Object.values(h.slots('edge', 'vpn')))).toEqual(new Set(['b', 'c']));
    expectWhole(h, 'edge', 'vpn', ['agent']);
  });

  it('leaves the whole group pending, with the same reasons for every member, when no node holds it', () => {
    const h = new SchedulerHarness([node('a', { capacity: { nanoCpus: 1e9, memoryBytes: 8 * gib } })]);
    h.deploy('media', [service('vpn', { cpus: 0.75 }), dependent('web', 'vpn', { cpus: 0.5 })]);
    const plan = h.settle();
    expect(h.slots('media', 'vpn')).toEqual({});
    expect(h.slots('media', 'web')).toEqual({});
    expect(plan.pending.map((p) => [p.service, p.slot])).toEqual([['vpn', 1], ['web', 1]]);
    expect(plan.pending[1]!.reasons).toEqual(plan.pending[0]!.reasons);
    expect(plan.pending[0]!.reasons).toEqual([{ nodeId: 'a', filter: 'resources', message: 'reserves 1.25 CPU, node has 1 of 1 CPU unreserved' }]);
  });

  it('repairs a split found in the records: dependents go to their VPN\'s node', () => {
    const h = new SchedulerHarness([node('a'), node('b')]);
    h.deploy('media', [service('vpn'), dependent('web', 'vpn')]);
    h.settle();
    const vpnNode = h.slots('media', 'vpn')['1']!;
    const other = vpnNode === 'a' ? 'b' : 'a';
    h.placements.media!.web = { ...h.placements.media!.web!, slots: { 1: other } };
    const plan = h.settle();
    expect(plan.commands).toEqual([expect.objectContaining({ service: 'web', slots: { 1: vpnNode } })]);
    expectWhole(h, 'media', 'vpn', ['web']);
  });
});

describe('VPN group drain and failover', () => {
  function deployed(): SchedulerHarness {
    const h = new SchedulerHarness([node('a'), node('b'), node('c')]);
    // db starts after web (depends_on), so it stops first.
    h.deploy('media', [service('vpn', { replicas: 2 }), dependent('web', 'vpn', { replicas: 2 }), { ...dependent('db', 'vpn', { replicas: 2 }), dependsOn: { web: { condition: 'service_started', required: true, restart: false } } }]);
    h.settle();
    return h;
  }

  it('a drain moves the whole group of the drained node to one new node; dependents\' commands come first, last-started first', () => {
    const h = deployed();
    const before = h.slots('media', 'vpn');
    const drained = before['1']!;
    h.updateNode(drained, { availability: 'drain' });
    const plan = h.settle();
    expect(plan.commands.map((c) => c.service)).toEqual(['db', 'web', 'vpn']);
    const after = h.slots('media', 'vpn');
    expect(after['1']).not.toBe(drained);
    expect(after['2']).toBe(before['2']);
    expectWhole(h, 'media', 'vpn', ['web', 'db']);
  });

  it('a down node\'s group moves whole when failover replaces it', () => {
    const h = deployed();
    const down = h.slots('media', 'vpn')['2']!;
    h.updateNode(down, { status: 'down' });
    expect(h.plan().commands).toEqual([]);
    h.settle({ replaceOnDown: true });
    expect(Object.values(h.slots('media', 'vpn'))).not.toContain(down);
    expectWhole(h, 'media', 'vpn', ['web', 'db']);
  });

  it('one member the failover policy holds (at-most-once) holds the whole group; once all may move, it moves whole', () => {
    const h = deployed();
    const down = h.slots('media', 'vpn')['1']!;
    h.updateNode(down, { status: 'down' });
    const heldDb = (_stack: string, name: string): boolean => name !== 'db';
    expect(h.plan({ replaceOnDown: heldDb }).commands).toEqual([]);
    const asked: string[] = [];
    h.settle({ replaceOnDown: (_stack, name, nodeId) => { asked.push(`${name}@${nodeId}`); return true; } });
    expect(asked).toEqual(expect.arrayContaining([`vpn@${down}`, `web@${down}`, `db@${down}`]));
    expect(h.slots('media', 'vpn')['1']).not.toBe(down);
    expectWhole(h, 'media', 'vpn', ['web', 'db']);
  });

  it('placementUnits: a dependent of a dependent, of a missing service, or in another mode is placed on its own', () => {
    const units = placementUnits({ services: [
      service('vpn'), dependent('web', 'vpn'), dependent('chained', 'web'), dependent('lost', 'nowhere'), dependent('global', 'vpn', { mode: 'global' }),
    ] });
    expect(units.map((u) => [u.lead.name, u.dependents.map((d) => d.name)])).toEqual([
      ['vpn', ['web']], ['chained', []], ['lost', []], ['global', []],
    ]);
  });
});
