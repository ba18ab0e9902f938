import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ContainerInfo, ServiceInfo } from '../../../src/api/api-deps.ts';
import { ExitCode } from '../../../src/cli/exit-codes.ts';
import { formatElapsed } from '../../../src/cli/render/elapsed.ts';
import { cli, startTestApi, tempProject } from './cli-harness.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function api() {
  const started = await startTestApi();
  cleanups.push(() => started.app.close());
  return started;
}

async function deployShop(url: string): Promise<void> {
  const made = await tempProject({ 'compose.yaml': 'services:\n  web:\n    image: busybox:1\n    deploy:\n      replicas: 2\n  db:\n    image: busybox:1\n' });
  cleanups.push(made.cleanup);
  expect((await cli(['deploy', '--file', join(made.dir, 'compose.yaml'), '--stack', 'shop', '--detach', '--api', url])).code).toBe(ExitCode.ok);
}

function replica(service: string, slot: number, state: ContainerInfo['state']): ContainerInfo {
  return { name: `shop_${service}_${slot}`, stack: 'shop', service, slot, image: 'busybox:1', specHash: 'h', state, health: 'none', restarts: 0 };
}

describe('removal progress and elapsed time', () => {
  it('scale-down: deploy shows the replicas being removed per service, and ends with the time taken', async () => {
    const { deps, url } = await api();
    // The daemon's view on successive polls: 2 wanted of 4, two stop and go one after the other.
    const removing = [2, 2, 1, 0];
    let poll = 0;
    deps.agent.services = (): ServiceInfo[] => {
      const left = removing[Math.min(poll, removing.length - 1)]!;
      poll += 1;
      return [{ stack: 'shop', service: 'web', image: 'busybox:1', desiredReplicas: 2, running: 2, healthy: 0, healthcheck: false, removing: left, converged: left === 0, failed: false }];
    };
    const made = await tempProject({ 'compose.yaml': 'services:\n  web:\n    image: busybox:1\n    deploy:\n      replicas: 2\n' });
    cleanups.push(made.cleanup);
    const run = await cli(['deploy', '--file', join(made.dir, 'compose.yaml'), '--stack', 'shop', '--api', url]);
    expect(run.code).toBe(ExitCode.ok);
    expect(run.stdout.split('\n').slice(1)).toEqual([
      'web: 2/2 running, 2 removing (converging)',
      'web: 2/2 running, 1 removing (converging)',
      'web: 2/2 running (converged)',
      expect.stringMatching(/^stack shop converged in \d+\.\d s: web 2\/2$/),
      '',
    ]);
  });

  it('rm: one line per change per service while the stops wait out their grace period, then the time taken', async () => {
    const { deps, url } = await api();
    await deployShop(url);
    const listings: ContainerInfo[][] = [
      [replica('db', 1, 'running'), replica('web', 1, 'running'), replica('web', 2, 'running')],
      [replica('db', 1, 'stopping'), replica('web', 1, 'stopping'), replica('web', 2, 'stopping')],
      [replica('db', 1, 'stopping'), replica('web', 2, 'removing')],
      [replica('db', 1, 'removing')],
      [],
    ];
    let poll = 0;
    deps.agent.containers = () => listings[Math.min(poll++, listings.length - 1)]!;
    const run = await cli(['rm', 'shop', '--api', url]);
    expect(run.code).toBe(ExitCode.ok);
    expect(run.stdout.split('\n')).toEqual([
      'stack shop removal accepted',
      'db: 1 of 1 left: 1 running (removing)',
      'web: 2 of 2 left: 2 running (removing)',
      'db: 1 of 1 left: 1 stopping (removing)',
      'web: 2 of 2 left: 2 stopping (removing)',
      'web: 1 of 2 left: 1 removing (removing)',
      'db: 1 of 1 left: 1 removing (removing)',
      'web: all 2 removed (removed)',
      'db: all 1 removed (removed)',
      expect.stringMatching(/^stack shop removed in \d+\.\d s$/),
      '',
    ]);
  });

  it('rm on a terminal redraws the services in place', async () => {
    const { deps, url } = await api();
    await deployShop(url);
    const listings: ContainerInfo[][] = [[replica('web', 1, 'stopping')], []];
    let poll = 0;
    deps.agent.containers = () => listings[Math.min(poll++, listings.length - 1)]!;
    const run = await cli(['rm', 'shop', '--api', url], {}, { tty: true });
    expect(run.code).toBe(ExitCode.ok);
    expect(run.stdout).toContain('\u001b[1A\u001b[2K');
    expect(run.stdout).toContain('web  all 1 removed');
  });

  it('formats elapsed time for humans', () => {
    expect([formatElapsed(840), formatElapsed(31_600), formatElapsed(125_000)]).toEqual(['0.8 s', '31.6 s', '2 min 5 s']);
  });
});
