import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converged, realService, startRealAgent, type RealAgent } from './agent-harness.ts';
import { startPrivateEngine, type PrivateEngine } from '../support/docker-engine.ts';
import { ensureTestImage } from '../support/test-image.ts';

// An engine of its own: restarting the shared one would disturb the other tests.
let engine: PrivateEngine;
let a: RealAgent;
let image: string;

beforeAll(async () => {
  engine = await startPrivateEngine(`ag-restart-${process.pid}`);
  image = await ensureTestImage(engine.dockerHost);
  a = await startRealAgent(engine.dockerHost, `engrestart-${process.pid}`);
});
afterAll(async () => {
  await a?.dispose();
  await engine?.stop();
});

describe('node agent: dockerd restarts', () => {
  it('re-subscribes to events after a dockerd restart and converges again', async () => {
    await a.deploy({ name: 'tough', services: [realService('web', image, { replicas: 2, restartPolicy: { condition: 'any', delayMs: 200, windowMs: 0 } })] });
    await a.waitFor((agent) => converged(agent, 'tough'), 'converged');
    const from = a.events.length;
    expect(a.agent.engineReachable?.()).toBe(true);
    // What a cluster node puts in its heartbeats (engineDown): sampled while dockerd is away.
    const reachable: boolean[] = [];
    const sampler = setInterval(() => reachable.push(a.agent.engineReachable?.() ?? true), 5);
    await engine.restart(); // clean restart: dockerd stops the containers first
    await a.waitFor(() => a.events.slice(from).some((e) => e.type === 'engine-stream' && !e.connected), 'stream end noticed');
    await a.waitFor((agent) => converged(agent, 'tough') && a.events.slice(from).some((e) => e.type === 'engine-stream' && e.connected), 'converged after the restart', 90_000);
    clearInterval(sampler);
    expect(reachable, 'the engine was reported unreachable while dockerd was away').toContain(false);
    expect(a.agent.engineReachable?.(), 'and reachable again once it answers').toBe(true);
    // Events flow again: a crash is now noticed through the new stream and repaired.
    const view = a.agent.containers()[0]!;
    const restarts = view.restarts;
    await new Dockerode({ socketPath: engine.socketPath }).getContainer(view.containerId!).kill();
    await a.waitFor((agent) => agent.containers().find((c) => c.name === view.name)!.restarts > restarts && converged(agent, 'tough'), 'crash after restart repaired');
    expect(a.agent.services()[0]).toMatchObject({ running: 2, converged: true });
  });
});
