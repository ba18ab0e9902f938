import { describe, expect, it } from 'vitest';
import { adjacencyMapToArray, getAdjacencyMap, getShortestPaths } from 'xstate/graph';
import { nodeMachine } from '../../../src/machines/node.ts';
import type { NodeMachineInput } from '../../../src/machines/node-types.ts';
import { DEFAULT_NODE_TIMING } from '../../../src/machines/node-timing.ts';

// Every event the node machine can see, including what its own delays produce.
const events = [
  { type: 'HEARTBEAT', report: {} },
  { type: 'JOINED' },
  { type: 'LEAVE' },
  { type: 'SET_AVAILABILITY', availability: 'active' },
  { type: 'SET_AVAILABILITY', availability: 'pause' },
  { type: 'SET_AVAILABILITY', availability: 'drain' },
  { type: 'xstate.after.grace.node.member.liveness.joining' },
  { type: 'xstate.after.grace.node.member.liveness.unknown' },
  { type: 'xstate.after.suspectAfter.node.member.liveness.ready' },
  { type: 'xstate.after.restOfGrace.node.member.liveness.suspect' },
] as any[];

function stateKey(value: unknown): string {
  if (typeof value === 'string') return value;
  const member = (value as { member: { liveness: string; availability: string } }).member;
  return `${member.liveness}/${member.availability}`;
}

// Context (report, heartbeat count) does not change which transitions exist: states are the graph.
const serializeState = (state: any) => stateKey(state.value);

const livenessOf = (value: unknown) => stateKey(value).split('/')[0];

/** Every liveness change the machine can make under every event, from every reachable state. */
function edges(input: NodeMachineInput): Set<string> {
  const steps = adjacencyMapToArray(getAdjacencyMap(nodeMachine as any, { input, events, serializeState } as any));
  return new Set(
    steps
      .map((s) => [livenessOf((s.state as any).value), livenessOf((s.nextState as any).value)])
      .filter(([from, to]) => from !== to)
      .map(([from, to]) => `${from} -> ${to}`),
  );
}

const joiningInput: NodeMachineInput = { nodeId: 'n1', timing: DEFAULT_NODE_TIMING, startAs: 'joining' };
const unknownInput: NodeMachineInput = { ...joiningInput, startAs: 'unknown' };

describe('node machine graph', () => {
  it('reaches every liveness × availability combination and left', () => {
    const reached = new Set(getShortestPaths(nodeMachine as any, { input: joiningInput, events, serializeState } as any).map((p) => stateKey(p.state.value)));
    for (const liveness of ['joining', 'ready', 'suspect', 'down']) {
      for (const availability of ['active', 'pause', 'drain']) expect(reached, `${liveness}/${availability}`).toContain(`${liveness}/${availability}`);
    }
    expect(reached).toContain('left');
    expect(reached).not.toContain('unknown/active'); // only a new leader starts nodes there
  });

  it('takes exactly the liveness transitions of the diagram, each at least once', () => {
    const all = new Set([...edges(joiningInput), ...edges(unknownInput)]);
    expect([...all].sort()).toEqual(
      [
        'joining -> ready',
        'joining -> down',
        'joining -> left',
        'unknown -> ready',
        'unknown -> down',
        'unknown -> left',
        'ready -> suspect',
        'ready -> left',
        'suspect -> ready',
        'suspect -> down',
        'suspect -> left',
        'down -> ready',
        'down -> left',
      ].sort(),
    );
  });

  it('every path into left ends the machine', () => {
    const paths = getShortestPaths(nodeMachine as any, { input: joiningInput, events, serializeState } as any).filter((p) => p.state.value === 'left');
    expect(paths.length).toBeGreaterThan(0);
    for (const path of paths) expect(path.state.status).toBe('done');
  });
});
