import { describe, expect, it } from 'vitest';
import type { ContainerView } from '../../../src/actors/agent-types.ts';
import { publishedPorts } from '../../../src/adapters/docker/container-summary.ts';
import { hostOfAddress, ingressTable, withLocalBackends, type IngressInput } from '../../../src/ingress/ingress-table.ts';
import { service, stack } from '../agent/fixtures.ts';

const web = service('web', { replicas: 3, ports: [{ target: 80, published: 8080, protocol: 'tcp', mode: 'ingress' }, { target: 53, published: 5353, protocol: 'udp', mode: 'ingress' }] });
const hostMode = service('direct', { ports: [{ target: 80, published: 9090, protocol: 'tcp', mode: 'host' }, { target: 81, protocol: 'tcp', mode: 'ingress' }] });
const checked = service('checked', { replicas: 2, ports: [{ target: 80, published: 7070, protocol: 'tcp', mode: 'ingress' }], healthcheck: { test: ['CMD', 'true'], intervalMs: 1000, timeoutMs: 500, retries: 1, startPeriodMs: 0, disable: false } });

function replica(name: string, node: string, over: Partial<ContainerView> = {}): ContainerView & { node: string } {
  const [, svc, slot] = name.split('_');
  return {
    name, stack: 'shop', service: svc!, slot: Number(slot), image: 'x', specHash: 'h', state: 'running', health: 'none', restarts: 0, node,
    ports: [{ target: 80, protocol: 'tcp', hostPort: 30_000 + Number(slot) }, { target: 53, protocol: 'udp', hostPort: 31_000 + Number(slot) }],
    ...over,
  };
}

function input(containers: (ContainerView & { node: string })[]): IngressInput {
  return {
    stacks: [{ name: 'shop', spec: stack('shop', [web, hostMode, checked]) }],
    containers,
    localNodeId: 'n1',
    nodeHost: (id) => ({ n2: '10.0.0.2', n3: '10.0.0.3' })[id],
  };
}

describe('ingress table', () => {
  it('one listener per ingress port with a published port; host-mode and unpublished ports get none', () => {
    const table = ingressTable(input([]));
    expect(table.map((l) => l.key).sort()).toEqual(['tcp/*/7070', 'tcp/*/8080', 'udp/*/5353']);
    expect(table.every((l) => l.backends.length === 0)).toBe(true);
  });

  it('running replicas on any node are backends at their node\'s address; loopback on a node without one', () => {
    const table = ingressTable(input([replica('shop_web_1', 'n1'), replica('shop_web_2', 'n2'), replica('shop_web_3', 'n3')]));
    expect(table.find((l) => l.key === 'tcp/*/8080')!.backends).toEqual([
      { host: '127.0.0.1', port: 30_001, replica: 'shop_web_1', node: 'n1' },
      { host: '10.0.0.2', port: 30_002, replica: 'shop_web_2', node: 'n2' },
      { host: '10.0.0.3', port: 30_003, replica: 'shop_web_3', node: 'n3' },
    ]);
    expect(table.find((l) => l.key === 'udp/*/5353')!.backends.map((b) => b.port)).toEqual([31_001, 31_002, 31_003]);
    const withAddress = ingressTable({ ...input([replica('shop_web_1', 'n2')]), localNodeId: 'n2' });
    expect(withAddress.find((l) => l.key === 'tcp/*/8080')!.backends[0]!.host).toBe('10.0.0.2');
  });

  it('a stopping replica, one of any other phase, one whose ports are unknown or whose node has no address is no backend', () => {
    const table = ingressTable(input([
      replica('shop_web_1', 'n1', { state: 'stopping' }),
      replica('shop_web_2', 'n2', { state: 'starting' }),
      replica('shop_web_3', 'n9'),
      replica('shop_web_4', 'n1', { ports: undefined }),
      replica('shop_web_5', 'n1', { state: 'removing' }),
      replica('shop_web_6', 'n3'),
    ]));
    expect(table.find((l) => l.key === 'tcp/*/8080')!.backends.map((b) => b.replica)).toEqual(['shop_web_6']);
  });

  it('with a healthcheck only healthy replicas serve: starting (or not yet reported) and unhealthy ones do not', () => {
    const table = ingressTable(input([
      replica('shop_checked_1', 'n1', { health: 'none' }),
      replica('shop_checked_2', 'n2', { health: 'starting' }),
      replica('shop_checked_3', 'n3', { health: 'unhealthy' }),
      replica('shop_checked_4', 'n3', { health: 'healthy' }),
    ]));
    expect(table.find((l) => l.key === 'tcp/*/7070')!.backends.map((b) => b.replica)).toEqual(['shop_checked_4']);
  });

  it('an image healthcheck (replicas reporting health) gates the service too', () => {
    const table = ingressTable(input([replica('shop_web_1', 'n1', { health: 'starting' }), replica('shop_web_2', 'n1', { health: 'none' }), replica('shop_web_3', 'n2', { health: 'healthy' })]));
    expect(table.find((l) => l.key === 'tcp/*/8080')!.backends.map((b) => b.replica)).toEqual(['shop_web_3']);
  });

  it('a worker takes the cluster\'s table from its manager, with its own replicas from its agent', () => {
    const remote = ingressTable({ ...input([replica('shop_web_1', 'n2'), replica('shop_web_2', 'w1', { state: 'stopping' }), replica('shop_web_3', 'w1')]), localNodeId: '' });
    // The manager still sees w1's replica 3; w1's own agent already has it stopping, and runs replica 4.
    const local = ingressTable({ ...input([replica('shop_web_3', 'w1', { state: 'stopping' }), replica('shop_web_4', 'w1')]), localNodeId: 'w1' });
    const merged = withLocalBackends(remote, local, 'w1');
    expect(merged.find((l) => l.key === 'tcp/*/8080')!.backends.map((b) => b.replica)).toEqual(['shop_web_4', 'shop_web_1']);
    // Before the manager sent anything, the worker serves what it runs itself.
    expect(withLocalBackends([], local, 'w1').find((l) => l.key === 'tcp/*/8080')!.backends.map((b) => b.replica)).toEqual(['shop_web_4']);
  });

  it('parses engine port maps and cluster addresses', () => {
    expect(publishedPorts({ '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '32768' }, { HostIp: '::', HostPort: '32768' }], '53/udp': null, '9/sctp': [{ HostPort: '' }] }))
      .toEqual([{ target: 80, protocol: 'tcp', hostPort: 32768 }]);
    expect(hostOfAddress('10.1.2.3:7421')).toBe('10.1.2.3');
    expect(hostOfAddress('[fd7a::1]:7421')).toBe('fd7a::1');
    expect(hostOfAddress('nonsense')).toBeUndefined();
  });
});
