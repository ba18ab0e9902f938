import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServiceInfo } from '../../../src/api/api-deps.ts';
import { ExitCode } from '../../../src/cli/exit-codes.ts';
import { cli, closedPortUrl, startTestApi, tempProject } from './cli-harness.ts';

const compose = `services:
  web:
    image: "busybox:\${TAG:-1}"
    deploy:
      replicas: 2
  db:
    image: busybox:1
`;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function project(files: Record<string, string>) {
  const made = await tempProject(files);
  cleanups.push(made.cleanup);
  return made.dir;
}

async function api(...args: Parameters<typeof startTestApi>) {
  const started = await startTestApi(...args);
  cleanups.push(() => started.app.close());
  return started;
}

describe('constellation CLI', () => {
  it('--help works everywhere and documents exit codes', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(ExitCode.ok);
    for (const command of ['deploy', 'ps', 'services', 'rm', 'daemon']) expect(top.stdout).toContain(command);
    expect(top.stdout).toContain('Exit codes');
    for (const command of ['deploy', 'ps', 'services', 'rm', 'daemon']) {
      const help = await cli([command, '--help']);
      expect(help.code, command).toBe(ExitCode.ok);
      expect(help.stdout).toContain(`Usage: constellation ${command}`);
    }
    expect((await cli(['deploy', '--help'])).stdout).toContain('--dry-run');
  });

  it('usage errors exit 2 with one clear line', async () => {
    const unknown = await cli(['deploy', '--file', 'x.yml', '--bogus']);
    expect(unknown.code).toBe(ExitCode.invalid);
    expect(unknown.stderr).toContain("unknown option '--bogus'");
    expect((await cli(['deploy'])).code).toBe(ExitCode.invalid);
    const typo = await cli(['depoly', '-f', 'x.yml']);
    expect(typo.code).toBe(ExitCode.invalid);
    expect(typo.stderr).toBe("error: unknown command 'depoly' (commands: daemon, deploy, ps, services, rm, rollout, history, rollback, events, inspect, node, cluster, token; see --help)\n");
    expect((await cli(['rm'])).code).toBe(ExitCode.invalid);
    const missingFile = await cli(['deploy', '--file', '/nonexistent/compose.yml', '--api', await closedPortUrl()]);
    expect(missingFile.code).toBe(ExitCode.invalid);
    expect(missingFile.stderr).toMatch(/^error: cannot read compose file \/nonexistent\/compose.yml: ENOENT\n$/);
  });

  it('deploy --detach: sends the file and the variables it uses, exits 0 once accepted', async () => {
    const { deps, url } = await api();
    const dir = await project({ 'compose.yaml': compose, '.env': 'TAG=1.35\nUNUSED=1\n' });
    const run = await cli(['deploy', '--file', join(dir, 'compose.yaml'), '--stack', 'shop', '--detach', '--api', url], { TAG: '1.36', SECRET: 'x' });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(ExitCode.ok);
    expect(run.stdout).toContain('stack shop accepted (version 1');
    const stack = deps.store.current().stacks.shop!;
    // The shell overrides .env, as in docker compose; unrelated shell variables are not sent.
    expect(stack.spec.services.find((s) => s.name === 'web')!.image).toBe('busybox:1.36');
    expect(JSON.stringify(deps.store.submitted)).not.toContain('SECRET');
  });

  it('the stack name defaults to the compose name: key, else the directory name', async () => {
    const { deps, url } = await api();
    const named = await project({ 'compose.yaml': `name: named-stack\n${compose}` });
    expect((await cli(['deploy', '-f', join(named, 'compose.yaml'), '-d', '--api', url])).code).toBe(0);
    const unnamed = await project({ 'compose.yaml': compose });
    expect((await cli(['deploy', '-f', join(unnamed, 'compose.yaml'), '-d', '--api', url])).code).toBe(0);
    const dirName = unnamed.split('/').pop()!.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
    expect(Object.keys(deps.store.current().stacks).sort()).toEqual([dirName, 'named-stack'].sort());
  });

  it('deploy waits for convergence and prints progress lines (not a TTY)', async () => {
    let polls = 0;
    const { deps, url } = await api();
    // The fake agent converges on the third look, like replicas starting one after another.
    deps.agent.services = () => {
      polls += 1;
      const running = Math.min(2, Math.max(0, polls - 1));
      const specs = deps.store.current().stacks.shop?.spec.services ?? [];
      return specs.map((spec): ServiceInfo => {
        const count = Math.min(running, spec.deploy.replicas);
        return { stack: 'shop', service: spec.name, image: spec.image, desiredReplicas: spec.deploy.replicas, running: count, healthy: count, healthcheck: true, converged: count === spec.deploy.replicas, failed: false };
      });
    };
    const dir = await project({ 'compose.yaml': compose });
    const run = await cli(['deploy', '--file', join(dir, 'compose.yaml'), '--stack', 'shop', '--api', url]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(ExitCode.ok);
    expect(run.stdout).toContain('web: 0/2 running, 0 healthy (converging)');
    expect(run.stdout).toContain('web: 1/2 running');
    expect(run.stdout).toContain('web: 2/2 running, 2 healthy (converged)');
    expect(run.stdout).toMatch(/stack shop converged in \d+\.\d s: db 1\/1, web 2\/2\n$/);
  });

  it('deploy draws a live display on a TTY', async () => {
    const { deps, url } = await api();
    deps.agent.services = () => (deps.store.current().stacks.shop?.spec.services ?? []).map((spec) => ({
      stack: 'shop', service: spec.name, image: spec.image, desiredReplicas: spec.deploy.replicas, running: spec.deploy.replicas, healthy: 0, healthcheck: false, converged: true, failed: false,
    }));
    const dir = await project({ 'compose.yaml': compose });
    const run = await cli(['deploy', '--file', join(dir, 'compose.yaml'), '--stack', 'shop', '--api', url], {}, { tty: true });
    expect(run.code).toBe(ExitCode.ok);
    expect(run.stdout).toContain('\u001b[2K');
    expect(run.stdout).toContain('✔');
  });

  it('deploy exits 1 when a service fails or it does not converge in time', async () => {
    const { deps, url } = await api();
    const dir = await project({ 'compose.yaml': compose });
    deps.agent.serviceList = [{ stack: 'shop', service: 'web', image: 'busybox:1', desiredReplicas: 2, running: 0, healthy: 0, healthcheck: false, converged: false, failed: true, message: 'restart attempts exhausted' }];
    const failed = await cli(['deploy', '--file', join(dir, 'compose.yaml'), '--stack', 'shop', '--api', url]);
    expect(failed.code).toBe(ExitCode.failed);
    expect(failed.stderr).toMatch(/error: stack shop failed after \d+\.\d s: web \(restart attempts exhausted\)/);
    deps.agent.serviceList = [];
    const slow = await cli(['deploy', '--file', join(dir, 'compose.yaml'), '--stack', 'shop', '--timeout', '0.3', '--api', url]);
    expect(slow.code).toBe(ExitCode.failed);
    expect(slow.stderr).toContain('did not converge within 0.3 s');
  });

  it('Ctrl-C while waiting exits 130 and says the deploy carries on', async () => {
    const { deps, url } = await api();
    const dir = await project({ 'compose.yaml': compose });
    let interrupt: () => void = () => {};
    const interrupted = new Promise<void>((resolve) => { interrupt = resolve; });
    // Interrupt once the CLI has looked at the stack at least once.
    const originalServices = deps.agent.services.bind(deps.agent);
    deps.agent.services = () => {
      setImmediate(interrupt);
      return originalServices();
    };
    const run = await cli(['deploy', '--file', join(dir, 'compose.yaml'), '--stack', 'shop', '--api', url], {}, { interrupted });
    expect(run.code).toBe(ExitCode.interrupted);
    expect(run.stderr).toMatch(/^interrupted after \d+\.\d s: stack shop was accepted and keeps converging in the daemon\n$/);
    expect(deps.store.current().stacks.shop).toBeDefined();
  });

  it('a rejected deploy exits 2 with the diagnostics naming file and line', async () => {
    const { deps, url } = await api();
    const dir = await project({ 'compose.yaml': 'services:\n  web:\n    image: busybox\n    imagez: typo\n' });
    const run = await cli(['deploy', '--file', join(dir, 'compose.yaml'), '--stack', 'shop', '--api', url]);
    expect(run.code).toBe(ExitCode.invalid);
    expect(run.stderr).toMatch(/^error: compose file \S+compose\.yaml rejected \(1 error\); nothing was deployed \[invalid_compose\]\n/);
    expect(run.stderr).toMatch(/compose\.yaml:4 .*imagez/);
    expect(deps.store.submitted).toEqual([]);
  });

  it('--dry-run prints normalized services and warnings without contacting the daemon', async () => {
    const dir = await project({ 'compose.yaml': compose, '.env': 'TAG=1.37\n' });
    // Nothing listens there: a dry run that tried to connect would exit 3.
    const nobody = await closedPortUrl();
    const run = await cli(['deploy', '--dry-run', '--file', join(dir, 'compose.yaml'), '--stack', 'shop', '--api', nobody]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(ExitCode.ok);
    expect(run.stdout).toContain('nothing was deployed');
    expect(run.stdout).toContain('image: busybox:1.37');
    expect(run.stdout).toContain('replicas: 2');
    const bad = await project({ 'compose.yaml': 'services:\n  web:\n    image: busybox\n    ports: [80\n' });
    const rejected = await cli(['deploy', '--dry-run', '--file', join(bad, 'compose.yaml'), '--api', nobody]);
    expect(rejected.code).toBe(ExitCode.invalid);
    expect(rejected.stderr).toMatch(/compose\.yaml:\d+/);
  });

  it('unreachable daemon exits 3; wrong token exits 4; unknown stack exits 5', async () => {
    const nobody = await closedPortUrl();
    const down = await cli(['ps', '--api', nobody]);
    expect(down.code).toBe(ExitCode.unreachable);
    expect(down.stderr).toBe(`error: cannot reach the daemon at ${nobody} (ECONNREFUSED); is it running? (--api URL or CONSTELLATION_API_URL)\n`);
    const { url } = await api({ token: 'right', bind: { host: '127.0.0.1', port: 0 } });
    expect((await cli(['ps', '--api', url, '--token', 'wrong'])).code).toBe(ExitCode.unauthorized);
    expect((await cli(['ps', '--api', url])).code).toBe(ExitCode.unauthorized);
    expect((await cli(['ps', '--api', url], { CONSTELLATION_API_TOKEN: 'right' })).code).toBe(ExitCode.ok);
    // --config: the daemon's own config file gives address and token.
    const configDir = await project({ 'daemon.yml': `api:\n  host: 127.0.0.1\n  port: ${new URL(url).port}\n  token: right\n` });
    expect((await cli(['ps', '--config', join(configDir, 'daemon.yml')], { CONSTELLATION_API_TOKEN: undefined })).code).toBe(ExitCode.ok);
    const badConfig = await project({ 'daemon.yml': 'api:\n  prot: 1\n' });
    const invalid = await cli(['ps', '--config', join(badConfig, 'daemon.yml')]);
    expect(invalid.code).toBe(ExitCode.invalid);
    expect(invalid.stderr).toContain('daemon.yml:2 api.prot');
    const missing = await cli(['rm', 'nope', '--api', url, '--token', 'right']);
    expect(missing.code).toBe(ExitCode.notFound);
    expect(missing.stderr).toContain('no stack named "nope" [stack_not_found]');
  });

  it('ps --stack and services --stack exit 5 for an unknown stack, like rm; 0 with an empty table for a known one', async () => {
    const { url } = await api();
    for (const command of ['ps', 'services']) {
      const unknown = await cli([command, '--stack', 'nosuch', '--api', url]);
      expect(unknown.code, command).toBe(ExitCode.notFound);
      expect(unknown.stderr, command).toBe('error: no stack named "nosuch" [stack_not_found]\n');
      expect(unknown.stdout, command).toBe('');
    }
    const dir = await project({ 'compose.yaml': compose });
    expect((await cli(['deploy', '-f', join(dir, 'compose.yaml'), '-s', 'shop', '-d', '--api', url])).code).toBe(0);
    // Deployed, no replica yet: a known stack with nothing running is an empty table, not an error.
    const empty = await cli(['ps', '--stack', 'shop', '--api', url]);
    expect(empty.code).toBe(ExitCode.ok);
    expect(empty.stdout).toMatch(/^NAME\s+STATE/);
  });

  it('ps and services print tables; rm waits until the containers are gone', async () => {
    const { deps, url } = await api();
    const env = { CONSTELLATION_API_URL: url };
    const dir = await project({ 'compose.yaml': compose });
    expect((await cli(['deploy', '-f', join(dir, 'compose.yaml'), '-s', 'shop', '-d'], env)).code).toBe(0);
    deps.agent.containerList = [
      { name: 'shop_web_1', stack: 'shop', service: 'web', slot: 1, image: 'busybox:1', specHash: 'h', state: 'running', health: 'none', restarts: 0, containerId: 'abcdef0123456789' },
    ];
    deps.agent.serviceList = [{ stack: 'shop', service: 'web', image: 'busybox:1', desiredReplicas: 2, running: 1, healthy: 0, healthcheck: false, converged: false, failed: false }];
    const ps = await cli(['ps'], env);
    expect(ps.code).toBe(0);
    expect(ps.stdout.split('\n')[0]).toMatch(/^NAME\s+STATE\s+HEALTH\s+RESTARTS\s+IMAGE\s+CONTAINER ID/);
    expect(ps.stdout).toMatch(/shop_web_1\s+running\s+none\s+0\s+busybox:1\s+abcdef012345/);
    const services = await cli(['services'], env);
    expect(services.stdout).toMatch(/shop_web\s+1\/2\s+-\s+busybox:1\s+converging/);
    expect(services.stdout).toMatch(/shop_db\s+0\/1/);
    const json = JSON.parse((await cli(['services', '--json', '--stack', 'shop'], env)).stdout);
    expect(json).toHaveLength(2);

    // The fake agent drops its containers once the stack is gone from the store.
    deps.agent.containers = () => (deps.store.current().stacks.shop ? deps.agent.containerList : []);
    const removed = await cli(['rm', 'shop'], env);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toMatch(/stack shop removed in \d+\.\d s\n$/);
    expect(deps.store.current().stacks.shop).toBeUndefined();
  });
});
