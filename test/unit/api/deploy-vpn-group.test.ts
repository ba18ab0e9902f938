/**
 * VPN groups through POST /v1/deploy: a refused group is a 400 naming both services, with
 * nothing submitted to the store (no side effect); an accepted one stores the group as the
 * loader normalized it.
 */
import { describe, expect, it } from 'vitest';
import type { StackSpec } from '../../../src/compose/types.ts';
import { testDeps } from './fake-deps.ts';
import { serverPerTest } from './server-per-test.ts';

const server = serverPerTest();
const deploy = (compose: string) => ({ method: 'POST' as const, url: '/v1/deploy', payload: { stack: 'media', compose, file: 'compose.yaml' } });

describe('POST /v1/deploy with a VPN group', () => {
  it('a dependent publishing ports → 400 naming both services, file, line and key; nothing stored', async () => {
    const deps = testDeps();
    const compose = 'services:\n  vpn:\n    image: qmcgaw/gluetun\n  web:\n    image: nginx\n    network_mode: "service:vpn"\n    ports: ["8080:80"]\n';
    const res = await (await server(deps)).inject(deploy(compose));
    expect(res.statusCode).toBe(400);
    expect(deps.store.submitted).toEqual([]);
    const error = res.json().error as { code: string; diagnostics: Record<string, unknown>[] };
    expect(error.code).toBe('invalid_compose');
    expect(error.diagnostics).toEqual([expect.objectContaining({
      code: 'COMPOSE_VPN_DEPENDENT_KEY', file: 'compose.yaml', line: 7, path: 'services.web.ports', service: 'web',
      message: expect.stringContaining('publish them on "vpn" instead'),
    })]);
  });

  it('an accepted group is stored with the dependent in the VPN\'s namespace and the VPN\'s kill-switch setting', async () => {
    const deps = testDeps();
    const compose = 'services:\n  vpn:\n    image: qmcgaw/gluetun\n    ports: ["8080:80"]\n    x-constellation: { vpn: { on_unhealthy: pause } }\n'
      + '  web:\n    image: nginx\n    network_mode: "container:vpn"\n';
    const res = await (await server(deps)).inject(deploy(compose));
    expect(res.statusCode).toBe(202);
    const command = deps.store.submitted[0]!.command as { type: 'deploy-stack'; stack: StackSpec };
    const byName = new Map(command.stack.services.map((s) => [s.name, s]));
    expect(byName.get('web')).toMatchObject({ networkMode: 'service:vpn', networks: [], ports: [] });
    expect(byName.get('vpn')).toMatchObject({ vpn: { onUnhealthy: 'pause' } });
  });
});
