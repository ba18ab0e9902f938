import { deepStrictEqual } from 'node:assert/strict';
import { describe, expect, it } from 'vitest';
import type { ClusterCommand, CommandResult } from '../../../src/cluster/commands.ts';
import { ClusterState, emptyClusterState } from '../../../src/cluster/state.ts';
import type { ServiceSpec } from '../../../src/compose/types.ts';
import { service, stack } from '../agent/fixtures.ts';

/** Applies commands as one client would, one log index each. */
function applier(state = new ClusterState(), clientId = 'c1') {
  let seq = 0;
  return {
    state,
    run(command: ClusterCommand): CommandResult {
      seq += 1;
      return state.apply(state.appliedIndex + 1, { clientId, seq, command });
    },
  };
}

const deploy = (name: string, services: ServiceSpec[], specHash = `hash-${name}-${services.map((s) => `${s.name}:${s.deploy.replicas}`).join(',')}`): ClusterCommand => ({
  type: 'deploy-stack',
  stack: stack(name, services),
  specHash,
  atMs: 1000,
});
const node = (id: string): ClusterCommand => ({ type: 'register-node', node: { id, address: `10.0.0.${id.length}:7421`, labels: {} } });
const place = (stackName: string, serviceName: string, stackVersion: number, slots: Record<string, string>): ClusterCommand => ({
  type: 'place-service',
  stack: stackName,
  service: serviceName,
  stackVersion,
  slots,
});

describe('cluster state: stacks', () => {
  it('versions a stack on every changed deploy, not on a repeat of the same spec', () => {
    const { run, state } = applier();
    expect(run(deploy('web', [service('api')]))).toEqual({ ok: true, version: 1 });
    expect(run(deploy('web', [service('api')]))).toEqual({ ok: true, version: 1 });
    expect(run(deploy('web', [service('api', { replicas: 3 })]))).toEqual({ ok: true, version: 2 });
    expect(state.view().stacks.web?.version).toBe(2);
    expect(state.view().stacks.web?.spec.services[0]?.deploy.replicas).toBe(3);
  });

  it('removes a stack, and says so when there is none', () => {
    const { run, state } = applier();
    run(deploy('web', [service('api')]));
    expect(run({ type: 'remove-stack', name: 'web', atMs: 2000 })).toEqual({ ok: true });
    expect(state.view().stacks).toEqual({});
    expect(run({ type: 'remove-stack', name: 'web', atMs: 2000 })).toMatchObject({ ok: false, code: 'stack_not_found' });
  });

  it('a stack deployed again after removal goes on counting versions', () => {
    const { run } = applier();
    run(deploy('web', [service('api')]));
    run(deploy('web', [service('api', { replicas: 2 })]));
    run({ type: 'remove-stack', name: 'web', atMs: 2000 });
    expect(run(deploy('web', [service('api')]))).toEqual({ ok: true, version: 3 });
  });
});

describe('cluster state: exactly-once requests', () => {
  it('answers a retried request as before and applies it once', () => {
    const state = new ClusterState();
    const request = { clientId: 'c1', seq: 1, command: { type: 'put', key: 'k', value: 'v1' } } as const;
    expect(state.apply(1, request)).toEqual({ ok: true });
    expect(state.apply(2, { clientId: 'c2', seq: 1, command: { type: 'put', key: 'k', value: 'v2' } })).toEqual({ ok: true, previous: 'v1' });
    // The retry reaches the log again (a new index) after c2's write: it must not overwrite v2.
    expect(state.apply(3, request)).toEqual({ ok: true });
    expect(state.view().kv.k).toBe('v2');
    expect(state.appliedIndex).toBe(3);
  });

  it('refuses a request older than the last one applied for that client', () => {
    const state = new ClusterState();
    state.apply(1, { clientId: 'c1', seq: 2, command: { type: 'put', key: 'k', value: 'new' } });
    expect(state.apply(2, { clientId: 'c1', seq: 1, command: { type: 'put', key: 'k', value: 'old' } })).toMatchObject({ ok: false, code: 'stale_request' });
    expect(state.view().kv.k).toBe('new');
  });

  it('refuses to apply an index it has already passed', () => {
    const state = new ClusterState();
    state.apply(5, { clientId: 'c1', seq: 1, command: { type: 'put', key: 'k', value: 'v' } });
    expect(() => state.apply(5, { clientId: 'c1', seq: 2, command: { type: 'delete', key: 'k' } })).toThrow(/out of order/);
  });
});

describe('cluster state: placements', () => {
  function clusterWithWeb(replicas = 3) {
    const client = applier();
    client.run(node('n1'));
    client.run(node('n2'));
    client.run(deploy('web', [service('api', { replicas }), service('db')]));
    return client;
  }

  it('records where each replica runs, versioned per service', () => {
    const { run, state } = clusterWithWeb();
    expect(run(place('web', 'api', 1, { '1': 'n1', '2': 'n2', '3': 'n1' }))).toEqual({ ok: true, version: 1 });
    const index = state.view().appliedIndex;
    expect(state.view().placements.web?.api).toEqual({ stack: 'web', service: 'api', stackVersion: 1, slots: { '1': 'n1', '2': 'n2', '3': 'n1' }, version: 1, tokens: { '1': index, '2': index, '3': index } });
    // The same decision again changes nothing; a different one bumps the version.
    expect(run(place('web', 'api', 1, { '3': 'n1', '2': 'n2', '1': 'n1' }))).toEqual({ ok: true, version: 1 });
    expect(run(place('web', 'api', 1, { '1': 'n2', '2': 'n2', '3': 'n1' }))).toEqual({ ok: true, version: 2 });
  });

  it('gives each slot the index of the entry that put it on its node as its fencing token, kept while it stays', () => {
    const { run, state } = clusterWithWeb();
    run(place('web', 'api', 1, { '1': 'n1', '2': 'n2' }));
    const first = state.view().appliedIndex;
    expect(state.view().placements.web?.api?.tokens).toEqual({ '1': first, '2': first });
    run(place('web', 'api', 1, { '1': 'n1', '2': 'n1', '3': 'n2' }));
    const second = state.view().appliedIndex;
    // Slot 1 stayed (its token too); slot 2 moved and slot 3 is new: both carry the newer index.
    expect(state.view().placements.web?.api?.tokens).toEqual({ '1': first, '2': second, '3': second });
  });

  it.each([
    ['an unknown stack', place('shop', 'api', 1, { '1': 'n1' }), 'stack_not_found'],
    ['an unknown service', place('web', 'cache', 1, { '1': 'n1' }), 'service_not_found'],
    ['a decision made for an older stack version', place('web', 'api', 0, { '1': 'n1' }), 'stale_placement'],
    ['an unknown node', place('web', 'api', 1, { '1': 'n9' }), 'node_not_found'],
    ['a slot beyond the replica count', place('web', 'api', 1, { '4': 'n1' }), 'invalid_placement'],
    ['slot zero', place('web', 'api', 1, { '0': 'n1' }), 'invalid_placement'],
    ['a slot that is not a number', place('web', 'api', 1, { first: 'n1' }), 'invalid_placement'],
    ['slots that are not an object', { ...place('web', 'api', 1, {}), slots: ['n1'] as unknown as Record<string, string> }, 'invalid_placement'],
  ])('refuses %s and changes nothing', (_what, command, code) => {
    const { run, state } = clusterWithWeb();
    const before = JSON.stringify({ ...state.view(), appliedIndex: 0, sessions: {} });
    expect(run(command)).toMatchObject({ ok: false, code });
    expect(JSON.stringify({ ...state.view(), appliedIndex: 0, sessions: {} })).toBe(before);
  });

  it('a global service runs at most once per node', () => {
    const { run } = applier();
    run(node('n1'));
    const agent: ServiceSpec = { ...service('agent'), deploy: { ...service('agent').deploy, mode: 'global' } };
    run(deploy('ops', [agent]));
    expect(run(place('ops', 'agent', 1, { '1': 'n1', '2': 'n1' }))).toMatchObject({ ok: false, code: 'invalid_placement' });
    expect(run(place('ops', 'agent', 1, { '7': 'n1' }))).toEqual({ ok: true, version: 1 });
  });

  it('a redeploy keeps placements that still fit, drops removed services and slots beyond the new replica count', () => {
    const { run, state } = clusterWithWeb(3);
    run(place('web', 'api', 1, { '1': 'n1', '2': 'n2', '3': 'n1' }));
    const placedAt = state.view().appliedIndex;
    run(place('web', 'db', 1, { '1': 'n2' }));
    run(deploy('web', [service('api', { replicas: 2 })]));
    expect(state.view().placements.web).toEqual({ api: { stack: 'web', service: 'api', stackVersion: 1, slots: { '1': 'n1', '2': 'n2' }, version: 2, tokens: { '1': placedAt, '2': placedAt } } });
    // The kept record is from version 1: a scheduler still working from version 1 is now refused.
    expect(run(place('web', 'api', 1, { '1': 'n1' }))).toMatchObject({ ok: false, code: 'stale_placement' });
    expect(run(place('web', 'api', 2, { '1': 'n2', '2': 'n2' }))).toEqual({ ok: true, version: 3 });
  });

  it('removing a stack removes its placements; removing a node leaves them for failover to move', () => {
    const { run, state } = clusterWithWeb();
    run(place('web', 'api', 1, { '1': 'n1', '2': 'n2' }));
    run({ type: 'remove-node', nodeId: 'n2' });
    expect(state.view().placements.web?.api?.slots).toEqual({ '1': 'n1', '2': 'n2' });
    run({ type: 'remove-stack', name: 'web', atMs: 3000 });
    expect(state.view().placements).toEqual({});
  });
});

describe('cluster state: snapshots', () => {
  it('restores to an equal state that goes on applying identically', () => {
    const { run, state } = applier();
    run(node('n1'));
    run(deploy('web', [service('api', { replicas: 2 })]));
    run(place('web', 'api', 1, { '1': 'n1', '2': 'n1' }));
    run({ type: 'put', key: 'k', value: 'v' });
    const restored = ClusterState.restore(state.snapshot());
    expect(restored.view()).toEqual(state.view());
    const next = { clientId: 'c2', seq: 1, command: place('web', 'api', 1, { '1': 'n1' }) };
    expect(restored.apply(state.appliedIndex + 1, next)).toEqual(state.apply(state.appliedIndex + 1, next));
    expect(restored.snapshot()).toBe(state.snapshot());
  });

  it('restores state written before placements and removed-stack versions existed, with none', () => {
    const { placements: _, removedStackVersions: __, ...older } = emptyClusterState();
    const restored = ClusterState.restore(JSON.stringify({ ...older, appliedIndex: 7 }));
    expect(restored.appliedIndex).toBe(7);
    expect(restored.view().placements).toEqual({});
    expect(restored.view().removedStackVersions).toEqual({});
  });
});

describe('cluster state: user strings as keys', () => {
  // Client ids, stack names, node ids and keys come from users: ones that name Object.prototype
  // members must be ordinary keys, or a member restored from a snapshot diverges from a live one.
  // States are compared with node's deepStrictEqual, which compares prototypes too (vitest's
  // toStrictEqual compares `.constructor`, which is an entry of its own in a record that has one).
  const hostile = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];

  it('a client id "__proto__" keeps its session: a restored member answers a retry as a live one does', () => {
    const live = new ClusterState();
    const first = { clientId: '__proto__', seq: 1, command: { type: 'put', key: 'k', value: 'mine' } } as const;
    live.apply(1, first);
    live.apply(2, { clientId: 'c2', seq: 1, command: { type: 'put', key: 'k', value: 'theirs' } });
    const restored = ClusterState.restore(live.snapshot());
    deepStrictEqual(restored.view(), live.view());
    // The retry must not overwrite c2's later write, on either member.
    expect(restored.apply(3, first)).toEqual(live.apply(3, first));
    expect(restored.view().kv.k).toBe('theirs');
    expect(restored.snapshot()).toBe(live.snapshot());
    expect(Object.keys(live.view().sessions)).toEqual(['__proto__', 'c2']);
  });

  it.each(hostile)('stores, restores and removes a stack, node and key named %s', (name) => {
    const { run, state } = applier();
    expect(run({ type: 'remove-stack', name, atMs: 1 })).toMatchObject({ ok: false, code: 'stack_not_found' });
    expect(run({ type: 'put', key: name, value: 'v' })).toEqual({ ok: true });
    expect(run(node(name))).toEqual({ ok: true });
    expect(run(deploy(name, [service('api')]))).toEqual({ ok: true, version: 1 });
    expect(run(place(name, 'api', 1, { '1': name }))).toEqual({ ok: true, version: 1 });
    const view = state.view();
    expect(Object.keys(view.kv)).toEqual([name]);
    expect(Object.keys(view.stacks)).toEqual([name]);
    expect(Object.keys(view.nodes)).toEqual([name]);
    expect(Object.keys(view.placements)).toEqual([name]);
    const restored = ClusterState.restore(state.snapshot());
    deepStrictEqual(restored.view(), view);
    expect(run({ type: 'remove-stack', name, atMs: 2 })).toEqual({ ok: true });
    expect(run({ type: 'delete', key: name })).toEqual({ ok: true, previous: 'v' });
    expect(Object.keys(state.view().kv)).toEqual([]);
    expect(state.view().removedStackVersions[name]).toBe(1);
  });

  it.each([
    ['an empty client id', ''],
    ['a client id with a control character', 'c\n1'],
    ['a client id longer than 256 characters', 'c'.repeat(257)],
    ['a client id that is not a string', 7 as unknown as string],
  ])('refuses %s, deterministically and without a session', (_what, clientId) => {
    const state = new ClusterState();
    expect(state.apply(1, { clientId, seq: 1, command: { type: 'put', key: 'k', value: 'v' } })).toMatchObject({ ok: false, code: 'invalid_client_id' });
    deepStrictEqual(state.view().kv, emptyClusterState().kv);
    expect(Object.keys(state.view().sessions)).toEqual([]);
    expect(state.appliedIndex).toBe(1);
  });

  it('loads state written by earlier code (plain JSON objects) into prototype-free maps', () => {
    const written = JSON.stringify({ appliedIndex: 3, stacks: {}, removedStackVersions: {}, nodes: {}, placements: {}, kv: { a: '1' }, sessions: { c1: { seq: 3, result: { ok: true } } } });
    const restored = ClusterState.restore(written);
    deepStrictEqual(restored.view(), { ...emptyClusterState(), appliedIndex: 3, kv: Object.assign(Object.create(null), { a: '1' }), sessions: Object.assign(Object.create(null), { c1: { seq: 3, result: { ok: true } } }) });
    expect(Object.getPrototypeOf(restored.view().kv)).toBeNull();
    // Rolling updates added history and rollouts: older state restores with both empty.
    expect(JSON.parse(restored.snapshot())).toEqual({ ...JSON.parse(written) as object, history: {}, rollouts: {} });
  });
});
