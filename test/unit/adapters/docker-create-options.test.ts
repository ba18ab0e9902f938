import { describe, expect, it } from 'vitest';
import { toCreateOptions } from '../../../src/adapters/docker/create-options.ts';
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
