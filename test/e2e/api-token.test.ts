import { request as httpRequest } from 'node:http';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runConstellation } from './support/cli-process.ts';
import { DaemonEnvironment } from './support/daemon-environment.ts';
import { removeStackContainers, stackContainers } from './support/engine-inspect.ts';

// Security defaults on a real daemon process with the default config (no api.token): the API
// wants the token it generated, refuses what a web page could send, and the CLI still works
// without being told anything.
const dockerHost = `unix://${inject('dockerSocket')}`;
const image = inject('testImage');
const token = 'e2e-token-0123456789';
const stacks = ['e2e-pwn', 'e2e-tok'];
const rootMount = `services:\n  pwn:\n    image: ${image}\n    volumes: ["/:/host"]\n    command: ["sleep", "3600"]\n`;

let env: DaemonEnvironment;
let elsewhere: string;

beforeAll(async () => {
  await removeStackContainers(dockerHost, stacks);
  env = await DaemonEnvironment.create(dockerHost);
  elsewhere = await mkdtemp(join(tmpdir(), 'cst-e2e-nowhere-'));
});

afterAll(async () => {
  await env?.dispose();
  await removeStackContainers(dockerHost, stacks);
  if (elsewhere) await rm(elsewhere, { recursive: true, force: true });
});

/** A raw HTTP request with a Host header of our choosing (fetch does not allow setting it). */
function rawRequest(path: string, options: { method?: string; headers: Record<string, string>; body?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: env.apiPort, path, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('API security defaults', () => {
  it('the daemon refuses a non-loopback API without an explicit token (exit 2, before listening)', async () => {
    const run = await runConstellation(['--config', env.configFile, '--docker-host', dockerHost, '--api-host', '0.0.0.0']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('CONFIG_API_TOKEN_REQUIRED');
  });

  it('a fresh daemon with the default config refuses unauthenticated and cross-site deploys; the CLI needs no token flag', async () => {
    let daemon = await env.start();
    const generated = await env.token();
    expect(generated).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await stat(join(env.dataDir, 'api-token'))).mode & 0o777).toBe(0o600);
    // The viewers' token beside it: reads, never writes.
    const viewer = (await readFile(join(env.dataDir, 'api-token.read-only'), 'utf8')).trim();
    expect(viewer).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(viewer).not.toBe(generated);
    expect((await stat(join(env.dataDir, 'api-token.read-only'))).mode & 0o777).toBe(0o600);
    const viewerHeaders = { authorization: `Bearer ${viewer}` };
    expect((await fetch(`${env.url}/v1/stacks`, { headers: viewerHeaders })).status).toBe(200);
    const viewerDeploy = await fetch(`${env.url}/v1/deploy?stack=e2e-pwn`, { method: 'POST', headers: { ...viewerHeaders, 'content-type': 'application/yaml' }, body: rootMount });
    expect(viewerDeploy.status).toBe(403);
    expect(((await viewerDeploy.json()) as { error: { code: string } }).error.code).toBe('read_only_token');

    // What a web page can make a browser send: refused before anything is read.
    const driveBy = await fetch(`${env.url}/v1/deploy?stack=e2e-pwn`, {
      method: 'POST', headers: { 'content-type': 'text/plain', origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }, body: rootMount,
    });
    expect(driveBy.status).toBe(403);
    expect(driveBy.headers.get('access-control-allow-origin')).toBeNull();
    // A local process without the token.
    const anonymous = await fetch(`${env.url}/v1/deploy`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ stack: 'e2e-pwn', compose: rootMount }) });
    expect(anonymous.status).toBe(401);
    // DNS rebinding: the page's own name, resolved to 127.0.0.1, with no Origin trouble at all.
    const rebound = await rawRequest('/v1/deploy?stack=e2e-pwn', { method: 'POST', headers: { host: `evil.example:${env.apiPort}`, 'content-type': 'application/yaml' }, body: rootMount });
    expect(rebound.status).toBe(421);
    expect(JSON.parse(rebound.body).error.code).toBe('host_not_allowed');
    // With the token, text/plain is still not a way in.
    const plain = await env.fetch('/v1/deploy?stack=e2e-pwn', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: rootMount });
    expect(plain.status).toBe(415);
    expect(await (await env.fetch('/v1/stacks')).json()).toEqual([]);
    expect(await stackContainers(dockerHost, 'e2e-pwn')).toEqual([]);
    expect((await fetch(`${env.url}/healthz`)).status).toBe(200);

    // The CLI run from the daemon's directory, without a single flag, finds config and token.
    const file = await env.writeCompose('tok.yaml', `services:\n  app:\n    image: ${image}\n    command: ["sleep", "3600"]\n    stop_grace_period: 1s\n`);
    const deployed = await runConstellation(['deploy', '--file', file, '--stack', 'e2e-tok'], { cwd: env.dir, env: { CONSTELLATION_API_TOKEN: '' } });
    expect(deployed.stderr).toBe('');
    expect(deployed.code).toBe(0);
    expect((await stackContainers(dockerHost, 'e2e-tok')).map((c) => c.running)).toEqual([true]);

    // A restarted daemon keeps its token: the CLI (with --config, from anywhere) still gets in.
    expect(await daemon.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    daemon = await env.start();
    expect(await env.token()).toBe(generated);
    const services = await runConstellation(['services', '--config', env.configFile], { cwd: elsewhere, env: { CONSTELLATION_API_TOKEN: '' } });
    expect(services.code).toBe(0);
    expect(services.stdout).toMatch(/e2e-tok_app\s+1\/1/);

    // Without the config, from a directory that has none, the CLI says where it looked.
    const lost = await runConstellation(['services', '--api', env.url], { cwd: elsewhere, env: { CONSTELLATION_API_TOKEN: '' } });
    expect(lost.code).toBe(4);
    expect(lost.stderr).toContain('[unauthorized]; no API token found: looked at --token, $CONSTELLATION_API_TOKEN');
    expect(lost.stderr).toContain(`${join(elsewhere, 'data', 'api-token')} (does not exist)`);

    const removed = await runConstellation(['rm', 'e2e-tok'], { cwd: env.dir, env: { CONSTELLATION_API_TOKEN: '' } });
    expect(removed.code).toBe(0);
    expect(await daemon.kill('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 120_000);

  it('with api.token (from CONSTELLATION_API_TOKEN) that token is the one, and only /healthz is open', async () => {
    const daemon = await env.start({ CONSTELLATION_API_TOKEN: token });
    expect((await fetch(`${env.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${env.url}/v1/stacks`)).status).toBe(401);
    expect((await fetch(`${env.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${env.url}/v1/stacks`, { headers: { authorization: `Bearer ${await env.token()}` } })).status).toBe(401);
    expect((await fetch(`${env.url}/v1/stacks`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);

    const refused = await runConstellation(['services', '--api', env.url], { cwd: elsewhere, env: { CONSTELLATION_API_TOKEN: '' } });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('[unauthorized]');
    const allowed = await runConstellation(['services', '--api', env.url, '--token', token], { cwd: elsewhere });
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toMatch(/^SERVICE\s+REPLICAS/);
    expect(await daemon.kill('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
