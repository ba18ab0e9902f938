import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../../../src/cli/exit-codes.ts';
import { composeCodes } from '../../../src/compose/compose-codes.ts';
import { cli, closedPortUrl, tempProject } from './cli-harness.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function project(files: Record<string, string>): Promise<string> {
  const made = await tempProject(files);
  cleanups.push(made.cleanup);
  return made.dir;
}

// --dry-run keeps the daemon's rule (env files only inside the compose file's folder) so that it
// predicts what a deploy does: the daemon, not the CLI, reads env files on a real deploy.
describe('deploy --dry-run and env_file', () => {
  it('reads an env_file beside the compose file and refuses one outside its folder', async () => {
    const elsewhere = await project({ 'secret.env': 'PASSWORD=hunter2\n' });
    const dir = await project({
      'ok.yaml': 'services:\n  web:\n    image: busybox:1\n    env_file: app.env\n',
      'app.env': 'MODE=prod\n',
      'outside.yaml': `services:\n  web:\n    image: busybox:1\n    env_file: ${join(elsewhere, 'secret.env')}\n`,
    });
    const nobody = await closedPortUrl();
    const ok = await cli(['deploy', '--dry-run', '--file', join(dir, 'ok.yaml'), '--stack', 'app', '--api', nobody]);
    expect(ok.code).toBe(ExitCode.ok);
    expect(ok.stdout).toContain('MODE: prod');
    const outside = await cli(['deploy', '--dry-run', '--file', join(dir, 'outside.yaml'), '--stack', 'app', '--api', nobody]);
    expect(outside.code).toBe(ExitCode.invalid);
    expect(outside.stderr).toContain(composeCodes.envFileOutsideWorkingDir);
    expect(outside.stdout + outside.stderr).not.toContain('hunter2');
  });
});
