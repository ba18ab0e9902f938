import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildApiServer } from '../../../src/api/build-api-server.ts';
import { runCli } from '../../../src/cli/program.ts';
import { testDeps, testToken, type TestDeps } from '../api/fake-deps.ts';
import { freeLoopbackPort } from '../../support/free-port.ts';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI in-process with captured output; `env` replaces the process environment. The test
 * API's token is in it as $CONSTELLATION_API_TOKEN (as a user may export it) unless `env` says
 * otherwise: `{ CONSTELLATION_API_TOKEN: undefined }` tests the CLI's own token lookup.
 */
export async function cli(args: readonly string[], givenEnv: NodeJS.ProcessEnv = {}, options: { tty?: boolean; interrupted?: Promise<void> } = {}): Promise<CliRun> {
  const env = { CONSTELLATION_API_TOKEN: testToken, ...givenEnv };
  const stdout = Object.assign(new PassThrough(), { isTTY: options.tty === true });
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (chunk) => out.push(String(chunk)));
  stderr.on('data', (chunk) => err.push(String(chunk)));
  const code = await runCli(args, { stdout, stderr, env, ...(options.interrupted ? { interrupted: options.interrupted } : {}) });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** A real HTTP API (listening on loopback) over an in-memory store and a fake agent. */
export async function startTestApi(overrides: Parameters<typeof testDeps>[0] = {}): Promise<{ deps: TestDeps; app: FastifyInstance; url: string }> {
  const deps = testDeps(overrides);
  const app = await buildApiServer(deps);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { deps, app, url };
}

export async function tempProject(files: Record<string, string>): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'cst-cli-'));
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** The URL of a loopback port nothing listens on (bound, then released). */
export async function closedPortUrl(): Promise<string> {
  return `http://127.0.0.1:${await freeLoopbackPort()}`;
}
