import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { converged, realService, startRealAgent, type RealAgent } from './agent-harness.ts';
import { nodeSelector } from '../../src/agent/labels.ts';

let a: RealAgent;
const image = inject('testImage');

beforeAll(async () => {
  a = await startRealAgent(inject('dockerSocket'), `adopt-${process.pid}`);
});
afterAll(async () => {
  await a?.dispose();
});

/** [id, StartedAt, state] of every container of the node: the listing has no start time, inspect does. */
async function startTimes(): Promise<[string, number | undefined, string][]> {
  const listed = await a.runtime.list(nodeSelector(a.nodeId));
  const inspected = await Promise.all(listed.map((c) => a.runtime.inspect(c.id)));
  return inspected.map((c): [string, number | undefined, string] => [c!.id, c!.startedAtMs, c!.state]).sort((x, y) => (x[0] < y[0] ? -1 : 1));
}

describe('node agent on a real engine: adoption', () => {
  it('a new agent on the same store and engine adopts every container and restarts none', async () => {
    await a.deploy({ name: 'keep', services: [realService('web', image, { replicas: 3 }), realService('db', image)] });
    await a.waitFor((agent) => converged(agent, 'keep'), 'converged');
    const before = await startTimes();
    expect(before).toHaveLength(4);
    for (const [, startedAtMs, state] of before) {
      expect(startedAtMs).toBeGreaterThan(0);
      expect(state).toBe('running');
    }
    await a.restartAgent();
    await a.waitFor((agent) => converged(agent, 'keep'), 'converged after restart');
    // Let one full resync pass run too: it must not change anything either.
    const listed = a.events.filter((e) => e.type === 'engine-listed').length;
    await a.waitFor(() => a.events.filter((e) => e.type === 'engine-listed').length >= listed + 1, 'a resync', 20_000);
    const after = await startTimes();
    expect(after).toEqual(before);
    expect(a.agent.containers().map((c) => c.containerId).sort()).toEqual(before.map(([id]) => id).sort());
  });
});
