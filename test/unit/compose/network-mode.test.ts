import { describe, expect, it } from 'vitest';
import { composeCodes } from '../../../src/compose/compose-codes.ts';
import { loadCompose } from '../../../src/compose/load-compose.ts';
import { service, serviceErrors } from './load-helper.ts';

describe('network_mode', () => {
  it.each([
    ['service:tunnel', composeCodes.networkModeUnknownService],
    ['container:gluetun', composeCodes.networkModeUnsupported],
  ])('"%s" naming no service of the stack is refused at load time, naming service, key, file and line', (mode, code) => {
    const content = `services:\n  vpn:\n    image: qmcgaw/gluetun\n  web:\n    image: x\n    network_mode: "${mode}"\n`;
    const result = loadCompose({ content, file: 'stack/compose.yaml', stackName: 'app', env: {} });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([expect.objectContaining({
      severity: 'error', code, service: 'web', path: 'services.web.network_mode', file: 'stack/compose.yaml', line: 6,
    })]);
    expect(result.errors[0]!.message).toContain(mode);
    expect(result.errors[0]!.message).toContain('"web"');
  });

  it('an interpolated service:X is refused too (the check runs on the value after ${VAR})', () => {
    const errors = serviceErrors('image: x\nnetwork_mode: "service:${VPN}"', { env: { VPN: 'tunnel' } });
    expect(errors[0]).toMatchObject({ code: composeCodes.networkModeUnknownService, message: expect.stringContaining('service:tunnel') });
  });

  it('a network name is refused with a pointer to external networks', () => {
    const errors = serviceErrors('image: x\nnetwork_mode: corp-net');
    expect(errors[0]).toMatchObject({ code: composeCodes.networkModeUnsupported, path: 'services.svc.network_mode' });
    expect(errors[0]!.message).toContain('external: true');
  });

  it.each(['host', 'none', 'bridge', 'default'])('"%s" is honoured as the engine network mode', (mode) => {
    expect(service(`image: x\nnetwork_mode: ${mode}`).networkMode).toBe(mode);
  });

  it('host with published ports warns that the ports are not published', () => {
    const result = loadCompose({ content: 'services:\n  svc:\n    image: x\n    network_mode: host\n    ports: ["80:80"]\n', stackName: 'app', env: {} });
    expect(result.ok).toBe(true);
    expect(result.warnings).toContainEqual(expect.objectContaining({ code: composeCodes.ignoredKey, path: 'services.svc.ports', service: 'svc' }));
  });
});
