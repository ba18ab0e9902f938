import { describe, expect, it } from 'vitest';
import { composeCodes } from '../../../src/compose/compose-codes.ts';
import { loadCompose } from '../../../src/compose/load-compose.ts';
import { loadErrors, loadOk } from './load-helper.ts';

const byName = (yaml: string) => Object.fromEntries(loadOk(yaml).stack.services.map((s) => [s.name, s]));

describe('stack networks', () => {
  it('a service without networks joins <stack>_default with its name as alias', () => {
    const { web } = byName('services:\n  web: { image: x }\n');
    expect(web!.networks).toEqual([{ network: expect.objectContaining({ key: 'default', name: 'test_default', external: false, driver: 'bridge' }), aliases: ['web'] }]);
  });

  it('declared networks: engine name <stack>_<key>, driver, internal, attachable, labels, ipam, driver_opts; aliases added after the service name', () => {
    const { api, db } = byName([
      'services:',
      '  api:',
      '    image: x',
      '    networks: { front: {}, back: { aliases: [backend, api] } }',
      '  db:',
      '    image: x',
      '    networks: [back]',
      'networks:',
      '  front: { driver: bridge, attachable: true, labels: { team: a }, driver_opts: { com.docker.network.bridge.enable_icc: "true" } }',
      '  back: { internal: true, ipam: { config: [{ subnet: 172.28.0.0/16, gateway: 172.28.0.1 }] } }',
      '',
    ].join('\n'));
    expect(api!.networks!.map((n) => [n.network.name, n.aliases])).toEqual([['test_front', ['api']], ['test_back', ['api', 'backend']]]);
    expect(api!.networks![0]!.network).toMatchObject({ attachable: true, internal: false, labels: { team: 'a' }, driverOpts: { 'com.docker.network.bridge.enable_icc': 'true' } });
    expect(db!.networks).toEqual([expect.objectContaining({ network: expect.objectContaining({ name: 'test_back', internal: true, ipam: [{ subnet: '172.28.0.0/16', gateway: '172.28.0.1', auxAddresses: {} }] }) })]);
  });

  it('external networks keep their own name (or name:) and are marked external', () => {
    const { web } = byName('services:\n  web:\n    image: x\n    networks: [corp, legacy]\nnetworks:\n  corp: { external: true }\n  legacy: { external: true, name: old-net }\n');
    expect(web!.networks!.map((n) => [n.network.name, n.network.external])).toEqual([['corp', true], ['old-net', true]]);
  });

  it('name: overrides the engine name; a declared default network configures the default', () => {
    const { web } = byName('services:\n  web: { image: x }\nnetworks:\n  default: { name: shared-net, internal: true }\n');
    expect(web!.networks![0]!.network).toMatchObject({ key: 'default', name: 'shared-net', internal: true });
  });

  it('a fixed ipv4_address is kept with one replica on a network with a subnet', () => {
    const { dns } = byName('services:\n  dns:\n    image: x\n    networks: { net: { ipv4_address: 10.5.0.2 } }\nnetworks:\n  net: { ipam: { config: [{ subnet: 10.5.0.0/24 }] } }\n');
    expect(dns!.networks![0]).toMatchObject({ ipv4Address: '10.5.0.2' });
  });

  it('network_mode: the service joins none of the stack networks', () => {
    expect(byName('services:\n  web: { image: x, network_mode: host }\n').web!.networks).toEqual([]);
  });

  it('overlay becomes a bridge per node, with a warning naming the network', () => {
    const { warnings } = loadOk('services:\n  web: { image: x, networks: [mesh] }\nnetworks:\n  mesh: { driver: overlay }\n');
    expect(warnings).toContainEqual(expect.objectContaining({ code: composeCodes.ignoredKey, path: 'networks.mesh.driver' }));
  });

  it.each([
    ['an undeclared network', 'services:\n  web: { image: x, networks: [nope] }\n', composeCodes.undefinedNetwork, 'services.web.networks[0]', 2],
    ['networks together with network_mode', 'services:\n  web:\n    image: x\n    network_mode: host\n    networks: [default]\n', composeCodes.invalidNetwork, 'services.web.networks', 5],
    ['a macvlan driver', 'services:\n  web: { image: x }\nnetworks:\n  lan: { driver: macvlan }\n', composeCodes.networkUnsupported, 'networks.lan.driver', 4],
    ['another IPAM driver', 'services:\n  web: { image: x }\nnetworks:\n  lan: { ipam: { driver: dhcp } }\n', composeCodes.networkUnsupported, 'networks.lan.ipam.driver', 4],
    ['a fixed address with 2 replicas', 'services:\n  web:\n    image: x\n    deploy: { replicas: 2 }\n    networks: { n: { ipv4_address: 10.5.0.2 } }\nnetworks:\n  n: { ipam: { config: [{ subnet: 10.5.0.0/24 }] } }\n', composeCodes.invalidNetwork, 'services.web.networks.n.ipv4_address', 5],
    ['a fixed address on a network without a subnet', 'services:\n  web:\n    image: x\n    networks: { n: { ipv4_address: 10.5.0.2 } }\nnetworks:\n  n: {}\n', composeCodes.invalidNetwork, 'services.web.networks.n.ipv4_address', 4],
  ])('%s is refused with a coded error at its key and line', (_what, yaml, code, path, line) => {
    const errors = loadErrors(yaml);
    expect(errors).toContainEqual(expect.objectContaining({ code, path, line }));
  });

  it('the error names the file too', () => {
    const result = loadCompose({ content: 'services:\n  web: { image: x, networks: [nope] }\n', file: 'app/compose.yaml', stackName: 'app', env: {} });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]).toMatchObject({ file: 'app/compose.yaml', service: 'web', message: expect.stringContaining('"nope"') });
  });
});
