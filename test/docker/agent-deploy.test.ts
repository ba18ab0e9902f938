import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { converged, realService, startRealAgent, type RealAgent } from './agent-harness.ts';
import { LABEL_SPEC_HASH, nodeSelector } from '../../src/agent/labels.ts';
import { serviceSpecHash } from '../../src/agent/spec-hash.ts';
import { eventually } from '../support/eventually.ts';

let a: RealAgent;
const image = inject('testImage');

beforeAll(async () => {
  a = await startRealAgent(inject('dockerSocket'), `deploy-${process.pid}`);
});
afterAll(async () => {
  await a?.dispose();
});

async function engineNames(): Promise<string[]> {
  const listed = await a.runtime.list(nodeSelector(a.nodeId));
  return listed.filter((c) => c.state === 'running').map((c) => c.name.replace(/^\//, '')).sort();
}

describe('node agent on a real engine: deploy, scale, replace, remove', () => {
  it('deploys every replica and the engine runs them', async () => {
    await a.deploy({ name: 'shop', services: [realService('web', image, { replicas: 3 })] });
    await a.waitFor((agent) => converged(agent, 'shop'), 'shop converged');
    expect(await engineNames()).toEqual(['shop_web_1', 'shop_web_2', 'shop_web_3']);
    for (const view of a.agent.containers()) {
      const inspected = await a.runtime.inspect(view.containerId!);
      expect(inspected?.state).toBe('running');
    }
  });

  it('scales up and down without restarting the replicas that stay', async () => {
    const keep = a.agent.containers().find((c) => c.name === 'shop_web_1')!;
    const startedBefore = (await a.runtime.inspect(keep.containerId!))!.startedAtMs;
    await a.deploy({ name: 'shop', services: [realService('web', image, { replicas: 5 })] });
    await a.waitFor((agent) => converged(agent, 'shop') && agent.containers().length === 5, 'scaled to 5');
    expect(await engineNames()).toHaveLength(5);
    await a.deploy({ name: 'shop', services: [realService('web', image, { replicas: 2 })] });
    await a.waitFor((agent) => converged(agent, 'shop') && agent.containers().length === 2, 'scaled to 2');
    await eventually(async () => (await engineNames()).join() === 'shop_web_1,shop_web_2', { timeoutMs: 30_000, what: 'engine has exactly 2 replicas' });
    const after = await a.runtime.inspect(keep.containerId!);
    expect(after?.startedAtMs).toBe(startedBefore);
  });

  it('replaces containers whose spec changed', async () => {
    const oldIds = a.agent.containers().map((c) => c.containerId);
    const v2 = realService('web', image, { replicas: 2, environment: { VERSION: '2' } });
    await a.deploy({ name: 'shop', services: [v2] });
    await a.waitFor((agent) => converged(agent, 'shop') && agent.containers().every((c) => c.specHash === serviceSpecHash(v2)), 'replaced');
    const listed = await a.runtime.list(nodeSelector(a.nodeId));
    expect(listed).toHaveLength(2);
    for (const c of listed) {
      expect(oldIds).not.toContain(c.id);
      expect(c.labels[LABEL_SPEC_HASH]).toBe(serviceSpecHash(v2));
    }
  });

  it('starts a service_healthy dependant only after its dependency is healthy', async () => {
    const db = realService('db', image, {
      command: ['sh', '-c', 'trap "exit 0" TERM; sleep 2; touch /tmp/ready; sleep 3600 & wait'],
      // Ready after 2 s: the start period keeps the early failed checks from counting, else the
      // engine would call it unhealthy at 1.5 s and the agent would replace it (as Swarm does).
      healthcheck: { test: ['CMD-SHELL', 'test -f /tmp/ready'], intervalMs: 500, timeoutMs: 1000, retries: 3, startPeriodMs: 10_000, disable: false },
    });
    const api = realService('api', image, { dependsOn: { db: { condition: 'service_healthy', required: true, restart: false } } });
    const from = a.events.length;
    await a.deploy({ name: 'deps', services: [db, api] });
    await a.waitFor((agent) => converged(agent, 'deps'), 'deps converged', 90_000);
    const seen = a.events.slice(from).filter((e) => e.type === 'container').map((e) => (e.type === 'container' ? e.container : undefined)!);
    const dbHealthyAt = seen.findIndex((c) => c.name === 'deps_db_1' && c.health === 'healthy');
    const apiCreatingAt = seen.findIndex((c) => c.name === 'deps_api_1' && c.state === 'creating');
    expect(dbHealthyAt).toBeGreaterThanOrEqual(0);
    expect(apiCreatingAt).toBeGreaterThan(dbHealthyAt);
  });

  it('removes a stack and all its containers', async () => {
    await a.removeStack('shop');
    await a.removeStack('deps');
    await a.waitFor((agent) => agent.containers().length === 0 && agent.services().length === 0, 'all replicas gone');
    expect(await a.runtime.list(nodeSelector(a.nodeId))).toEqual([]);
  });
});
