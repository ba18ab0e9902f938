import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runConstellation } from './support/cli-process.ts';
import { DaemonEnvironment } from './support/daemon-environment.ts';
import { removeStackContainers } from './support/engine-inspect.ts';

// Issue 8 through the user's path: a real daemon on the private engine, the real CLI and API.
const dockerHost = `unix://${inject('dockerSocket')}`;
const image = inject('testImage');
const stacks = ['e2e-roll'];

/** httpd with a healthcheck; `port` 81 is one nothing answers on (never healthy). */
function compose(version: string, port = 80): string {
  return `services:
  web:
    image: ${image}
    command: ["sh", "-c", "echo ${version} > /tmp/index.html; trap 'exit 0' TERM; httpd -f -p 80 -h /tmp & wait"]
    stop_grace_period: 1s
    healthcheck:
      test: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:${port}/ || exit 1"]
      interval: 500ms
      timeout: 2s
      retries: 3
    deploy:
      replicas: 2
      update_config:
        failure_action: rollback
        monitor: 1500ms
      rollback_config:
        monitor: 1500ms
`;
}

let env: DaemonEnvironment;

beforeAll(async () => {
  await removeStackContainers(dockerHost, stacks);
  env = await DaemonEnvironment.create(dockerHost);
  await env.start();
});

afterAll(async () => {
  await env?.dispose();
  await removeStackContainers(dockerHost, stacks);
});

const cli = (...args: string[]) => runConstellation([...args, '--config', env.configFile]);

describe('rolling updates from the CLI and API', () => {
  it('deploy of a changed file shows the rollout and exits 1 with the reason when it rolled back; history and rollout status say so', async () => {
    const first = await cli('deploy', '--file', await env.writeCompose('v1.yaml', compose('1')), '--stack', 'e2e-roll');
    expect(first.code).toBe(0);
    const bad = await cli('deploy', '--file', await env.writeCompose('v2.yaml', compose('2', 81)), '--stack', 'e2e-roll', '--timeout', '90');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/web: rollout (batch 1\/2 starting|rolling back)/);
    expect(bad.stderr).toMatch(/^error: stack e2e-roll rolled back after \d+\.\d s: the new replica of e2e-roll\/web slot 1 failed: e2e-roll_web_1 is unhealthy; it runs version 1's spec again \(as version 3\)\n$/);

    const status = await cli('rollout', 'status', 'e2e-roll');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^stack e2e-roll: update to version 2 \(from 1\), rolled-back/);
    expect(status.stdout).toMatch(/web: rolled-back: 0\/2 updated, 0 healthy, failed slot\(s\) 1 — .* \(restored as version 3\)/);

    const history = await cli('history', 'e2e-roll', '--json');
    const entries = JSON.parse(history.stdout) as { version: number; kind: string; restores?: number; current: boolean }[];
    expect(entries.map((entry) => [entry.version, entry.kind, entry.restores ?? null, entry.current])).toEqual([[3, 'rollback', 1, true], [2, 'deploy', null, false], [1, 'deploy', null, false]]);
  });

  it('rollback by hand goes to the previous stable version and rolls out; the API answers the same', async () => {
    const good = await cli('deploy', '--file', await env.writeCompose('v4.yaml', compose('4')), '--stack', 'e2e-roll');
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/stack e2e-roll converged/);
    const rollback = await cli('rollback', 'e2e-roll');
    expect(rollback.code).toBe(0);
    // Version 3 (v1's spec, restored) is the newest stable version before 4.
    expect(rollback.stdout).toMatch(/^stack e2e-roll rolling back to version 3 as version 5;/);
    let state = '';
    for (let attempt = 0; attempt < 120 && state !== 'completed'; attempt += 1) {
      const response = await env.fetch('/v1/stacks/e2e-roll/rollout');
      const body = (await response.json()) as { rollout?: { id: number; kind: string; state: string } };
      expect(body.rollout).toMatchObject({ id: 5, kind: 'rollback' });
      state = body.rollout!.state;
      if (state !== 'completed') await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(state).toBe('completed');
    const unknown = await cli('rollback', 'e2e-nope');
    expect(unknown.code).toBe(5);
    const noStable = await env.fetch('/v1/stacks/e2e-roll/rollback', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ toVersion: 99 }) });
    expect(noStable.status).toBe(404);
    expect(((await noStable.json()) as { error: { code: string } }).error.code).toBe('version_not_found');
  });
});
