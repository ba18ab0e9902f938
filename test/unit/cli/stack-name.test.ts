import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../../../src/cli/exit-codes.ts';
import { cli, closedPortUrl, startTestApi, tempProject } from './cli-harness.ts';

const compose = 'services:\n  web:\n    image: busybox\n';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function project(files: Record<string, string>): Promise<string> {
  const { dir, cleanup } = await tempProject(files);
  cleanups.push(cleanup);
  return dir;
}

// --dry-run and a real deploy use the daemon's rule: a name the API would refuse is refused
// locally too, with the rule and where the name came from; a derived name always satisfies it.
describe('the CLI stack name follows the shared rule', () => {
  it('--dry-run refuses a --stack or name: with "_", saying where it came from', async () => {
    const nobody = await closedPortUrl();
    const dir = await project({ 'compose.yaml': compose, 'named.yaml': `name: my_app\n${compose}` });
    const flag = await cli(['deploy', '--dry-run', '--file', join(dir, 'compose.yaml'), '--stack', 'my_app', '--api', nobody]);
    expect(flag.code).toBe(ExitCode.invalid);
    expect(flag.stderr).toContain('stack name "my_app" is invalid');
    expect(flag.stderr).toContain('--stack');
    const named = await cli(['deploy', '--dry-run', '--file', join(dir, 'named.yaml'), '--api', nobody]);
    expect(named.code).toBe(ExitCode.invalid);
    expect(named.stderr).toContain('"name:"');
  });

  it('a directory name with "_" becomes a valid name, the same for --dry-run and the daemon', async () => {
    const root = await project({});
    const dir = join(root, 'My_Project');
    await mkdir(dir);
    await writeFile(join(dir, 'compose.yaml'), compose);
    const dry = await cli(['deploy', '--dry-run', '--file', join(dir, 'compose.yaml'), '--api', await closedPortUrl()]);
    expect(dry.code).toBe(ExitCode.ok);
    expect(dry.stdout).toContain('# stack my-project:');
    const { deps, app, url } = await startTestApi();
    cleanups.push(() => app.close());
    expect((await cli(['deploy', '--detach', '--file', join(dir, 'compose.yaml'), '--api', url])).code).toBe(ExitCode.ok);
    expect(Object.keys(deps.store.current().stacks)).toEqual(['my-project']);
  });

  it('a directory with no usable name is a clear error, not a made-up name', async () => {
    const root = await project({});
    const dir = join(root, '__');
    await mkdir(dir);
    await writeFile(join(dir, 'compose.yaml'), compose);
    const run = await cli(['deploy', '--dry-run', '--file', join(dir, 'compose.yaml'), '--api', await closedPortUrl()]);
    expect(run.code).toBe(ExitCode.invalid);
    expect(run.stderr).toContain('no stack name');
  });
});
