import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { composeCodes } from '../../../src/compose/compose-codes.ts';
import { buildTestApi, testDeps, type TestApi } from './fake-deps.ts';

// The review finding this pins: a deploy named a file anywhere on the daemon's host as env_file,
// got its first line back in the 400 message and its KEY=VALUE lines in GET /v1/services.
const dirs: string[] = [];
let app: TestApi | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** A file outside every working directory the tests send. */
function hostSecret(): string {
  const file = join(tempDir('constellation-host-'), 'secret.txt');
  writeFileSync(file, 'db password is hunter2\nPASSWORD=hunter2\n');
  return file;
}

async function deploy(payload: Record<string, unknown> | string, query = '') {
  const deps = testDeps();
  app = await buildTestApi(deps);
  const res = typeof payload === 'string'
    ? await app.inject({ method: 'POST', url: `/v1/deploy${query}`, headers: { 'content-type': 'application/yaml' }, payload })
    : await app.inject({ method: 'POST', url: '/v1/deploy', payload });
  return { res, deps };
}

describe('POST /v1/deploy reads env files only inside the request\'s workingDir', () => {
  it('an absolute env_file is refused with a coded diagnostic, and nothing of the file comes back', async () => {
    const workingDir = tempDir('constellation-wd-');
    const compose = `services:\n  web:\n    image: busybox:1\n    env_file: ${hostSecret()}\n`;
    for (const { res, deps } of [
      await deploy({ stack: 'leak', compose, workingDir }),
      await deploy({ stack: 'leak', compose }),
      await deploy(compose, '?stack=leak'),
    ]) {
      expect(res.statusCode).toBe(400);
      expect(res.body).not.toContain('hunter2');
      expect(deps.store.submitted).toEqual([]);
      const error = res.json().error as { code: string; message: string; diagnostics: Record<string, unknown>[] };
      expect(error.code).toBe('invalid_compose');
      expect(error.diagnostics).toEqual([expect.objectContaining({ code: composeCodes.envFileOutsideWorkingDir, service: 'web', path: 'services.web.env_file', line: 4 })]);
      expect(error.message).toContain('env_file');
    }
  });

  it('a relative env_file that climbs out of workingDir is refused', async () => {
    const secret = hostSecret();
    const workingDir = tempDir('constellation-wd-');
    const climb = join('..', ...secret.split('/').slice(-2));
    const { res } = await deploy({ stack: 'leak', compose: `services:\n  web:\n    image: busybox:1\n    env_file: [${climb}]\n`, workingDir });
    expect(res.statusCode).toBe(400);
    expect(res.body).not.toContain('hunter2');
    expect(res.json().error.diagnostics[0]).toMatchObject({ code: composeCodes.envFileOutsideWorkingDir, path: 'services.web.env_file[0]' });
  });

  it('a malformed env file inside workingDir is named with its line, without the line\'s text', async () => {
    const workingDir = tempDir('constellation-wd-');
    writeFileSync(join(workingDir, 'app.env'), 'OK=1\ndb password is hunter2\n');
    const { res } = await deploy({ stack: 'app', compose: 'services:\n  web:\n    image: busybox:1\n    env_file: app.env\n', workingDir });
    expect(res.statusCode).toBe(400);
    expect(res.body).not.toContain('hunter2');
    expect(res.json().error.message).toContain(`${join(workingDir, 'app.env')}:2: not a KEY=VALUE assignment`);
  });

  it('an env_file inside workingDir is read into the spec', async () => {
    const workingDir = tempDir('constellation-wd-');
    writeFileSync(join(workingDir, 'app.env'), 'MODE=prod\n');
    const { res, deps } = await deploy({ stack: 'app', compose: 'services:\n  web:\n    image: busybox:1\n    env_file: ./app.env\n', workingDir });
    expect(res.statusCode).toBe(202);
    const command = deps.store.submitted[0]!.command;
    expect(command.type === 'deploy-stack' && command.stack.services[0]!.environment).toEqual({ MODE: 'prod' });
  });
});
