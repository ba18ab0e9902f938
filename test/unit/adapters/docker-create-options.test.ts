import { describe, expect, it } from 'vitest';
import { toCreateOptions, toNetworkCreateOptions } from '../../../src/adapters/docker/create-options.ts';
import { toCreateContainerRequest } from '../../../src/agent/container-request.ts';
import { loadCompose } from '../../../src/compose/load-compose.ts';
import type { CreateContainerRequest } from '../../../src/seams/container-runtime.ts';

const minimal: CreateContainerRequest = {
  name: 'app_web_1', image: 'busybox:1', env: {}, labels: {}, ports: [], mounts: [], capAdd: [], capDrop: [], devices: [],
};

describe('create request → dockerode create options', () => {
  it('maps every field of the request, durations in nanoseconds', () => {
    const options = toCreateOptions({
      name: 'app_web_1',
      image: 'busybox:1',
      command: ['httpd', '-f'],
      entrypoint: ['/bin/sh', '-c'],
      env: { A: '1', EMPTY: '' },
      labels: { team: 'a' },
      ports: [{ target: 80, published: 8080, protocol: 'tcp', hostIp: '127.0.0.1' }, { target: 53, protocol: 'udp' }],
      mounts: [{ type: 'bind', source: '/srv/www', target: '/www', readOnly: true }, { type: 'tmpfs', target: '/tmp', readOnly: false }],
      healthcheck: { test: ['CMD', 'true'], intervalMs: 1500, timeoutMs: 700, retries: 4, startPeriodMs: 2000, startIntervalMs: 500 },
      networkMode: 'bridge',
      capAdd: ['NET_ADMIN'],
      capDrop: ['MKNOD'],
      devices: [{ hostPath: '/dev/null', containerPath: '/dev/nothing', permissions: 'rw' }],
      user: '65534:65534',
      workingDir: '/www',
      stopGracePeriodMs: 2500,
      stopSignal: 'SIGINT',
      nanoCpus: 500_000_000,
      memoryBytes: 64 * 1024 * 1024,
      pidsLimit: 50,
    });
    expect(options).toEqual({
      name: 'app_web_1',
      Image: 'busybox:1',
      Cmd: ['httpd', '-f'],
      Entrypoint: ['/bin/sh', '-c'],
      Env: ['A=1', 'EMPTY='],
      Labels: { team: 'a' },
      ExposedPorts: { '80/tcp': {}, '53/udp': {} },
      Healthcheck: { Test: ['CMD', 'true'], Interval: 1.5e9, Timeout: 7e8, Retries: 4, StartPeriod: 2e9, StartInterval: 5e8 },
      User: '65534:65534',
      WorkingDir: '/www',
      StopTimeout: 3,
      StopSignal: 'SIGINT',
      HostConfig: {
        PortBindings: { '80/tcp': [{ HostPort: '8080', HostIp: '127.0.0.1' }], '53/udp': [{ HostPort: '' }] },
        Mounts: [
          { Type: 'bind', Source: '/srv/www', Target: '/www', ReadOnly: true },
          { Type: 'tmpfs', Source: '', Target: '/tmp', ReadOnly: false },
        ],
        NetworkMode: 'bridge',
        CapAdd: ['NET_ADMIN'],
        CapDrop: ['MKNOD'],
        Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/nothing', CgroupPermissions: 'rw' }],
        NanoCpus: 500_000_000,
        Memory: 64 * 1024 * 1024,
        PidsLimit: 50,
        RestartPolicy: { Name: 'no' },
      },
    });
  });

  it('leaves out what the request leaves out, so the image and engine defaults apply', () => {
    const options = toCreateOptions({ ...minimal, healthcheck: { test: ['CMD', 'true'] } });
    expect(options).not.toHaveProperty('StopSignal');
    expect(options).not.toHaveProperty('StopTimeout');
    expect(options.Healthcheck).toEqual({ Test: ['CMD', 'true'] });
    expect(options.HostConfig).toEqual({ Mounts: [], CapAdd: [], CapDrop: [], Devices: [], RestartPolicy: { Name: 'no' } });
  });
});

describe('stack networks → create options', () => {
  function request(yaml: string, service = 'web'): CreateContainerRequest {
    const loaded = loadCompose({ content: yaml, stackName: 'shop', env: {} });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    return toCreateContainerRequest({ stack: 'shop', service, slot: 1 }, loaded.stack.services.find((s) => s.name === service)!, 'h', 'node-1');
  }

  it('joins the first network at create, with the service name as alias and the network as NetworkMode', () => {
    const options = toCreateOptions(request('services:\n  web: { image: x }\n'));
    expect(options.HostConfig?.NetworkMode).toBe('shop_default');
    expect(options.NetworkingConfig).toEqual({ EndpointsConfig: { shop_default: { Aliases: ['web'] } } });
  });

  it('a fixed address goes into IPAMConfig; only the first network is in the create body (the rest are connected)', () => {
    const r = request('services:\n  web:\n    image: x\n    networks: { a: { ipv4_address: 10.9.0.5 }, b: { aliases: [www] } }\nnetworks:\n  a: { ipam: { config: [{ subnet: 10.9.0.0/24 }] } }\n  b: {}\n');
    expect(r.networks!.map((n) => n.name)).toEqual(['shop_a', 'shop_b']);
    expect(toCreateOptions(r).NetworkingConfig).toEqual({ EndpointsConfig: { shop_a: { Aliases: ['web'], IPAMConfig: { IPv4Address: '10.9.0.5' } } } });
  });

  it('the network create body: bridge, our labels winning over the user\'s, ipam, options, CheckDuplicate', () => {
    const r = request('services:\n  web: { image: x, networks: [a] }\nnetworks:\n  a:\n    internal: true\n    attachable: true\n    labels: { constellation.stack: forged, team: t }\n    driver_opts: { mtu: 1400 }\n    ipam: { config: [{ subnet: 10.9.0.0/24, ip_range: 10.9.0.128/25, gateway: 10.9.0.1, aux_addresses: { host1: 10.9.0.5 } }] }\n');
    const create = r.networks![0]!.create!;
    expect(create.ownerLabels).toEqual({ 'constellation.stack': 'shop' });
    expect(toNetworkCreateOptions(create)).toEqual({
      Name: 'shop_a',
      CheckDuplicate: true,
      Driver: 'bridge',
      Internal: true,
      Attachable: true,
      EnableIPv6: false,
      Options: { mtu: '1400' },
      Labels: { team: 't', 'constellation.stack': 'shop', 'constellation.network': 'a', 'constellation.node': 'node-1' },
      IPAM: { Driver: 'default', Config: [{ Subnet: '10.9.0.0/24', IPRange: '10.9.0.128/25', Gateway: '10.9.0.1', AuxiliaryAddresses: { host1: '10.9.0.5' } }] },
    });
  });

  it('an external network is joined but never created', () => {
    const r = request('services:\n  web: { image: x, networks: [corp] }\nnetworks:\n  corp: { external: true }\n');
    expect(r.networks).toEqual([{ name: 'corp', aliases: ['web'] }]);
  });

  it('network_mode wins: no networking config', () => {
    const options = toCreateOptions(request('services:\n  web: { image: x, network_mode: none }\n'));
    expect(options.HostConfig?.NetworkMode).toBe('none');
    expect(options.NetworkingConfig).toBeUndefined();
  });
});
