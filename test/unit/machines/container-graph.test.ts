import { describe, expect, it } from 'vitest';
import { adjacencyMapToArray, getAdjacencyMap, getShortestPaths } from 'xstate/graph';
import { containerMachine } from '../../../src/machines/container.ts';
import { allLeafStates, events, input, serializeState, stateKey } from './container-graph-fixtures.ts';

describe('container machine graph', () => {
  const paths = getShortestPaths(containerMachine, {
    input,
    events,
    serializeState,
  });
  const reached = new Set(paths.map((p) => stateKey(p.state.value)));

  it('reaches every state', () => {
    for (const state of allLeafStates) expect(reached, state).toContain(state);
  });

  it('reaches every state only through legal transitions (removed is final)', () => {
    const removedPaths = paths.filter((p) => p.state.value === 'removed');
    expect(removedPaths.length).toBeGreaterThan(0);
    for (const path of removedPaths) expect(path.state.status).toBe('done');
  });

  it('takes exactly the transitions of the lifecycle diagram, each at least once', () => {
    // Every state change the machine can make under every event, from every reachable state.
    // (exited reaches backoff/failed through its eventless decision, so it shows as the source's edge.)
    const steps = adjacencyMapToArray(getAdjacencyMap(containerMachine, { input, events, serializeState } as any));
    const taken = new Set(steps.map((s) => `${stateKey((s.state as { value: unknown }).value)} -> ${stateKey((s.nextState as { value: unknown }).value)}`).filter((e) => e.split(' -> ')[0] !== e.split(' -> ')[1]));
    expect([...taken].sort()).toEqual([...expectedEdges].sort());
  });
});

const expectedEdges = [
  'backoff -> creating',
  'backoff -> removed',
  'backoff -> removing',
  'backoff -> starting',
  'creating -> engine-backoff',
  'creating -> backoff',
  'creating -> failed',
  'creating -> removed',
  'creating -> starting',
  'engine-backoff -> creating',
  'engine-backoff -> removed',
  'engine-backoff -> starting',
  'engine-backoff -> stopping',
  'exited -> removed',
  'exited -> removing',
  'failed -> removed',
  'failed -> removing',
  'pending -> backoff',
  'pending -> creating',
  'pending -> removed',
  'pending -> running.healthy',
  'pending -> starting',
  'remove-backoff -> removed',
  'remove-backoff -> removing',
  'removing -> remove-backoff',
  'removing -> removed',
  'running.healthy -> backoff',
  'running.healthy -> exited',
  'running.healthy -> failed',
  'running.healthy -> removed',
  'running.healthy -> running.none',
  'running.healthy -> running.starting',
  'running.healthy -> running.unhealthy',
  'running.healthy -> stopping',
  'running.none -> backoff',
  'running.none -> exited',
  'running.none -> failed',
  'running.none -> removed',
  'running.none -> running.healthy',
  'running.none -> running.starting',
  'running.none -> running.unhealthy',
  'running.none -> stopping',
  'running.starting -> backoff',
  'running.starting -> exited',
  'running.starting -> failed',
  'running.starting -> removed',
  'running.starting -> running.healthy',
  'running.starting -> running.none',
  'running.starting -> running.unhealthy',
  'running.starting -> stopping',
  'running.unhealthy -> backoff',
  'running.unhealthy -> engine-backoff',
  'running.unhealthy -> failed',
  'running.unhealthy -> removed',
  'running.unhealthy -> stopping',
  'starting -> backoff',
  'starting -> engine-backoff',
  'starting -> exited',
  'starting -> failed',
  'starting -> removed',
  'starting -> running.starting',
  'starting -> stopping',
  'stopping -> removed',
  'stopping -> removing',
];
