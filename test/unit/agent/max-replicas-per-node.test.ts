import { afterEach, describe, expect, it } from 'vitest';
import { loadCompose } from '../../../src/compose/load-compose.ts';
import { runningNames, startHarness, type Harness } from './agent-harness.ts';
import { service, stack } from './fixtures.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe('deploy.placement.max_replicas_per_node on a single node', () => {
  it('the loader keeps it in the spec', () => {
    const loaded = loadCompose({ content: 'services:\n  web:\n    image: x\n    deploy: { replicas: 5, placement: { max_replicas_per_node: 2 } }\n', stackName: 'app', env: {} });
    expect(loaded.ok && loaded.stack.services[0]!.deploy.placement.maxReplicasPerNode).toBe(2);
  });

  it('runs at most that many replicas; the rest stay pending with the reason in the service status', async () => {
    h = await startHarness();
    const web = service('web', { replicas: 5 });
    await h.store.deploy(stack('app', [{ ...web, deploy: { ...web.deploy, placement: { ...web.deploy.placement, maxReplicasPerNode: 2 } } }]));
    await h.until(() => (h!.agent.services()[0]?.running ?? 0) === 2, 'two replicas run');
    // Let every timer of a resync pass by: nothing more is created.
    await h.clock.advance(30_000);
    expect(runningNames(h.runtime)).toEqual(['app_web_1', 'app_web_2']);
    expect(h.runtime.calls.filter((c) => c.startsWith('create '))).toHaveLength(2);
    expect(h.agent.services()[0]).toMatchObject({
      desiredReplicas: 5,
      running: 2,
      converged: false,
      failed: false,
      message: '3 of 5 replicas pending: deploy.placement.max_replicas_per_node is 2 and this is the only node',
    });
  });
});
