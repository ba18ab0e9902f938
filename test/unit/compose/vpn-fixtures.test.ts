/**
 * VPN groups in real files (issue 9): the VPN files of the awesome-compose corpus as they are and
 * with a dependent joined to them, and the gluetun pattern of gluetun's wiki as a fixture. The
 * corpus must be present beside the repository (a missing corpus fails, as in corpus.test.ts).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { composeCodes } from '../../../src/compose/compose-codes.ts';
import { loadCompose } from '../../../src/compose/load-compose.ts';
import { vpnGroupsOf } from '../../../src/compose/vpn-groups.ts';
import type { ServiceSpec } from '../../../src/compose/types.ts';
import { loadErrors, loadOk } from './load-helper.ts';

const here = dirname(fileURLToPath(import.meta.url));
const corpusDir = resolve(here, '../../../../shared/corpus/awesome-compose');
const wireguardFile = resolve(corpusDir, 'wireguard/compose.yaml');
const piholeFile = resolve(corpusDir, 'pihole-cloudflared-DoH/compose.yaml');
const gluetunFile = resolve(here, '../../fixtures/vpn/gluetun-compose.yaml');

const corpusEnv = {
  TIMEZONE: 'Etc/UTC', VPN_SERVER_URL: 'vpn.example.com', PIHOLE_PW: 'x', PIHOLE_ROUTER_IP: '192.168.1.1',
  PIHOLE_NETWORK_DOMAIN: 'lan', PIHOLE_REVERSE_DNS: '192.168.1.0/24', PIHOLE_HOST_IP: '192.168.1.2', PIHOLE_HOST_IPV6: '::1',
};

function byName(services: readonly ServiceSpec[], name: string): ServiceSpec {
  const found = services.find((s) => s.name === name);
  if (found === undefined) expect.fail(`no service ${name}`);
  return found;
}

/** The corpus file with `edit` applied to its parsed YAML. */
function edited(path: string, edit: (doc: { services: Record<string, Record<string, unknown>> }) => void): string {
  const doc = parse(readFileSync(path, 'utf8')) as { services: Record<string, Record<string, unknown>> };
  edit(doc);
  return stringify(doc);
}

describe('VPN files of the awesome-compose corpus', () => {
  it('wireguard loads as it is: a VPN server that nothing joins forms no group', () => {
    const { stack } = loadOk(readFileSync(wireguardFile, 'utf8'), { file: wireguardFile, env: corpusEnv });
    expect(vpnGroupsOf(stack)).toEqual([]);
    expect(byName(stack.services, 'wireguard').vpn).toBeUndefined();
  });

  it.each(['service:wireguard', 'container:wireguard'])('wireguard with a client joined by %s forms one group; its port stays on wireguard', (mode) => {
    const content = edited(wireguardFile, (doc) => {
      doc.services.client = { image: 'curlimages/curl', command: ['sleep', 'infinity'], network_mode: mode };
    });
    const { stack } = loadOk(content, { env: corpusEnv, stackName: 'wg' });
    expect(vpnGroupsOf(stack)).toEqual([{ vpn: 'wireguard', dependents: ['client'] }]);
    const client = byName(stack.services, 'client');
    expect(client.networkMode).toBe('service:wireguard');
    expect(client.ports).toEqual([]);
    expect(byName(stack.services, 'wireguard').ports).toEqual([expect.objectContaining({ target: 51820, published: 51820, protocol: 'udp' })]);
    expect(byName(stack.services, 'wireguard').vpn).toEqual({ onUnhealthy: 'stop' });
  });

  it('pihole-cloudflared-DoH loads as it is: the two share a network, not a namespace, so no group', () => {
    const { stack } = loadOk(readFileSync(piholeFile, 'utf8'), { file: piholeFile, env: corpusEnv });
    expect(vpnGroupsOf(stack)).toEqual([]);
  });

  it('pihole moved into cloudflared\'s namespace is refused for its own ports and networks, naming both services', () => {
    const content = edited(piholeFile, (doc) => {
      doc.services.pihole!.network_mode = 'service:cloudflared';
    });
    const errors = loadErrors(content, { env: corpusEnv, file: 'pihole.yaml' });
    expect(errors.map((e) => [e.code, e.path, e.service])).toEqual([
      [composeCodes.vpnDependentKey, 'services.pihole.ports', 'pihole'],
      [composeCodes.vpnDependentKey, 'services.pihole.networks', 'pihole'],
    ]);
    expect(errors[0]!.message).toBe('"ports" cannot be set on service "pihole": it joins the network namespace of service "cloudflared" '
      + '(network_mode: "service:cloudflared"), where the engine refuses it; the namespace is "cloudflared"\'s, so publish them on "cloudflared" instead');
    for (const error of errors) expect(error.line).toBeGreaterThan(1);
  });
});

describe('the gluetun pattern (gluetun wiki)', () => {
  const load = () => loadCompose({ content: readFileSync(gluetunFile, 'utf8'), file: gluetunFile, env: { WIREGUARD_PRIVATE_KEY: 'key' } });

  it('loads as one group: gluetun, then qbittorrent and prowlarr in depends_on order', () => {
    const result = load();
    if (!result.ok) expect.fail(JSON.stringify(result.errors));
    const { stack } = result;
    expect(vpnGroupsOf(stack)).toEqual([{ vpn: 'gluetun', dependents: ['qbittorrent', 'prowlarr'] }]);
    expect(stack.services.map((s) => s.name)).toEqual(['gluetun', 'qbittorrent', 'prowlarr']);
  });

  it('the dependents share gluetun\'s namespace (container:gluetun names it by container_name), publish nothing, and wait for it', () => {
    const result = load();
    if (!result.ok) expect.fail(JSON.stringify(result.errors));
    const services = result.stack.services;
    for (const name of ['qbittorrent', 'prowlarr']) {
      const dependent = byName(services, name);
      expect(dependent.networkMode).toBe('service:gluetun');
      expect(dependent.networks).toEqual([]);
      expect(dependent.ports).toEqual([]);
      expect(dependent.vpn).toBeUndefined();
    }
    expect(byName(services, 'qbittorrent').dependsOn.gluetun).toEqual({ condition: 'service_healthy', required: true, restart: false });
    expect(byName(services, 'prowlarr').dependsOn.gluetun).toEqual({ condition: 'service_started', required: true, restart: false });
  });

  it('the group\'s published ports are gluetun\'s, and gluetun carries the kill-switch setting and its healthcheck', () => {
    const result = load();
    if (!result.ok) expect.fail(JSON.stringify(result.errors));
    const gluetun = byName(result.stack.services, 'gluetun');
    expect(gluetun.ports.map((p) => `${p.published}:${p.target}/${p.protocol}`)).toEqual(['8888:8888/tcp', '8080:8080/tcp', '6881:6881/tcp', '6881:6881/udp', '9696:9696/tcp']);
    expect(gluetun.vpn).toEqual({ onUnhealthy: 'stop' });
    expect(gluetun.healthcheck?.test).toEqual(['CMD', '/gluetun-entrypoint', 'healthcheck']);
    expect(gluetun.capAdd).toEqual(['NET_ADMIN']);
    expect(gluetun.devices).toEqual([{ hostPath: '/dev/net/tun', containerPath: '/dev/net/tun', permissions: 'rwm' }]);
  });
});
