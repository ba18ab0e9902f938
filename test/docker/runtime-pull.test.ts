import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerRuntime, type DockerodeRuntime } from '../../src/adapters/docker/dockerode-runtime.ts';
import { docker, startPrivateEngine, type PrivateEngine } from '../support/docker-engine.ts';
import { eventually } from '../support/eventually.ts';
import { runCommand } from '../support/run-command.ts';
import { ensureBinaries, findExecutable } from '../support/system-packages.ts';
import { ensureTestImage } from '../support/test-image.ts';

// A real pull from a real registry (Debian's docker-registry), served inside the engine's network
// namespace so that 127.0.0.1 means the same place to the registry and to the engine (which
// treats 127.0.0.0/8 registries as plain-HTTP "insecure" ones by default).
const registryPort = 5000;
const registry = `127.0.0.1:${registryPort}`;

let engine: PrivateEngine;
let runtime: DockerodeRuntime;
let registryProcess: ChildProcess | undefined;
let registryDir: string;

beforeAll(async () => {
  await ensureBinaries([{ binary: 'docker-registry', debianPackage: 'docker-registry' }]);
  engine = await startPrivateEngine(`rt-pull-${process.pid}`);
  const image = await ensureTestImage(engine.dockerHost);
  runtime = createDockerRuntime(engine.dockerHost);

  registryDir = mkdtempSync(join(tmpdir(), 'cst-registry-'));
  const config = join(registryDir, 'config.yml');
  writeFileSync(
    config,
    ['version: 0.1', 'log:', '  level: warn', 'storage:', '  filesystem:', `    rootdirectory: ${join(registryDir, 'data')}`, 'http:', `  addr: ${registry}`, ''].join('\n'),
  );
  // The registry logs every 404 it serves (the push probes for blobs first); keep that out of the test output.
  const log = openSync(join(registryDir, 'registry.log'), 'a');
  registryProcess = spawn('nsenter', [`--net=${engine.netnsPath}`, findExecutable('docker-registry') ?? 'docker-registry', 'serve', config], {
    stdio: ['ignore', log, log],
    env: { ...process.env, REGISTRY_HTTP_SECRET: 'constellation-test' },
  });
  closeSync(log);
  const busybox = findExecutable('busybox') ?? 'busybox';
  await eventually(() => runCommand('nsenter', [`--net=${engine.netnsPath}`, busybox, 'wget', '-q', '-O', '-', `http://${registry}/v2/`]), {
    timeoutMs: 20_000,
    what: `the registry to answer on ${registry} inside ${engine.netnsName} (log: ${join(registryDir, 'registry.log')})`,
  });

  await docker(engine.dockerHost, ['tag', image, `${registry}/constellation-test/pulled:1`]);
  await docker(engine.dockerHost, ['push', `${registry}/constellation-test/pulled:1`]);
  await docker(engine.dockerHost, ['rmi', `${registry}/constellation-test/pulled:1`]);
});

afterAll(async () => {
  if (registryProcess !== undefined && registryProcess.exitCode === null) {
    const exited = new Promise((resolve) => registryProcess?.once('exit', resolve));
    registryProcess.kill('SIGKILL');
    await exited;
  }
  await engine?.stop();
  if (registryDir !== undefined) rmSync(registryDir, { recursive: true, force: true });
});

describe('dockerode runtime: ensureImage from a registry', () => {
  it('pulls an image the engine does not have', async () => {
    const ref = `${registry}/constellation-test/pulled:1`;
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
    await expect(runtime.ensureImage(`${registry}/constellation-test/absent:1`)).rejects.toMatchObject({
      code: 'image_not_found',
      operation: 'pull',
    });
  });
});
