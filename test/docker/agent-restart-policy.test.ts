import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { converged, realService, startRealAgent, type RealAgent } from './agent-harness.ts';

let a: RealAgent;
let docker: Dockerode;
const image = inject('testImage');

beforeAll(async () => {
  a = await startRealAgent(inject('dockerSocket'), `restart-${process.pid}`);
  docker = new Dockerode({ socketPath: inject('dockerSocket') });
});
afterAll(async () => {
  await a?.dispose();
});

describe('node agent on a real engine: restart policy', () => {
  it('restarts a killed container in place when the policy says so', async () => {
    await a.deploy({ name: 'pol', services: [realService('web', image, { restartPolicy: { condition: 'on-failure', delayMs: 200, windowMs: 0 } })] });
    await a.waitFor((agent) => converged(agent, 'pol'), 'running');
    const id = a.agent.containers()[0]!.containerId!;
    const startedBefore = (await a.runtime.inspect(id))!.startedAtMs!;
    await docker.getContainer(id).kill();
    await a.waitFor((agent) => agent.containers()[0]?.state === 'backoff', 'noticed the crash');
    await a.waitFor((agent) => converged(agent, 'pol') && agent.containers()[0]!.restarts === 1, 'restarted');
    const after = (await a.runtime.inspect(id))!;
    expect(after.state).toBe('running');
    expect(after.startedAtMs!).toBeGreaterThan(startedBefore);
    await a.removeStack('pol');
    await a.waitFor((agent) => agent.containers().length === 0, 'pol removed');
  });

  it('replaces a replica whose healthcheck turns unhealthy: stopped, then started again per the policy', async () => {
    // Healthy at first; one second after every start the process makes itself sick, so each life
    // ends the same way, and a start clears the mark again.
    const sickAfterASecond = ['sh', '-c', 'rm -f /tmp/sick; sleep 1; touch /tmp/sick; exec sleep 600'];
    const healthcheck = { test: ['CMD-SHELL', 'test ! -e /tmp/sick'], intervalMs: 200, timeoutMs: 1000, retries: 2, startPeriodMs: 0, disable: false };
    await a.deploy({ name: 'sick', services: [realService('web', image, { command: sickAfterASecond, healthcheck, restartPolicy: { condition: 'on-failure', delayMs: 200, windowMs: 0 } })] });
    await a.waitFor((agent) => agent.containers()[0]?.health === 'healthy', 'healthy first');
    const id = a.agent.containers()[0]!.containerId!;
    const startedBefore = (await a.runtime.inspect(id))!.startedAtMs!;
    await a.waitFor((agent) => agent.containers()[0]?.health === 'unhealthy', 'unhealthy');
    await a.waitFor((agent) => agent.containers()[0]!.restarts >= 1 && agent.containers()[0]?.health === 'healthy', 'replaced and healthy again');
    const after = (await a.runtime.inspect(id))!;
    expect(after.state).toBe('running');
    expect(after.startedAtMs!).toBeGreaterThan(startedBefore);
    await a.removeStack('sick');
    await a.waitFor((agent) => agent.containers().length === 0, 'sick removed');
  });

  it('does not restart when the condition is none', async () => {
    await a.deploy({ name: 'once', services: [realService('job', image, { restartPolicy: { condition: 'none', delayMs: 0, windowMs: 0 } })] });
    await a.waitFor((agent) => converged(agent, 'once'), 'running');
    const id = a.agent.containers()[0]!.containerId!;
    await docker.getContainer(id).kill();
    await a.waitFor((agent) => agent.containers()[0]?.state === 'exited', 'exited');
    // Two resync passes (2 s each) must not bring it back.
    const listedBefore = a.events.filter((e) => e.type === 'engine-listed').length;
    await a.waitFor(() => a.events.filter((e) => e.type === 'engine-listed').length >= listedBefore + 2, 'two resyncs', 20_000);
    const inspected = (await a.runtime.inspect(id))!;
    expect(inspected.state).toBe('exited');
    expect(a.agent.containers()).toHaveLength(1);
    expect(a.agent.containers()[0]).toMatchObject({ state: 'exited', restarts: 0, containerId: id });
    await a.removeStack('once');
    await a.waitFor((agent) => agent.containers().length === 0, 'once removed');
  });
});
