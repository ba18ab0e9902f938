import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import Dockerode from 'dockerode';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createDockerRuntime } from '../../src/adapters/docker/dockerode-runtime.ts';
import { eventually } from '../support/eventually.ts';
import { TEST_IMAGE_INDEX_HTML } from '../support/test-image.ts';
import { RuntimeError, type CreateContainerRequest } from '../../src/seams/container-runtime.ts';

const socketPath = inject('dockerSocket');
const image = inject('testImage');
const runtime = createDockerRuntime(`unix://${socketPath}`);
const engine = new Dockerode({ socketPath });

const testLabel = 'constellation-test.case';
const cases: string[] = [];

function request(overrides: Partial<CreateContainerRequest> = {}): CreateContainerRequest {
  const caseId = randomUUID();
  cases.push(caseId);
  return {
    name: `rt-${caseId.slice(0, 12)}`,
    image,
    command: ['httpd', '-f', '-p', '80', '-h', '/www'],
    env: {},
    labels: { [testLabel]: caseId },
    ports: [],
    mounts: [],
    capAdd: [],
    capDrop: [],
    devices: [],
    ...overrides,
  };
}

afterEach(async () => {
  for (const caseId of cases.splice(0)) {
    for (const container of await runtime.list({ [testLabel]: caseId })) await runtime.remove(container.id);
  }
});

describe('dockerode runtime: container lifecycle', () => {
  it('creates, starts, lists by label, inspects, stops and removes a container', async () => {
    const req = request({ labels: { [testLabel]: '', 'constellation.stack': 'shop' } });
    const caseId = randomUUID();
    cases.push(caseId);
    const labels = { ...req.labels, [testLabel]: caseId };
    const id = await runtime.create({ ...req, labels });

    const created = await runtime.inspect(id);
    expect(created).toMatchObject({ id, name: req.name, image, state: 'created', health: 'none', labels });
    expect(created?.exitCode).toBeUndefined();
    expect(created?.startedAtMs).toBeUndefined();

    await runtime.start(id);
    const running = await runtime.inspect(id);
    expect(running?.state).toBe('running');
    expect(running?.startedAtMs).toBeGreaterThanOrEqual(running?.createdAtMs ?? Infinity);

    const listed = await runtime.list({ [testLabel]: caseId, 'constellation.stack': 'shop' });
    expect(listed.map((c) => ({ id: c.id, name: c.name, state: c.state }))).toEqual([{ id, name: req.name, state: 'running' }]);
    expect(await runtime.list({ [testLabel]: caseId, 'constellation.stack': 'other' })).toEqual([]);

    await runtime.stop(id, 1_000);
    const stopped = await runtime.inspect(id);
    expect(stopped?.state).toBe('exited');
    // httpd as PID 1 ignores SIGTERM, so the engine kills it when the grace period ends.
    expect(stopped?.exitCode).toBe(137);
    expect((await runtime.list({ [testLabel]: caseId }))[0]).toMatchObject({ state: 'exited', exitCode: 137 });

    await runtime.remove(id);
    expect(await runtime.inspect(id)).toBeUndefined();
    expect(await runtime.list({ [testLabel]: caseId })).toEqual([]);
  });

  it('repeats start, stop and remove without error (idempotent where the engine says so)', async () => {
    const id = await runtime.create(request());
    await runtime.start(id);
    await runtime.start(id); // already started
    await runtime.stop(id, 0);
    await runtime.stop(id, 0); // already stopped
    await runtime.remove(id);
    await runtime.remove(id); // already gone
    await runtime.stop(id, 0); // stopping a missing container: nothing runs, as asked
    expect(await runtime.inspect(id)).toBeUndefined();
  });

  it('removes a running container (forced)', async () => {
    const id = await runtime.create(request());
    await runtime.start(id);
    await runtime.remove(id);
    expect(await runtime.inspect(id)).toBeUndefined();
  });

  it('maps every field of the create request onto the engine', async () => {
    const req = request({
      entrypoint: ['/bin/sh', '-c'],
      command: ['exec httpd -f -p 80 -h /www'],
      env: { GREETING: 'hello world', EMPTY: '' },
      ports: [
        { target: 80, published: 18080, protocol: 'tcp', hostIp: '127.0.0.1' },
        { target: 53, protocol: 'udp' },
      ],
      mounts: [
        { type: 'tmpfs', target: '/scratch', readOnly: false },
        { type: 'volume', target: '/data', readOnly: false },
      ],
      healthcheck: { test: ['CMD', 'true'], intervalMs: 1500, timeoutMs: 700, retries: 4, startPeriodMs: 2000, startIntervalMs: 500 },
      networkMode: 'bridge',
      capAdd: ['NET_ADMIN'],
      capDrop: ['MKNOD'],
      devices: [{ hostPath: '/dev/null', containerPath: '/dev/nothing', permissions: 'rw' }],
      user: '65534:65534',
      workingDir: '/www',
      stopGracePeriodMs: 2500,
      stopSignal: 'SIGINT',
      nanoCpus: 500_000_000,
      memoryBytes: 64 * 1024 * 1024,
      pidsLimit: 50,
    });
    const id = await runtime.create(req);
    const raw = await engine.getContainer(id).inspect();
    expect(raw.Config.Entrypoint).toEqual(['/bin/sh', '-c']);
    expect(raw.Config.Cmd).toEqual(['exec httpd -f -p 80 -h /www']);
    expect(raw.Config.Env).toEqual(expect.arrayContaining(['GREETING=hello world', 'EMPTY=']));
    expect(Object.keys(raw.Config.ExposedPorts ?? {}).sort()).toEqual(['53/udp', '80/tcp']);
    expect(raw.HostConfig.PortBindings).toEqual({
      '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }],
      '53/udp': [{ HostIp: '', HostPort: '' }],
    });
    expect(raw.HostConfig.Mounts).toEqual([
      expect.objectContaining({ Type: 'tmpfs', Target: '/scratch' }),
      expect.objectContaining({ Type: 'volume', Target: '/data' }),
    ]);
    // StartInterval exists from engine API 1.44 (Docker 25); older engines drop it (Debian 12 ships 20.10).
    const [apiMajor = 0, apiMinor = 0] = (await engine.version()).ApiVersion.split('.').map(Number);
    const knowsStartInterval = apiMajor > 1 || (apiMajor === 1 && apiMinor >= 44);
    expect(raw.Config.Healthcheck).toEqual({
      Test: ['CMD', 'true'], Interval: 1.5e9, Timeout: 7e8, Retries: 4, StartPeriod: 2e9, ...(knowsStartInterval ? { StartInterval: 5e8 } : {}),
    });
    expect(raw.HostConfig.NetworkMode).toBe('bridge');
    expect(raw.HostConfig.CapAdd).toEqual(['NET_ADMIN']);
    expect(raw.HostConfig.CapDrop).toEqual(['MKNOD']);
    expect(raw.HostConfig.Devices).toEqual([{ PathOnHost: '/dev/null', PathInContainer: '/dev/nothing', CgroupPermissions: 'rw' }]);
    expect(raw.Config.User).toBe('65534:65534');
    expect(raw.Config.WorkingDir).toBe('/www');
    expect((raw.Config as { StopTimeout?: number }).StopTimeout).toBe(3);
    expect((raw.Config as { StopSignal?: string }).StopSignal).toBe('SIGINT');
    expect(raw.HostConfig.NanoCpus).toBe(500_000_000);
    expect(raw.HostConfig.Memory).toBe(64 * 1024 * 1024);
    expect(raw.HostConfig.PidsLimit).toBe(50);
    expect(raw.HostConfig.RestartPolicy?.Name).toBe('no');
    expect(raw.Config.Labels).toEqual(req.labels);

    // The mapped container really runs with those settings.
    await runtime.start(id);
    const { stdout } = await exec(id, ['sh', '-c', 'id -u; pwd; echo "$GREETING"; ls -d /scratch; ls -d /data']);
    expect(stdout.split('\n').filter(Boolean)).toEqual(['65534', '/www', 'hello world', '/scratch', '/data']);
  });

  it('reports a missing container as not_found with the operation named', async () => {
    const missing = `missing-${randomUUID()}`;
    expect(await runtime.inspect(missing)).toBeUndefined();
    const failure = await runtime.start(missing).then(() => undefined, (error: unknown) => error);
    expect(failure).toBeInstanceOf(RuntimeError);
    expect(failure).toMatchObject({ code: 'not_found', operation: 'start' });
    expect((failure as Error).message).toContain(missing);
  });

  it('reports a missing image on create as image_not_found, and a taken name as conflict', async () => {
    const noImage = await runtime.create(request({ image: 'constellation-test/absent:1' })).then(() => undefined, (error: unknown) => error);
    expect(noImage).toMatchObject({ code: 'image_not_found', operation: 'create' });

    const req = request();
    await runtime.create(req);
    const taken = await runtime.create({ ...req }).then(() => undefined, (error: unknown) => error);
    expect(taken).toMatchObject({ code: 'conflict', operation: 'create' });
  });

  it('reports an invalid request as invalid_request', async () => {
    const failure = await runtime
      .create(request({ mounts: [{ type: 'bind', source: 'relative/path', target: '/x', readOnly: false }] }))
      .then(() => undefined, (error: unknown) => error);
    expect(failure).toMatchObject({ code: 'invalid_request', operation: 'create' });
  });

  it('reports an unreachable engine as engine_unavailable', async () => {
    const nowhere = createDockerRuntime(`unix://${socketPath}.absent`);
    await expect(nowhere.ping()).rejects.toMatchObject({ code: 'engine_unavailable', operation: 'ping' });
    await expect(nowhere.list({})).rejects.toMatchObject({ code: 'engine_unavailable', operation: 'list' });
  });

  it('runs the test image: httpd serves /www/index.html to another container', async () => {
    const server = await runtime.create(request());
    await runtime.start(server);
    const address = (await engine.getContainer(server).inspect()).NetworkSettings.Networks.bridge?.IPAddress;
    expect(address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const client = await runtime.create(request({ command: ['sleep', '600'] }));
    await runtime.start(client);
    const page = await eventually(async () => (await exec(client, ['wget', '-q', '-O', '-', `http://${address}/`])).stdout, {
      timeoutMs: 10_000,
      what: `httpd on ${address} to serve /www/index.html`,
    });
    expect(page).toBe(TEST_IMAGE_INDEX_HTML);
  });

  it('ensureImage on a present image returns without pulling', async () => {
    const sinceSeconds = Math.floor(Date.now() / 1000) - 1;
    // No registry is reachable from the engine, so a pull attempt would fail outright.
    await runtime.ensureImage(image);
    const untilSeconds = Math.ceil(Date.now() / 1000) + 1;
    const stream = (await engine.getEvents({ since: sinceSeconds, until: untilSeconds, filters: { type: ['image'] } })) as unknown as NodeJS.ReadableStream;
    let text = '';
    for await (const chunk of stream) text += chunk.toString();
    const actions = text.split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { Action: string }).Action);
    expect(actions).not.toContain('pull');
  });

  it('ensureImage on an image no registry serves fails with a RuntimeError from pull', async () => {
    // A registry on a closed local port: the pull fails fast without touching the internet.
    const failure = await runtime.ensureImage('127.0.0.1:9/constellation-test/nothing:1').then(() => undefined, (error: unknown) => error);
    expect(failure).toBeInstanceOf(RuntimeError);
    expect((failure as RuntimeError).operation).toBe('pull');
    expect(['image_not_found', 'engine_error']).toContain((failure as RuntimeError).code);
  });
});

async function exec(id: string, cmd: string[]): Promise<{ stdout: string }> {
  const execution = await engine.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await execution.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  const out = new PassThrough();
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  engine.modem.demuxStream(stream, out, out);
  await new Promise((resolve) => stream.on('end', resolve));
  return { stdout: Buffer.concat(chunks).toString('utf8') };
}
