import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { apiTokenPath, ensureApiTokenFile } from '../../../src/adapters/api-token-file.ts';
import { ExitCode } from '../../../src/cli/exit-codes.ts';
import { cli, startTestApi, tempProject } from './cli-harness.ts';

// The daemon always wants a token; the CLI must find the one the daemon generated without the
// user doing anything, and when refused say where it looked.
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** No token in the environment: the CLI has to find it itself. */
const noEnvToken = { CONSTELLATION_API_TOKEN: undefined };

/** A daemon-like set-up: a config naming the data dir and the port of a test API holding `token`. */
async function daemonSetUp(options: { token?: string; configToken?: string } = {}) {
  const project = await tempProject({});
  cleanups.push(project.cleanup);
  const dataDir = join(project.dir, 'data');
  mkdirSync(dataDir);
  const generated = (await ensureApiTokenFile(dataDir)).token;
  const started = await startTestApi({ token: options.token ?? generated, bind: { host: '127.0.0.1', port: 0 } });
  cleanups.push(() => started.app.close());
  const config = join(project.dir, 'constellation.yml');
  writeFileSync(config, `node:\n  dataDir: ${dataDir}\napi:\n  port: ${new URL(started.url).port}\n${options.configToken ? `  token: ${options.configToken}\n` : ''}`);
  return { config, dataDir, url: started.url, port: new URL(started.url).port, generated, tokenFile: apiTokenPath(dataDir) };
}

describe('the CLI finds the API token', () => {
  it('reads the token the daemon generated in the data dir of its config', async () => {
    const { config } = await daemonSetUp();
    const run = await cli(['ps', '--config', config], noEnvToken);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(ExitCode.ok);
  });

  it('precedence: --token, then $CONSTELLATION_API_TOKEN, then api.token of the config, then the file', async () => {
    // The API holds the file's token; every other source is wrong, so only the file can open it.
    const { config, generated } = await daemonSetUp({ configToken: 'from-config' });
    // The config's api.token comes before the file: it is sent, and refused.
    const viaConfig = await cli(['ps', '--config', config], noEnvToken);
    expect(viaConfig.code).toBe(ExitCode.unauthorized);
    expect(viaConfig.stderr).toContain(`the token from api.token in ${config} was refused`);
    expect((await cli(['ps', '--config', config], { CONSTELLATION_API_TOKEN: generated })).code).toBe(ExitCode.ok);
    const viaFlag = await cli(['ps', '--config', config, '--token', 'from-flag'], { CONSTELLATION_API_TOKEN: generated });
    expect(viaFlag.code).toBe(ExitCode.unauthorized);
    expect(viaFlag.stderr).toContain('the token given with --token was refused');
    expect((await cli(['ps', '--config', config, '--token', generated], { CONSTELLATION_API_TOKEN: 'from-env' })).code).toBe(ExitCode.ok);
    const viaEnv = await cli(['ps', '--config', config], { CONSTELLATION_API_TOKEN: 'from-env' });
    expect(viaEnv.stderr).toContain('the token in $CONSTELLATION_API_TOKEN was refused');
  });

  it('a 401 without any token says everywhere it looked', async () => {
    const { config, dataDir, port } = await daemonSetUp();
    const elsewhere = join(dataDir, '..', 'other-data');
    writeFileSync(config, `node:\n  dataDir: ${elsewhere}\napi:\n  port: ${port}\n`);
    const run = await cli(['services', '--config', config], noEnvToken);
    expect(run.code).toBe(ExitCode.unauthorized);
    expect(run.stderr).toBe(`error: missing "Authorization: Bearer <token>" header [unauthorized]; no API token found: looked at --token, $CONSTELLATION_API_TOKEN, api.token in ${config}, and ${apiTokenPath(elsewhere)} (does not exist); pass the daemon's config with --config FILE, or the token with --token or $CONSTELLATION_API_TOKEN\n`);
  });

  it('a token file in the wrong data dir: the 401 names the file that was sent', async () => {
    const { port } = await daemonSetUp();
    const other = await daemonSetUp();
    writeFileSync(other.config, `node:\n  dataDir: ${other.dataDir}\napi:\n  port: ${port}\n`);
    const run = await cli(['ps', '--config', other.config], noEnvToken);
    expect(run.code).toBe(ExitCode.unauthorized);
    expect(run.stderr).toContain(`the bearer token is wrong [unauthorized]; the token from ${other.tokenFile} (node.dataDir of ${other.config}) was refused: is that the daemon's data dir?`);
  });

  it('a token file it may not read is reported with its code, not as a crash', async () => {
    const { config, tokenFile, dataDir, port } = await daemonSetUp();
    const broken = join(dataDir, '..', 'broken');
    mkdirSync(apiTokenPath(broken), { recursive: true });
    writeFileSync(config, `node:\n  dataDir: ${broken}\napi:\n  port: ${port}\n`);
    const run = await cli(['ps', '--config', config], noEnvToken);
    expect(run.code).toBe(ExitCode.unauthorized);
    expect(run.stderr).toContain(`cannot read the API token file ${apiTokenPath(broken)} (EISDIR) [api_token_unreadable]`);
    expect(run.stderr).not.toContain(tokenFile);
  });
});

describe('the read-only token in the CLI', () => {
  it('`token --read-only` prints the generated viewer token; `inspect --read-only` puts it in the URLs, and it cannot deploy', async () => {
    const { config, dataDir, generated, port } = await daemonSetUp();
    const readOnly = (await ensureApiTokenFile(dataDir, 'read-only')).token;
    expect(apiTokenPath(dataDir, 'read-only')).toBe(join(dataDir, 'api-token.read-only'));
    expect(readOnly).not.toBe(generated);
    const printed = await cli(['token', '--read-only', '--config', config], noEnvToken);
    expect(printed).toMatchObject({ code: ExitCode.ok, stdout: `${readOnly}\n` });
    expect((await cli(['token', '--config', config], noEnvToken)).stdout).toBe(`${generated}\n`);
    // The admin token in the environment does not stand in for the read-only one.
    expect((await cli(['token', '--read-only', '--config', config], { CONSTELLATION_API_TOKEN: generated })).stdout).toBe(`${readOnly}\n`);
    // api.readOnlyToken (also from its variable) wins over the file.
    expect((await cli(['token', '--read-only', '--config', config], { ...noEnvToken, CONSTELLATION_API_READ_ONLY_TOKEN: 'pinned-viewer' })).stdout).toBe('pinned-viewer\n');
    const urls = await cli(['inspect', '--read-only', '--config', config], noEnvToken);
    expect(urls.code).toBe(ExitCode.ok);
    expect(urls.stdout).toBe(`http://127.0.0.1:${port}/inspect#token=${readOnly}\n`);
    expect(urls.stderr).toContain(`/#token=${readOnly}`);
  });

  it('with no read-only token anywhere, `token --read-only` says where it looked', async () => {
    const { config, dataDir } = await daemonSetUp();
    const run = await cli(['token', '--read-only', '--config', config], noEnvToken);
    expect(run.code).toBe(ExitCode.invalid);
    expect(run.stderr).toContain(`looked at --token, api.readOnlyToken in ${config}, and ${apiTokenPath(dataDir, 'read-only')} (does not exist)`);
  });
});
