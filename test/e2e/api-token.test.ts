import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runConstellation } from './support/cli-process.ts';
import { DaemonEnvironment } from './support/daemon-environment.ts';

// Security defaults on a real daemon process: loopback unless a token is set, and with a token
// every request but /healthz needs it.
const dockerHost = `unix://${inject('dockerSocket')}`;
const token = 'e2e-token-0123456789';

let env: DaemonEnvironment;

beforeAll(async () => {
  env = await DaemonEnvironment.create(dockerHost);
});

afterAll(async () => {
  await env?.dispose();
});

describe('API token', () => {
  it('the daemon refuses a non-loopback API without a token (exit 2, before listening)', async () => {
    const run = await runConstellation(['--config', env.configFile, '--docker-host', dockerHost, '--data-dir', env.dataDir, '--api-host', '0.0.0.0', '--api-port', String(env.apiPort)]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('CONFIG_API_TOKEN_REQUIRED');
  });

  it('with api.token (from CONSTELLATION_API_TOKEN) only /healthz is open', async () => {
    const daemon = await env.start({ CONSTELLATION_API_TOKEN: token });
    expect((await fetch(`${env.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${env.url}/v1/stacks`)).status).toBe(401);
    expect((await fetch(`${env.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${env.url}/v1/stacks`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);

    const refused = await runConstellation(['services', '--api', env.url], { env: { CONSTELLATION_API_TOKEN: '' } });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('[unauthorized]');
    const allowed = await runConstellation(['services', '--api', env.url, '--token', token]);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toMatch(/^SERVICE\s+REPLICAS/);
    expect(await daemon.kill('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
