/**
 * VPN groups from compose (issue 9 item 1): what the loader accepts as a group, how it normalizes
 * it, and every combination it refuses, with the exact message, code, key path and line.
 */
import { describe, expect, it } from 'vitest';
import { composeCodes } from '../../../src/compose/compose-codes.ts';
import { loadCompose } from '../../../src/compose/load-compose.ts';
import { vpnGroupOfService, vpnGroupsOf, vpnOf } from '../../../src/compose/vpn-groups.ts';
import { indent, loadErrors, loadOk } from './load-helper.ts';

/** A stack with a `vpn` service and a `web` dependent; extra lines go under each. */
function group(vpnExtra = '', webExtra = '', more = ''): string {
  return `services:\n  vpn:\n    image: qmcgaw/gluetun\n${indent(vpnExtra, 4)}\n  web:\n    image: nginx\n    network_mode: "service:vpn"\n${indent(webExtra, 4)}\n${more}`;
}

function onlyError(content: string) {
  const errors = loadErrors(content, { file: 'stack/compose.yaml' });
  expect(errors, JSON.stringify(errors, null, 2)).toHaveLength(1);
  return errors[0]!;
}

describe('VPN groups: what loads', () => {
  it('service:X makes a group; the dependent keeps network_mode service:X, joins no stack network and starts after X', () => {
    const { stack } = loadOk(group('ports: ["8080:80"]'));
    const web = stack.services.find((s) => s.name === 'web')!;
    expect(web.networkMode).toBe('service:vpn');
    expect(web.networks).toEqual([]);
    expect(web.dependsOn).toEqual({ vpn: { condition: 'service_started', required: true, restart: false } });
    expect(vpnGroupsOf(stack)).toEqual([{ vpn: 'vpn', dependents: ['web'] }]);
    // The group's published ports are the VPN's.
    expect(stack.services.find((s) => s.name === 'vpn')!.ports).toEqual([expect.objectContaining({ target: 80, published: 8080 })]);
  });

  it('an explicit depends_on on X is kept as written (e.g. service_healthy)', () => {
    const { stack } = loadOk(group('healthcheck: { test: ["CMD", "true"] }', 'depends_on: { vpn: { condition: service_healthy } }'));
    expect(stack.services.find((s) => s.name === 'web')!.dependsOn.vpn!.condition).toBe('service_healthy');
  });

  it('dependents come in depends_on order, the VPN first even when the file lists it last', () => {
    const content = 'services:\n'
      + '  c: { image: x, network_mode: "service:vpn", depends_on: [b] }\n'
      + '  b: { image: x, network_mode: "service:vpn" }\n'
      + '  other: { image: x }\n'
      + '  vpn: { image: gluetun }\n';
    const { stack } = loadOk(content);
    expect(vpnGroupsOf(stack)).toEqual([{ vpn: 'vpn', dependents: ['b', 'c'] }]);
    const order = stack.services.map((s) => s.name);
    expect(order.indexOf('vpn')).toBeLessThan(order.indexOf('b'));
    expect(vpnGroupOfService(stack, 'c')).toEqual({ vpn: 'vpn', dependents: ['b', 'c'] });
    expect(vpnGroupOfService(stack, 'other')).toBeUndefined();
  });

  it('two groups in one stack are listed in stack order', () => {
    const content = 'services:\n  a: { image: x }\n  a1: { image: x, network_mode: "service:a" }\n  b: { image: x }\n  b1: { image: x, network_mode: "service:b" }\n  b2: { image: x, network_mode: "service:b" }\n';
    expect(vpnGroupsOf(loadOk(content).stack)).toEqual([{ vpn: 'a', dependents: ['a1'] }, { vpn: 'b', dependents: ['b1', 'b2'] }]);
  });

  it.each([
    ['its service name', 'container:vpn'],
    ['its container_name', 'container:gluetun'],
  ])('container:NAME naming a service of the stack by %s becomes service:<that service>', (_how, mode) => {
    const content = `services:\n  vpn: { image: qmcgaw/gluetun, container_name: gluetun }\n  web: { image: nginx, network_mode: "${mode}" }\n`;
    const { stack } = loadOk(content);
    expect(stack.services.find((s) => s.name === 'web')!.networkMode).toBe('service:vpn');
    expect(vpnGroupsOf(stack)).toEqual([{ vpn: 'vpn', dependents: ['web'] }]);
  });

  it('equal replicas pair slot i with slot i and load; both global load too', () => {
    expect(loadOk(group('deploy: { replicas: 3 }', 'deploy: { replicas: 3 }')).stack.services.every((s) => s.deploy.replicas === 3)).toBe(true);
    expect(loadOk(group('scale: 2', 'deploy: { replicas: 2 }')).stack.services.length).toBe(2);
    expect(loadOk(group('deploy: { mode: global }', 'deploy: { mode: global }')).stack.services.length).toBe(2);
  });

  it('constraints that one node can meet together load (the scheduler applies their union)', () => {
    loadOk(group('deploy: { placement: { constraints: ["node.labels.zone==eu"] } }', 'deploy: { placement: { constraints: ["node.labels.zone==EU", "node.role!=manager"] } }'));
    loadOk(group('deploy: { placement: { constraints: ["node.platform.arch==amd64"] } }', 'deploy: { placement: { constraints: ["node.platform.arch==x86_64"] } }'));
  });

  it('a dependent\'s placement preferences are warned about: the group is spread by its VPN\'s', () => {
    const { warnings } = loadOk(group('', 'deploy: { placement: { preferences: [{ spread: node.labels.zone }] } }'));
    expect(warnings).toContainEqual(expect.objectContaining({
      code: composeCodes.ignoredKey, path: 'services.web.deploy.placement.preferences', service: 'web',
      message: 'deploy.placement.preferences of "web" are not used: it is placed with "vpn", whose network namespace it joins, so the group is spread by the preferences of "vpn"; set them there',
    }));
  });

  it('constellation.rebalance "true" on a group member is warned about: a group moves only whole', () => {
    const { warnings } = loadOk(group('deploy: { labels: { constellation.rebalance: "true" } }', 'deploy: { labels: ["constellation.rebalance=true"] }'));
    const rebalance = warnings.filter((w) => w.message.startsWith('constellation.rebalance'));
    expect(rebalance).toEqual([
      expect.objectContaining({ code: composeCodes.ignoredKey, service: 'vpn', path: 'services.vpn.deploy.labels["constellation.rebalance"]', line: 4 }),
      expect.objectContaining({ code: composeCodes.ignoredKey, service: 'web', path: 'services.web.deploy.labels', line: 8 }),
    ]);
    expect(rebalance[1]!.message).toBe('constellation.rebalance is not honoured on "web": it is a member of the VPN group of "vpn", which moves only as a whole (drain, failover), never one member at a time');
  });

  it('vpnOf reads only service: modes', () => {
    expect(vpnOf({ networkMode: 'service:vpn' })).toBe('vpn');
    expect(vpnOf({ networkMode: 'host' })).toBeUndefined();
    expect(vpnOf({})).toBeUndefined();
  });
});

describe('VPN groups: x-constellation.vpn', () => {
  it('the VPN of a group gets on_unhealthy stop by default; a dependent and a lone service get no vpn spec', () => {
    const { stack } = loadOk(group());
    expect(stack.services.find((s) => s.name === 'vpn')!.vpn).toEqual({ onUnhealthy: 'stop' });
    expect(stack.services.find((s) => s.name === 'web')!.vpn).toBeUndefined();
  });

  it.each(['stop', 'keep', 'pause'] as const)('on_unhealthy: %s is kept on the VPN service', (value) => {
    const { stack } = loadOk(group(`x-constellation: { vpn: { on_unhealthy: ${value} } }`));
    expect(stack.services.find((s) => s.name === 'vpn')!.vpn).toEqual({ onUnhealthy: value });
  });

  it('a bad on_unhealthy value is refused at its key', () => {
    expect(onlyError(group('x-constellation:\n  vpn:\n    on_unhealthy: restart'))).toMatchObject({
      code: composeCodes.invalidValue, path: 'services.vpn.x-constellation.vpn.on_unhealthy', line: 6, service: 'vpn',
      message: 'x-constellation.vpn.on_unhealthy must be one of stop, keep, pause, not "restart"',
    });
  });

  it('a misspelt key under x-constellation.vpn or x-constellation is refused, not ignored', () => {
    expect(onlyError(group('x-constellation: { vpn: { on_unhealty: keep } }'))).toMatchObject({
      code: composeCodes.unknownKey, message: 'unknown key "on_unhealty" under "x-constellation.vpn" (known: on_unhealthy)',
    });
    expect(onlyError(group('x-constellation: { vnp: {} }'))).toMatchObject({
      code: composeCodes.unknownKey, message: 'unknown key "vnp" under "x-constellation" (known: vpn, progress_deadline)',
    });
    expect(onlyError(group('x-constellation: { vpn: keep }'))).toMatchObject({ code: composeCodes.wrongType, message: '"vpn" must be a mapping' });
  });

  it('x-constellation.vpn sits beside progress_deadline (read by the rollout)', () => {
    const { stack } = loadOk(group('x-constellation: { progress_deadline: 5m, vpn: { on_unhealthy: keep } }'));
    expect(stack.services.find((s) => s.name === 'vpn')!.vpn).toEqual({ onUnhealthy: 'keep' });
  });

  it('x-constellation.vpn on a service nobody joins is warned about and ignored', () => {
    const { stack, warnings } = loadOk('services:\n  solo:\n    image: x\n    x-constellation: { vpn: { on_unhealthy: keep } }\n');
    expect(stack.services[0]!.vpn).toBeUndefined();
    expect(warnings).toContainEqual(expect.objectContaining({
      code: composeCodes.ignoredKey, path: 'services.solo.x-constellation.vpn', line: 4,
      message: 'x-constellation.vpn is not honoured on "solo": it applies to a service that others join with network_mode: "service:solo", and none does',
    }));
  });
});

describe('VPN groups: what is refused, before anything is written', () => {
  it.each([
    ['ports', 'ports: ["80:80"]', 'publish them on'],
    ['expose', 'expose: ["80"]', 'expose them on'],
    ['hostname', 'hostname: web', 'set it on'],
    ['dns', 'dns: 1.1.1.1', 'set it on'],
    ['dns_search', 'dns_search: example.com', 'set it on'],
    ['dns_opt', 'dns_opt: [use-vc]', 'set it on'],
    ['networks', 'networks: [default]', 'attach'],
    ['extra_hosts', 'extra_hosts: ["db:10.0.0.2"]', 'set them on'],
    ['mac_address', 'mac_address: "02:42:ac:11:00:02"', 'set it on'],
    ['links', 'links: [vpn]', 'link'],
  ])('"%s" on a dependent, naming both services, at the key and line', (key, yaml, instead) => {
    const error = onlyError(group('', yaml));
    expect(error).toEqual({
      severity: 'error', code: composeCodes.vpnDependentKey, file: 'stack/compose.yaml', line: 8, path: `services.web.${key}`, service: 'web',
      message: `"${key}" cannot be set on service "web": it joins the network namespace of service "vpn" (network_mode: "service:vpn"), `
        + `where the engine refuses it; the namespace is "vpn"'s, so ${instead} "vpn" instead`,
    });
  });

  it('an empty list of such a key is not a problem', () => {
    loadOk(group('', 'ports: []\ndns: []'));
  });

  it('service:X of a service that is not defined', () => {
    expect(onlyError('services:\n  web: { image: x, network_mode: "service:tunnel" }\n')).toMatchObject({
      code: composeCodes.networkModeUnknownService, path: 'services.web.network_mode', line: 2, service: 'web',
      message: 'service "web" has network_mode "service:tunnel", but no service "tunnel" is defined in this file',
    });
  });

  it('container:NAME of a container outside the stack stays refused', () => {
    const result = loadCompose({ content: 'services:\n  vpn:\n    image: qmcgaw/gluetun\n  web:\n    image: x\n    network_mode: "container:gluetun"\n', file: 'stack/compose.yaml', stackName: 'app', env: {} });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([{
      severity: 'error', code: composeCodes.networkModeUnsupported, file: 'stack/compose.yaml', line: 6, path: 'services.web.network_mode', service: 'web',
      message: 'network_mode "container:gluetun" of service "web" names no service of this stack (by name or container_name): '
        + 'nothing could place "web" beside a container Constellation does not run, or follow it across restarts, and it is refused rather than run '
        + 'on another network, where its traffic would bypass it; add that container as a service of this stack and use network_mode: "service:<its name>"',
    }]);
  });

  it('an empty service: is refused', () => {
    expect(onlyError('services:\n  web: { image: x, network_mode: "service:" }\n')).toMatchObject({
      code: composeCodes.networkModeUnsupported, message: 'network_mode "service:" names no service: write "service:<name of a service of this stack>"',
    });
  });

  it('a chain of service: references, at the link that points at a dependent', () => {
    const content = 'services:\n  vpn: { image: x }\n  proxy: { image: x, network_mode: "service:vpn" }\n  web: { image: x, network_mode: "service:proxy" }\n';
    expect(onlyError(content)).toMatchObject({
      code: composeCodes.vpnChain, path: 'services.web.network_mode', line: 4, service: 'web',
      message: 'service "web" joins the network namespace of "proxy", which itself joins that of "vpn": '
        + 'chains of network_mode "service:" references are not supported; give "web" network_mode: "service:vpn"',
    });
  });

  it('a cycle is reported once, at its first member; a service pointing into it is a chain', () => {
    const content = 'services:\n  a: { image: x, network_mode: "service:b" }\n  b: { image: x, network_mode: "service:a" }\n  c: { image: x, network_mode: "service:a" }\n';
    const errors = loadErrors(content);
    expect(errors).toEqual([
      expect.objectContaining({
        code: composeCodes.vpnChain, path: 'services.a.network_mode', line: 2,
        message: 'network_mode forms a cycle: a -> b -> a: each service joins another\'s network namespace, so none owns one; a group needs one service (the VPN) with a network of its own',
      }),
      expect.objectContaining({
        code: composeCodes.vpnChain, path: 'services.c.network_mode', line: 4,
        message: 'service "c" joins the network namespace of "a", which itself joins that of "b": chains of network_mode "service:" references are not supported; point every member at the one service that owns the namespace',
      }),
    ]);
  });

  it('a service joining its own namespace is a cycle of one', () => {
    expect(onlyError('services:\n  a: { image: x, network_mode: "service:a" }\n')).toMatchObject({
      code: composeCodes.vpnChain, message: expect.stringContaining('network_mode forms a cycle: a -> a:'),
    });
  });

  it('different deploy modes split the group', () => {
    expect(onlyError(group('deploy: { mode: global }', ''))).toMatchObject({
      code: composeCodes.vpnPlacementSplit, path: 'services.web', line: 5, service: 'web',
      message: 'service "web" is replicated but "vpn", whose network namespace it joins, is global: a VPN group is placed as one unit, so its members must use the same deploy mode',
    });
    expect(onlyError(group('', 'deploy: { mode: global }'))).toMatchObject({ code: composeCodes.vpnPlacementSplit, path: 'services.web.deploy.mode', line: 8 });
  });

  it.each([
    ['node.labels.zone==eu', 'node.labels.zone==us'],
    ['node.role==manager', 'node.role!=manager'],
    ['node.hostname!=a', 'node.hostname==A'],
  ])('constraints "%s" (vpn) and "%s" (dependent) split the group', (ours, theirs) => {
    const error = onlyError(group(`deploy: { placement: { constraints: ["${ours}"] } }`, `deploy: { placement: { constraints: ["${theirs}"] } }`));
    expect(error).toMatchObject({
      code: composeCodes.vpnPlacementSplit, path: 'services.web.deploy.placement.constraints[0]', line: 8, service: 'web',
      message: `service "web" and "vpn" (its VPN) can never run on one node: constraint "${theirs}" of "web" contradicts "${ours}" of "vpn"; `
        + 'a VPN group is placed as one unit, on a node that meets the constraints of all its members',
    });
  });

  it('two dependents whose constraints contradict each other split the group too', () => {
    const content = group('', 'deploy: { placement: { constraints: ["node.labels.disk==ssd"] } }',
      '  db:\n    image: x\n    network_mode: "service:vpn"\n    deploy: { placement: { constraints: ["node.labels.disk==hdd"] } }\n');
    expect(onlyError(content)).toMatchObject({
      code: composeCodes.vpnPlacementSplit, path: 'services.db.deploy.placement.constraints[0]', service: 'db',
      message: expect.stringContaining('service "db" and "web" (another member of the same group) can never run on one node'),
    });
  });

  it.each([
    ['deploy: { replicas: 2 }', '', 'services.web', 'runs 1 replica but "vpn", whose network namespace it joins, runs 2'],
    ['', 'deploy: { replicas: 3 }', 'services.web.deploy.replicas', 'runs 3 replicas but "vpn", whose network namespace it joins, runs 1'],
    ['deploy: { replicas: 2 }', 'scale: 3', 'services.web.scale', 'runs 3 replicas but "vpn", whose network namespace it joins, runs 2'],
  ])('replicas that do not match 1:1 (vpn: %s, web: %s)', (vpnYaml, webYaml, path, what) => {
    expect(onlyError(group(vpnYaml, webYaml))).toMatchObject({
      code: composeCodes.vpnReplicas, path, service: 'web',
      message: `service "web" ${what}: each replica of "web" lives in the namespace of the replica of "vpn" with the same slot number, so both must run the same number`,
    });
  });

  it('the refusal comes before any side effect: the loader result carries no stack', () => {
    const result = loadCompose({ content: group('', 'ports: ["80:80"]'), stackName: 'app', env: {} });
    expect(result.ok).toBe(false);
    expect('stack' in result).toBe(false);
  });
});
