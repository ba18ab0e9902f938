import { describe, expect, it } from 'vitest';
import { desiredServices } from '../../../src/agent/desired.ts';
import { planReconcile, type ObservedReplica } from '../../../src/agent/plan.ts';
import { serviceSpecHash } from '../../../src/agent/spec-hash.ts';
import { ClusterState } from '../../../src/cluster/state.ts';
import { service, stack } from './fixtures.ts';

// In a cluster each agent runs exactly the slots the leader placed on its node, keeping their
// cluster-wide numbers so `<stack>_<service>_<slot>` names stay unique across nodes.
const web = service('web', { replicas: 4 });
const hash = serviceSpecHash(web);

function clusterState(slots: Record<string, string>): ClusterState {
  const state = new ClusterState();
  let index = 0;
  const apply = (command: Parameters<ClusterState['apply']>[1]['command']) => state.apply(++index, { clientId: 'c', seq: index, command });
  for (const id of ['n1', 'n2']) apply({ type: 'register-node', node: { id, address: `${id}:7421`, labels: {} } });
  apply({ type: 'deploy-stack', stack: stack('app', [web]), specHash: 'h1', atMs: 0 });
  expect(apply({ type: 'place-service', stack: 'app', service: 'web', stackVersion: 1, slots })).toMatchObject({ ok: true });
  return state;
}

const replica = (slot: number): ObservedReplica => ({ name: `app_web_${slot}`, stack: 'app', service: 'web', slot, specHash: hash, phase: 'running', health: 'none', removing: false });

describe('desired services of one node in a cluster', () => {
  it('lists only the slots placed on the node, with their cluster-wide numbers', () => {
    const state = clusterState({ 1: 'n1', 2: 'n2', 3: 'n1', 4: 'n2' }).view();
    expect(desiredServices(state, 'n1').map((d) => [d.service, d.slots, d.replicas])).toEqual([['web', [1, 3], 2]]);
    expect(desiredServices(state, 'n2').map((d) => d.slots)).toEqual([[2, 4]]);
    expect(desiredServices(state, 'n3')).toEqual([]);
  });

  it('without a node (a single node) still runs every slot', () => {
    expect(desiredServices(clusterState({ 1: 'n2' }).view()).map((d) => [d.replicas, d.slots])).toEqual([[4, undefined]]);
  });

  it('the planner creates the placed slots and removes a slot placed elsewhere', () => {
    const desired = desiredServices(clusterState({ 1: 'n1', 2: 'n2', 3: 'n1', 4: 'n2' }).view(), 'n1');
    const plan = planReconcile({ desired, replicas: [replica(1), replica(2)], engine: [], blockedUntilMs: {} }, 0);
    expect(plan.actions.map((a) => [a.type, a.name])).toEqual([['remove', 'app_web_2'], ['create', 'app_web_3']]);
  });
});
