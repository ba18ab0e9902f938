import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerRuntime, type DockerodeRuntime } from '../../src/adapters/docker/dockerode-runtime.ts';
import { startPrivateEngine, type PrivateEngine } from '../support/docker-engine.ts';
import { eventually } from '../support/eventually.ts';
import { ensureRegistryBinary, startTestRegistry, type TestRegistry } from '../support/test-registry.ts';
import { ensureTestImage } from '../support/test-image.ts';

// A real pull from a real registry (Debian's docker-registry) inside the engine's network namespace.
let engine: PrivateEngine;
let runtime: DockerodeRuntime;
let registry: TestRegistry;

beforeAll(async () => {
  await ensureRegistryBinary();
  engine = await startPrivateEngine(`rt-pull-${process.pid}`);
  const image = await ensureTestImage(engine.dockerHost);
  runtime = createDockerRuntime(engine.dockerHost);
  registry = await startTestRegistry(engine);
  await registry.publish(image, 'constellation-test/pulled:1');
});

afterAll(async () => {
  await registry?.stop();
  await engine?.stop();
});

describe('dockerode runtime: ensureImage from a registry', () => {
  it('pulls an image the engine does not have', async () => {
    const ref = `${registry.address}/constellation-test/pulled:1`;
    const raw = new Dockerode({ socketPath: engine.socketPath });
    await expect(raw.getImage(ref).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await runtime.ensureImage(ref);
    const pulled = await raw.getImage(ref).inspect();
    expect(pulled.RepoTags).toContain(ref);
    // And the pulled image runs.
    const id = await runtime.create({
      name: 'pulled-run',
      image: ref,
      command: ['cat', '/www/index.html'],
      env: {},
      labels: {},
      ports: [],
      mounts: [],
      capAdd: [],
      capDrop: [],
      devices: [],
    });
    await runtime.start(id);
    const exited = await eventually(async () => {
      const state = await runtime.inspect(id);
      return state?.state === 'exited' ? state : undefined;
    }, { timeoutMs: 10_000, what: 'the pulled container to exit' });
    expect(exited.exitCode).toBe(0);
    await runtime.remove(id);
  });

  it('reports an image the registry does not have as image_not_found from pull', async () => {
    await expect(runtime.ensureImage(`${registry.address}/constellation-test/absent:1`)).rejects.toMatchObject({
      code: 'image_not_found',
      operation: 'pull',
    });
  });
});
