import { describe, expect, it } from 'vitest';
import { desiredServices } from '../../../src/agent/desired.ts';
import type { ClusterCommand } from '../../../src/cluster/commands.ts';
import { ClusterState } from '../../../src/cluster/state.ts';
import type { ServiceSpec } from '../../../src/compose/types.ts';
import { AssignmentIndex, type AssignmentChange } from '../../../src/cluster-mode/worker/assignment-index.ts';
import { WorkerAssignments } from '../../../src/cluster-mode/worker/worker-assignments.ts';
import { service, stack } from '../agent/fixtures.ts';

function cluster() {
  const state = new ClusterState();
  let seq = 0;
  const run = (command: ClusterCommand): void => {
    seq += 1;
    const result = state.apply(state.appliedIndex + 1, { clientId: 'test', seq, command });
    if (!result.ok) throw new Error(`${command.type}: ${result.message}`);
  };
  for (const id of ['m1', 'w1', 'w2', 'w3']) run({ type: 'register-node', node: { id, address: `${id}:7421`, labels: {}, role: id.startsWith('w') ? 'worker' : 'manager' } });
  return {
    state,
    run,
    deploy: (name: string, services: ServiceSpec[]) => run({ type: 'deploy-stack', stack: stack(name, services), specHash: `${name}-${JSON.stringify(services.map((s) => [s.name, s.command]))}`, atMs: 1 }),
    place: (name: string, serviceName: string, slots: Record<string, string>) => run({ type: 'place-service', stack: name, service: serviceName, stackVersion: state.view().stacks[name]!.version, slots }),
  };
}

const byNode = (changes: readonly AssignmentChange[]) =>
  Object.fromEntries(changes.map((change) => [change.nodeId, { upsert: change.upsert.map((s) => `${s.name}@${s.version}:${s.spec.services.map((x) => x.name).join('+')}`), remove: change.remove }]));

describe('assignment index (what each worker session is sent)', () => {
  it('gives each node only the stacks and services with a slot on it, and its own slots', () => {
    const c = cluster();
    const index = new AssignmentIndex();
    c.deploy('shop', [service('web', { replicas: 3 }), service('db')]);
    c.place('shop', 'web', { 1: 'w1', 2: 'w2', 3: 'w1' });
    c.place('shop', 'db', { 1: 'm1' });
    expect(byNode(index.update(c.state.view()))).toEqual({
      w1: { upsert: ['shop@1:web'], remove: [] },
      w2: { upsert: ['shop@1:web'], remove: [] },
      m1: { upsert: ['shop@1:db'], remove: [] },
    });
    const [w1] = index.assignmentOf('w1');
    expect(w1!.placements).toEqual({ web: { stackVersion: 1, version: 1, slots: { 1: 'w1', 3: 'w1' } } });
    expect(index.assignmentOf('w3')).toEqual([]);
  });

  it('sends a start-first move to its target worker as one of its slots, and the old node keeps it until the move completes', () => {
    const c = cluster();
    const index = new AssignmentIndex();
    c.deploy('a', [{ ...service('web', { replicas: 2 }), deploy: { ...service('web', { replicas: 2 }).deploy, labels: { 'constellation.rebalance': 'true' } } }]);
    c.place('a', 'web', { 1: 'w1', 2: 'w1' });
    index.update(c.state.view());
    c.run({ type: 'place-service', stack: 'a', service: 'web', stackVersion: 1, slots: { 1: 'w1', 2: 'w1' }, moving: { 2: 'w2' } });
    expect(byNode(index.update(c.state.view()))).toEqual({ w2: { upsert: ['a@1:web'], remove: [] } });
    expect(index.assignmentOf('w2')[0]!.placements['web']!.slots).toEqual({ 2: 'w2' });
    expect(index.assignmentOf('w1')[0]!.placements['web']!.slots).toEqual({ 1: 'w1', 2: 'w1' });
    // Completed: w1 loses slot 2, w2 already runs it and hears nothing.
    c.place('a', 'web', { 1: 'w1', 2: 'w2' });
    expect(Object.keys(byNode(index.update(c.state.view())))).toEqual(['w1']);
  });

  it('reports only the nodes a change touched, and nothing when nothing changed', () => {
    const c = cluster();
    const index = new AssignmentIndex();
    c.deploy('a', [service('web', { replicas: 2 })]);
    c.place('a', 'web', { 1: 'w1', 2: 'w2' });
    c.deploy('b', [service('api')]);
    c.place('b', 'api', { 1: 'w3' });
    index.update(c.state.view());
    expect(index.update(c.state.view())).toEqual([]);
    // Moving slot 2 from w2 to w3 re-sends a to w2 (removed) and w3 (new); w1's slots are unchanged,
    // so w1 hears nothing although the placement record changed.
    c.place('a', 'web', { 1: 'w1', 2: 'w3' });
    expect(byNode(index.update(c.state.view()))).toEqual({
      w3: { upsert: ['a@1:web'], remove: [] },
      w2: { upsert: [], remove: ['a'] },
    });
    // A stack removed is removed from the nodes that ran it, and only from them.
    c.run({ type: 'remove-stack', name: 'b', atMs: 2 });
    expect(byNode(index.update(c.state.view()))).toEqual({ w3: { upsert: [], remove: ['b'] } });
    expect(index.assignmentOf('w3').map((s) => s.name)).toEqual(['a']);
  });

  it('a redeploy re-sends the new spec to the nodes that run the stack (its placements are kept)', () => {
    const c = cluster();
    const index = new AssignmentIndex();
    c.deploy('a', [service('web', { replicas: 2 })]);
    c.place('a', 'web', { 1: 'w1', 2: 'w2' });
    index.update(c.state.view());
    c.deploy('a', [service('web', { replicas: 2, command: ['sleep', '10'] })]);
    const changes = index.update(c.state.view());
    expect(byNode(changes)).toEqual({ w1: { upsert: ['a@2:web'], remove: [] }, w2: { upsert: ['a@2:web'], remove: [] } });
    expect(changes[0]!.upsert[0]!.spec.services[0]!.command).toEqual(['sleep', '10']);
  });

  it('the worker\'s view of its assignments drives the agent exactly as the full state does for that node', () => {
    const c = cluster();
    const index = new AssignmentIndex();
    c.deploy('shop', [service('web', { replicas: 4 }), service('db', { replicas: 2 })]);
    c.place('shop', 'web', { 1: 'w1', 2: 'w2', 3: 'w1', 4: 'm1' });
    c.place('shop', 'db', { 1: 'w2', 2: 'w1' });
    index.update(c.state.view());
    for (const nodeId of ['w1', 'w2', 'w3']) {
      const worker = new WorkerAssignments();
      worker.apply({ t: 'assign', full: true, upsert: index.assignmentOf(nodeId), remove: [] });
      expect(desiredServices(worker.view(), nodeId)).toEqual(desiredServices(c.state.view(), nodeId));
    }
  });
});

describe('worker assignments (the worker applying session frames)', () => {
  it('applies deltas and full replacements, and says whether anything changed', () => {
    const c = cluster();
    const index = new AssignmentIndex();
    c.deploy('a', [service('web', { replicas: 1 })]);
    c.place('a', 'web', { 1: 'w1' });
    c.deploy('b', [service('api', { replicas: 1 })]);
    c.place('b', 'api', { 1: 'w1' });
    index.update(c.state.view());
    const worker = new WorkerAssignments();
    expect(worker.apply({ t: 'assign', full: true, upsert: index.assignmentOf('w1'), remove: [] })).toBe(true);
    expect(worker.apply({ t: 'assign', full: true, upsert: index.assignmentOf('w1'), remove: [] })).toBe(false);
    expect(worker.apply({ t: 'assign', full: false, upsert: [], remove: ['a'] })).toBe(true);
    expect(worker.list().map((s) => s.name)).toEqual(['b']);
    expect(Object.keys(worker.view().stacks)).toEqual(['b']);
    expect(worker.apply({ t: 'assign', full: true, upsert: [], remove: [] })).toBe(true);
    expect(desiredServices(worker.view(), 'w1')).toEqual([]);
  });
});

describe('a rollout reaches the workers', () => {
  it('a worker runs each of its slots at the version the committed rollout says, as a manager would', () => {
    const c = cluster();
    const index = new AssignmentIndex();
    const v1 = service('web', { replicas: 2, environment: { V: '1' }, command: ['v1'] });
    c.deploy('shop', [v1]);
    c.place('shop', 'web', { 1: 'w1', 2: 'w1' });
    index.update(c.state.view());
    const v2 = service('web', { replicas: 2, environment: { V: '2' }, command: ['v2'] });
    c.deploy('shop', [v2]);
    c.place('shop', 'web', { 1: 'w1', 2: 'w1' });
    const worker = new WorkerAssignments();
    worker.apply({ t: 'assign', full: true, upsert: index.assignmentOf('w1'), remove: [] });
    const send = () => {
      for (const change of index.update(c.state.view())) if (change.nodeId === 'w1') worker.apply({ t: 'assign', full: false, upsert: change.upsert, remove: change.remove });
    };
    send();
    const specs = () => {
      const [web] = desiredServices(worker.view(), 'w1');
      return [1, 2].map((slot) => (web!.slotSpecs?.[slot] ?? web!).spec.environment.V);
    };
    // Nothing moved yet: both slots keep v1.
    expect(specs()).toEqual(['1', '1']);
    const progress = { phase: 'updating' as const, step: 'starting' as const, batches: [[1], [2]], batch: 0, switched: [1], surge: [], failed: [], rollbackBatches: [], rollbackBatch: 0, rollbackFailed: [] };
    c.run({ type: 'rollout-progress', stack: 'shop', rolloutId: 2, service: 'web', progress, atMs: 2 });
    send();
    expect(specs()).toEqual(['2', '1']);
    // The worker's view agrees with what a manager's own agent would compute.
    const [managerView] = desiredServices(c.state.view(), 'w1');
    const [workerView] = desiredServices(worker.view(), 'w1');
    expect(Object.keys(workerView!.slotSpecs ?? {})).toEqual(Object.keys(managerView!.slotSpecs ?? {}));
    c.run({ type: 'rollout-progress', stack: 'shop', rolloutId: 2, service: 'web', progress: { ...progress, phase: 'completed', step: undefined as never, switched: [1, 2] }, atMs: 3 });
    send();
    expect(specs()).toEqual(['2', '2']);
  });
});
