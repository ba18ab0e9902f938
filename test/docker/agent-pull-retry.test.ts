import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateEngine, type PrivateEngine } from '../support/docker-engine.ts';
import { ensureRegistryBinary, startTestRegistry, type TestRegistry } from '../support/test-registry.ts';
import { ensureTestImage } from '../support/test-image.ts';
import { converged, realService, startRealAgent, type RealAgent } from './agent-harness.ts';

// The default restart policy promises unlimited attempts: a pull that fails because the registry
// cannot be reached must be retried, and succeed once the registry is there. A real engine in its
// own namespace, a real registry (Debian's docker-registry) that starts only after the first
// attempt failed, and the agent with Swarm's default policy (any, 5 s delay, no limit).
let engine: PrivateEngine;
let image: string;
let agent: RealAgent;
let registry: TestRegistry | undefined;

beforeAll(async () => {
  await ensureRegistryBinary();
  engine = await startPrivateEngine(`pull-retry-${process.pid}`);
  image = await ensureTestImage(engine.dockerHost);
  agent = await startRealAgent(engine.dockerHost, `pull-retry-${process.pid}`);
});

afterAll(async () => {
  await agent?.dispose();
  await registry?.stop();
  await engine?.stop();
});

describe('node agent on a real engine: a failed pull', () => {
  it('says what the pull said (registry unreachable), retries under the default policy, and runs once the registry answers', async () => {
    const port = 5055;
    const ref = `127.0.0.1:${port}/constellation-test/late:1`;
    await agent.deploy({ name: 'late', services: [realService('web', ref, { restartPolicy: { condition: 'any', delayMs: 5000, windowMs: 0 } })] });
    await agent.waitFor((a) => a.containers()[0]?.state === 'backoff', 'the first pull failed and a retry is scheduled');
    const waiting = agent.agent.containers()[0]!;
    // The pull's own cause, not create's "No such image", and when the next attempt is.
    expect(waiting.message).toMatch(new RegExp(`^image pull failed: docker pull ${ref.replace(/[.]/g, '\\.')}: .*connection refused.*; restart 1 in 5\\.0 s \\(at \\d\\d:\\d\\d:\\d\\d UTC\\)$`));
    expect(waiting.message).not.toContain('No such image');
    expect(agent.agent.services()[0]).toMatchObject({ failed: false, converged: false });

    registry = await startTestRegistry(engine, port);
    await registry.publish(image, 'constellation-test/late:1');
    await agent.waitFor((a) => converged(a, 'late'), 'the retried pull succeeded and the replica runs', 60_000);
    const running = agent.agent.containers()[0]!;
    expect(running.state).toBe('running');
    expect(running.restarts).toBeGreaterThanOrEqual(1);
    expect(running.message).toBeUndefined();
    await agent.removeStack('late');
    await agent.waitFor((a) => a.containers().length === 0, 'late removed');
  });
});
