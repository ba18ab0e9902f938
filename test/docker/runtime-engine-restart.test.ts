import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerRuntime, type DockerodeRuntime } from '../../src/adapters/docker/dockerode-runtime.ts';
import type { RuntimeEvent } from '../../src/seams/container-runtime.ts';
import { startPrivateEngine, type PrivateEngine } from '../support/docker-engine.ts';
import { ensureTestImage } from '../support/test-image.ts';
import { eventually } from '../support/eventually.ts';

// A dockerd of its own: restarting the shared one would disturb the other tests.
let engine: PrivateEngine;
let runtime: DockerodeRuntime;
let image: string;

beforeAll(async () => {
  engine = await startPrivateEngine(`rt-restart-${process.pid}`);
  image = await ensureTestImage(engine.dockerHost);
  runtime = createDockerRuntime(engine.dockerHost);
});

afterAll(async () => {
  await engine?.stop();
});

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('dockerode runtime: engine restart', () => {
  it('calls onEnd once when dockerd restarts, and a new subscription delivers events again', async () => {
    const caseId = randomUUID();
    const created = deferred<RuntimeEvent>();
    const ended = deferred<Error | undefined>();
    let endCalls = 0;
    const subscription = runtime.events(
      (event) => {
        if (event.labels['constellation-test.case'] === caseId && event.action === 'create') created.resolve(event);
      },
      (error) => {
        endCalls++;
        ended.resolve(error);
      },
    );
    const request = {
      name: `restart-${caseId.slice(0, 8)}`,
      image,
      command: ['true'],
      env: {},
      labels: { 'constellation-test.case': caseId },
      ports: [],
      mounts: [],
      capAdd: [],
      capDrop: [],
      devices: [],
    };
    const id = await runtime.create(request);
    expect((await created.promise).containerId).toBe(id);

    await engine.restart();
    await ended.promise;
    expect(endCalls).toBe(1);
    subscription.close();

    // Events flow again on a new subscription. It is live only once it delivers something, so
    // create probe containers until one is seen (a probe made before the stream attached is missed).
    const seen: RuntimeEvent[] = [];
    const resubscribed = runtime.events((event) => seen.push(event), () => undefined);
    const probes: string[] = [];
    await eventually(
      async () => {
        if (seen.some((event) => event.action === 'create' && probes.includes(event.containerId))) return true;
        probes.push(await runtime.create({ ...request, name: `probe-${probes.length}-${caseId.slice(0, 8)}` }));
        return false;
      },
      { timeoutMs: 15_000, what: 'container events after the engine restart' },
    );
    const probe = seen.find((event) => event.action === 'create' && probes.includes(event.containerId));
    expect(probe?.labels['constellation-test.case']).toBe(caseId);
    for (const created of [id, ...probes]) await runtime.remove(created);
    resubscribed.close();
    expect(endCalls).toBe(1);
  });

  it('calls onEnd with an error when the engine is not reachable at all', async () => {
    const nowhere = createDockerRuntime(`${engine.socketPath}.absent`);
    const ended = deferred<Error | undefined>();
    nowhere.events(() => undefined, (error) => ended.resolve(error));
    expect(await ended.promise).toMatchObject({ code: 'engine_unavailable', operation: 'events' });
  });
});
