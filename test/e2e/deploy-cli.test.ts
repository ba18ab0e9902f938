import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runConstellation } from './support/cli-process.ts';
import { DaemonEnvironment } from './support/daemon-environment.ts';
import type { DaemonProcess } from './support/daemon-process.ts';
import { engineContainers, removeStackContainers, stackContainers } from './support/engine-inspect.ts';

// The user's path end to end: a real daemon process on the private engine, driven by the real CLI.
const dockerHost = `unix://${inject('dockerSocket')}`;
const image = inject('testImage');
const stacks = ['e2e-web', 'e2e-bad', 'e2e-dry', 'e2e-ghost'];

function webCompose(replicas: number): string {
  return `services:
  web:
    image: ${image}
    command: ["httpd", "-f", "-p", "80", "-h", "/www"]
    stop_grace_period: 1s
    deploy:
      replicas: ${replicas}
  worker:
    image: ${image}
    command: ["sleep", "3600"]
    stop_grace_period: 1s
`;
}

let env: DaemonEnvironment;
let daemon: DaemonProcess;

beforeAll(async () => {
  await removeStackContainers(dockerHost, stacks);
  env = await DaemonEnvironment.create(dockerHost);
  daemon = await env.start();
});

afterAll(async () => {
  await env?.dispose();
  await removeStackContainers(dockerHost, stacks);
});

async function getJson<T>(path: string): Promise<{ status: number; body: T }> {
  const response = await env.fetch(path);
  return { status: response.status, body: (await response.json()) as T };
}

describe('daemon + CLI on a real engine', () => {
  it('logs "api listening" with its address and answers /healthz', async () => {
    const line = await daemon.waitForLog((l) => l.msg === 'api listening', 1000);
    expect(line.address).toBe(env.url);
    const health = await getJson<{ status: string; nodeId: string }>('/healthz');
    expect(health.body).toMatchObject({ status: 'ok', nodeId: 'e2e-node' });
  });

  it('deploy --file waits until every replica runs, and exits 0', async () => {
    const file = await env.writeCompose('web.yaml', webCompose(3));
    const run = await runConstellation(['deploy', '--file', file, '--stack', 'e2e-web', '--config', env.configFile]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/stack e2e-web converged in \d+\.\d s: web 3\/3, worker 1\/1\n$/);

    const containers = await getJson<{ name: string; state: string; containerId?: string }[]>('/v1/containers?stack=e2e-web');
    expect(containers.body.map((c) => [c.name, c.state])).toEqual([
      ['e2e-web_web_1', 'running'], ['e2e-web_web_2', 'running'], ['e2e-web_web_3', 'running'], ['e2e-web_worker_1', 'running'],
    ]);
    // The engine agrees: four running containers, with the ids the API reports.
    const inEngine = await stackContainers(dockerHost, 'e2e-web');
    expect(inEngine.map((c) => [c.name, c.running])).toEqual(containers.body.map((c) => [c.name, true]));
    expect(inEngine.map((c) => c.id).sort()).toEqual(containers.body.map((c) => c.containerId).sort());

    const ps = await runConstellation(['ps', '--stack', 'e2e-web', '--config', env.configFile]);
    expect(ps.code).toBe(0);
    expect(ps.stdout).toMatch(/e2e-web_web_1\s+running/);
    const services = await runConstellation(['services', '--config', env.configFile]);
    expect(services.code).toBe(0);
    expect(services.stdout).toMatch(/e2e-web_web\s+3\/3/);
  });

  it('scales down on redeploy and converges', async () => {
    const file = await env.writeCompose('web.yaml', webCompose(2));
    const run = await runConstellation(['deploy', '--file', file, '--stack', 'e2e-web', '--config', env.configFile]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('stack e2e-web accepted (version 2');
    expect(run.stdout).toMatch(/stack e2e-web converged in \d+\.\d s: web 2\/2, worker 1\/1\n$/);
    // Converged means exactly the desired replicas and nothing else: the third is already gone.
    expect((await stackContainers(dockerHost, 'e2e-web')).map((c) => c.name)).toEqual(['e2e-web_web_1', 'e2e-web_web_2', 'e2e-web_worker_1']);
  });

  it('a rejected deploy exits 2, names the problem, and creates nothing', async () => {
    const before = await getJson<unknown[]>('/v1/stacks');
    const containersBefore = (await engineContainers(dockerHost)).map((c) => c.id);
    const file = await env.writeCompose('bad.yaml', `services:\n  web:\n    image: ${image}\n    deploy:\n      replicas: "many"\n`);
    const run = await runConstellation(['deploy', '--file', file, '--stack', 'e2e-bad', '--config', env.configFile]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: compose file \S*bad\.yaml rejected \(1 error\); nothing was deployed \[invalid_compose\]\n/);
    expect(run.stderr).toMatch(/bad\.yaml:5 services\.web\.deploy\.replicas/);

    const raw = await env.fetch('/v1/deploy?stack=e2e-bad', { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: 'services:\n  web:\n    image: [oops\n' });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { error: { code: string } }).error.code).toBe('invalid_compose');

    expect((await getJson<unknown[]>('/v1/stacks')).body).toEqual(before.body);
    expect(await stackContainers(dockerHost, 'e2e-bad')).toEqual([]);
    expect((await engineContainers(dockerHost)).map((c) => c.id)).toEqual(containersBefore);
  });

  it('--dry-run prints the normalized services and warnings and touches nothing', async () => {
    const stacksBefore = await getJson<unknown[]>('/v1/stacks');
    const file = await env.writeCompose('dry.yaml', `services:\n  app:\n    image: ${image}\n    build: .\n    deploy:\n      replicas: 2\n`);
    const run = await runConstellation(['deploy', '--dry-run', '--file', file, '--stack', 'e2e-dry', '--config', env.configFile]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('nothing was deployed');
    expect(run.stdout).toContain(`image: ${image}`);
    expect(run.stdout).toContain('replicas: 2');
    // Warnings on stderr, as a real deploy prints them.
    expect(run.stderr).toMatch(/^\S*dry\.yaml:4 services\.app\.build \(app\): warning: "build" is ignored/);
    expect((await getJson<unknown[]>('/v1/stacks')).body).toEqual(stacksBefore.body);
    expect(await stackContainers(dockerHost, 'e2e-dry')).toEqual([]);
  });

  it('exposes the metrics and the OpenAPI document', async () => {
    const metrics = await (await env.fetch('/metrics')).text();
    for (const name of ['constellation_containers', 'constellation_reconcile_duration_seconds_bucket', 'constellation_engine_errors_total', 'process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds']) {
      expect(metrics, name).toContain(name);
    }
    expect(metrics).toMatch(/constellation_containers\{state="running"\} 3/);
    expect(metrics).toMatch(/constellation_reconcile_duration_seconds_count [1-9]/);
    const doc = await getJson<{ openapi: string; paths: Record<string, unknown> }>('/docs/json');
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v1/deploy', '/v1/stacks', '/v1/containers']));
    const ui = await env.fetch('/docs');
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger-ui');
  });

  it('an image that cannot be pulled: the pull error itself, retried under the default policy, failed under restart: "no"', async () => {
    // Under the default policy the pull is retried with back-off: the deploy keeps waiting and
    // says why and when, until its --timeout.
    const retried = await env.writeCompose('ghost.yaml', `services:\n  ghost:\n    image: constellation-test/does-not-exist:1\n`);
    const waiting = await runConstellation(['deploy', '--file', retried, '--stack', 'e2e-ghost', '--timeout', '4', '--config', env.configFile]);
    expect(waiting.code).toBe(1);
    expect(waiting.stdout).toMatch(/ghost: 0\/1 running — image pull failed: docker pull constellation-test\/does-not-exist:1: .+; restart 1 in 5\.0 s \(at \d\d:\d\d:\d\d UTC\) \(converging\)/);
    expect(waiting.stdout).not.toContain('No such image');
    expect(waiting.stderr).toContain('did not converge within 4 s');
    expect((await runConstellation(['rm', 'e2e-ghost', '--config', env.configFile])).code).toBe(0);

    // With restart: "no" nothing retries it: the deploy fails at once, naming the pull error.
    const once = await env.writeCompose('ghost-once.yaml', `services:\n  ghost:\n    image: constellation-test/does-not-exist:1\n    restart: "no"\n`);
    const run = await runConstellation(['deploy', '--file', once, '--stack', 'e2e-ghost', '--timeout', '60', '--config', env.configFile]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: stack e2e-ghost failed after \d+\.\d s: ghost \(e2e-ghost_ghost_1: image pull failed: docker pull constellation-test\/does-not-exist:1: .+; its restart policy does not retry it\)/);
    expect(run.stderr).not.toContain('No such image');
    const metrics = await (await env.fetch('/metrics')).text();
    expect(metrics).toMatch(/constellation_engine_errors_total\{operation="pull"\} [1-9]/);
    expect((await runConstellation(['rm', 'e2e-ghost', '--config', env.configFile])).code).toBe(0);
  });

  it('rm removes the stack and its containers', async () => {
    const run = await runConstellation(['rm', 'e2e-web', '--config', env.configFile]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    // Per service what is left while the stops wait out their grace period (the worker's
    // `sleep` ignores SIGTERM, so it is there for a second at least), then the time it took.
    expect(run.stdout).toMatch(/^worker: 1 of 1 left: 1 \w+ \(removing\)$/m);
    expect(run.stdout).toMatch(/^web: all 2 removed \(removed\)$/m);
    expect(run.stdout).toMatch(/^worker: all 1 removed \(removed\)$/m);
    expect(run.stdout).toMatch(/stack e2e-web removed in \d+\.\d s\n$/);
    expect(await stackContainers(dockerHost, 'e2e-web')).toEqual([]);
    expect((await getJson<unknown[]>('/v1/stacks')).body).toEqual([]);
    const again = await runConstellation(['rm', 'e2e-web', '--config', env.configFile]);
    expect(again.code).toBe(5);
  });

  it('SIGTERM stops the daemon cleanly (exit 0)', async () => {
    const exit = await daemon.kill('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(daemon.lines.some((l) => l.msg === 'daemon stopped; containers keep running')).toBe(true);
    const down = await runConstellation(['ps', '--config', env.configFile]);
    expect(down.code).toBe(3);
  });
});
