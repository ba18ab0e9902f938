import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ExitCode } from '../../../src/cli/exit-codes.ts';
import { cli, closedPortUrl, startTestApi, tempProject } from './cli-harness.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function project(files: Record<string, string>): Promise<string> {
  const made = await tempProject(files);
  cleanups.push(made.cleanup);
  return made.dir;
}

async function deployAndDryRun(file: string) {
  const started = await startTestApi();
  cleanups.push(() => started.app.close());
  const deploy = await cli(['deploy', '--file', file, '--stack', 'shop', '--detach', '--api', started.url]);
  const dry = await cli(['deploy', '--dry-run', '--file', file, '--stack', 'shop', '--api', await closedPortUrl()]);
  return { deploy, dry, submitted: started.deps.store.submitted };
}

// One indentation mistake (line 5) that the YAML parser also reports at every later line.
const misindented = 'services:\n  web:\n    image: busybox:1\n    environment:\n   A: "1"\n    ports:\n      - "80:80"\n    labels:\n      x: y\n';

// Warnings the loader finds in another order than the lines they are on: the init-job warning
// (line 2) comes from a check that runs after the per-service ones (build ignored, line 7).
const warnsOutOfOrder = `services:
  migrate:
    image: busybox:1
  web:
    image: busybox:1
    restart: always
    build: .
    depends_on:
      migrate:
        condition: service_completed_successfully
`;

describe('compose diagnostics: deploy and --dry-run alike', () => {
  it('print the same header, the first YAML error only, and the path as the user gave it', async () => {
    const dir = await project({ 'compose.yaml': misindented });
    const given = relative(process.cwd(), join(dir, 'compose.yaml'));
    const { deploy, dry, submitted } = await deployAndDryRun(given);
    const expected = `error: compose file ${given} rejected (1 error); nothing was deployed [invalid_compose]\n`
      + `  ${given}:5: invalid YAML: All mapping items must start at the same column [COMPOSE_YAML_SYNTAX]\n`;
    expect(deploy.stderr).toBe(expected);
    expect(dry.stderr).toBe(expected);
    expect([deploy.code, dry.code]).toEqual([ExitCode.invalid, ExitCode.invalid]);
    expect(deploy.stdout + dry.stdout).toBe('');
    expect(submitted).toEqual([]);
  });

  it('never repeat the first diagnostic in the header; errors, then warnings, each by line', async () => {
    const dir = await project({ 'compose.yaml': `${warnsOutOfOrder}    deploy:\n      replicas: many\n` });
    const { deploy, dry } = await deployAndDryRun(join(dir, 'compose.yaml'));
    expect(deploy.stderr).toBe(dry.stderr);
    const lines = deploy.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(`error: compose file ${join(dir, 'compose.yaml')} rejected (1 error); nothing was deployed [invalid_compose]`);
    // The error (line 12) first, then the warning (line 7).
    expect(lines.slice(1).map((line) => /:(\d+) /.exec(line)?.[1])).toEqual(['12', '7']);
    expect(lines[1]).toContain('services.web.deploy.replicas (web)');
  });

  it('put warnings of an accepted file on stderr, sorted by line, the same for both', async () => {
    const dir = await project({ 'compose.yaml': warnsOutOfOrder });
    const { deploy, dry } = await deployAndDryRun(join(dir, 'compose.yaml'));
    expect([deploy.code, dry.code]).toEqual([ExitCode.ok, ExitCode.ok]);
    expect(deploy.stderr).toBe(dry.stderr);
    const lines = dry.stderr.trimEnd().split('\n');
    expect(lines.map((line) => /compose\.yaml:(\d+) /.exec(line)?.[1])).toEqual(['2', '7']);
    expect(lines[0]).toContain('[COMPOSE_RESTART_POLICY_DEFAULTED]');
    expect(lines[1]).toContain('"build" is ignored');
    // stdout of the dry run is the normalized stack alone.
    expect(dry.stdout).not.toContain('warning');
  });

  it('dry-run prints plain YAML: no anchors or aliases for values services share', async () => {
    const dir = await project({ 'compose.yaml': 'services:\n  a:\n    image: busybox:1\n  b:\n    image: busybox:1\n' });
    const { dry } = await deployAndDryRun(join(dir, 'compose.yaml'));
    expect(dry.code).toBe(ExitCode.ok);
    expect(dry.stdout).not.toMatch(/[&*]a\d+\b/);
    const printed = parse(dry.stdout) as { services: { name: string; deploy: { restartPolicy: { condition: string } } }[] };
    expect(printed.services.map((s) => [s.name, s.deploy.restartPolicy.condition])).toEqual([['a', 'any'], ['b', 'any']]);
  });
});
