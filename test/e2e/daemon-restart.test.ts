import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dockerCliPath } from '../support/docker-engine.ts';
import { eventually } from '../support/eventually.ts';
import { runCommand } from '../support/run-command.ts';
import { runConstellation } from './support/cli-process.ts';
import { DaemonEnvironment } from './support/daemon-environment.ts';
import { removeStackContainers, stackContainers, watchStackStarts, type EngineContainer } from './support/engine-inspect.ts';

// Workloads outlive the daemon: a daemon killed without warning and started again adopts the
// containers it finds (by label) instead of restarting them, and finishes what it was doing.
const dockerHost = `unix://${inject('dockerSocket')}`;
const image = inject('testImage');
const stacks = ['e2e-steady', 'e2e-busy', 'e2e-crashy'];
// More than the agent's 8 concurrent engine calls, so starting a few leaves most still to do.
const busyReplicas = 20;

function compose(replicas: number): string {
  return `services:
  app:
    image: ${image}
    command: ["sleep", "3600"]
    stop_grace_period: 1s
    deploy:
      replicas: ${replicas}
`;
}

let env: DaemonEnvironment;

beforeAll(async () => {
  await removeStackContainers(dockerHost, stacks);
  env = await DaemonEnvironment.create(dockerHost);
});

afterAll(async () => {
  await env?.dispose();
  await removeStackContainers(dockerHost, stacks);
});

function identity(containers: readonly EngineContainer[]) {
  return containers.map((c) => ({ name: c.name, id: c.id, startedAt: c.startedAt, restartCount: c.restartCount }));
}

describe('daemon restart', () => {
  it('SIGKILL mid-deploy, then restart: containers are adopted, none restarted, the deploy completes', async () => {
    let daemon = await env.start();
    const steadyFile = await env.writeCompose('steady.yaml', compose(3));
    const steadyRun = await runConstellation(['deploy', '--file', steadyFile, '--stack', 'e2e-steady', '--config', env.configFile]);
    expect(steadyRun.code).toBe(0);
    const steady = await stackContainers(dockerHost, 'e2e-steady');
    expect(steady.map((c) => c.running)).toEqual([true, true, true]);

    // Start a bigger deploy and kill the daemon once the engine has started its first replicas:
    // some run (they must survive untouched), engine calls for others are in flight, most do not
    // exist yet.
    const busyFile = await env.writeCompose('busy.yaml', compose(busyReplicas));
    const starts = watchStackStarts(dockerHost, 'e2e-busy');
    const accepted = await env.fetch('/v1/deploy', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ stack: 'e2e-busy', compose: await readFile(busyFile, 'utf8') }),
    });
    expect(accepted.status).toBe(202);
    try {
      await starts.started(2);
    } finally {
      starts.stop();
    }
    expect(await daemon.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    const busyAtKill = await stackContainers(dockerHost, 'e2e-busy');
    const runningAtKill = busyAtKill.filter((c) => c.running);
    // The kill really was mid-deploy, with replicas already running whose survival can be checked.
    expect(runningAtKill.length).toBeGreaterThanOrEqual(2);
    expect(runningAtKill.length).toBeLessThan(busyReplicas);

    daemon = await env.start();
    const wait = await runConstellation(['deploy', '--file', busyFile, '--stack', 'e2e-busy', '--timeout', '90', '--config', env.configFile]);
    expect(wait.code, `${wait.stdout}\n${wait.stderr}\n${daemon.describe()}`).toBe(0);
    expect(wait.stderr).toBe('');

    // The steady stack was never touched: same containers, same start times, no restarts.
    expect(identity(await stackContainers(dockerHost, 'e2e-steady'))).toEqual(identity(steady));
    // The busy stack is complete: one container per slot, all running, and every container that
    // was already running at the kill is still the same one, never restarted.
    const busy = await stackContainers(dockerHost, 'e2e-busy');
    expect(busy.map((c) => c.name)).toEqual(Array.from({ length: busyReplicas }, (_, i) => `e2e-busy_app_${i + 1}`).sort());
    expect(busy.every((c) => c.running)).toBe(true);
    const now = new Map(identity(busy).map((c) => [c.id, c]));
    let checked = 0;
    for (const before of identity(runningAtKill)) {
      expect(now.get(before.id)).toEqual(before);
      checked += 1;
    }
    expect(checked).toBe(runningAtKill.length);
    expect(checked).toBeGreaterThan(0);

    // The restarted daemon reports what it adopted.
    const api = (await (await env.fetch('/v1/containers')).json()) as { name: string; state: string; containerId: string }[];
    expect(api.filter((c) => c.state === 'running').map((c) => c.containerId).sort()).toEqual([...busy, ...steady].map((c) => c.id).sort());

    // A graceful stop leaves every workload running.
    expect(await daemon.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    expect((await stackContainers(dockerHost, 'e2e-busy')).every((c) => c.running)).toBe(true);
    expect(identity(await stackContainers(dockerHost, 'e2e-steady'))).toEqual(identity(steady));
  }, 240_000);

  it('RESTARTS survives a daemon restart that adopts the container (kept in the data dir)', async () => {
    let daemon = await env.start();
    const file = await env.writeCompose('crashy.yaml', `services:
  app:
    image: ${image}
    command: ["sleep", "3600"]
    stop_grace_period: 1s
    deploy:
      restart_policy:
        delay: 200ms
`);
    expect((await runConstellation(['deploy', '--file', file, '--stack', 'e2e-crashy', '--config', env.configFile])).code).toBe(0);
    const restartsNow = async () => ((await (await env.fetch('/v1/containers?stack=e2e-crashy')).json()) as { state: string; restarts: number; containerId: string }[])[0]!;
    // Two crashes, each restarted in place by the agent (Docker's own RestartCount stays 0).
    for (const expected of [1, 2]) {
      const [container] = await stackContainers(dockerHost, 'e2e-crashy');
      await runCommand(dockerCliPath(), ['-H', dockerHost, 'kill', container!.id]);
      await eventually(async () => {
        const now = await restartsNow();
        return now.restarts === expected && now.state === 'running' ? now : undefined;
      }, { timeoutMs: 30_000, what: `restart ${expected}` });
    }
    const before = await restartsNow();
    expect(await daemon.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    daemon = await env.start();
    const adopted = await eventually(async () => {
      const now = await restartsNow().catch(() => undefined);
      return now?.state === 'running' ? now : undefined;
    }, { timeoutMs: 30_000, what: 'the container adopted' });
    expect(adopted).toMatchObject({ containerId: before.containerId, restarts: 2 });
    const ps = await runConstellation(['ps', '--stack', 'e2e-crashy', '--config', env.configFile]);
    expect(ps.stdout).toMatch(/e2e-crashy_app_1\s+running\s+none\s+2\s/);
    expect((await runConstellation(['rm', 'e2e-crashy', '--config', env.configFile])).code).toBe(0);
    expect(await daemon.kill('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 120_000);
});
