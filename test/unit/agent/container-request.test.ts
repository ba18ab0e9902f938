import { describe, expect, it } from 'vitest';
import { hasHealthcheck, toCreateContainerRequest } from '../../../src/agent/container-request.ts';
import { containerName, parseLabels } from '../../../src/agent/labels.ts';
import { serviceSpecHash } from '../../../src/agent/spec-hash.ts';
import { service } from './fixtures.ts';

describe('container request mapping', () => {
  const spec = service('web', {
    labels: { 'constellation.node': 'spoofed', team: 'a' },
    environment: { A: '1' },
    ports: [{ target: 80, published: 8080, protocol: 'tcp', mode: 'ingress' }, { target: 53, published: 5353, protocol: 'udp', hostIp: '127.0.0.1', mode: 'host' }],
    volumes: [{ type: 'volume', source: 'data', target: '/data', readOnly: false }],
    healthcheck: { test: ['CMD', 'true'], intervalMs: 1000, timeoutMs: 500, retries: 2, startPeriodMs: 0, disable: false },
    limits: { cpus: 0.5, memoryBytes: 1 << 20, pids: 50 },
  });
  const withDeploy = spec;
  const request = toCreateContainerRequest({ stack: 'app', service: 'web', slot: 2 }, withDeploy, 'h1', 'n1');

  it('names the container and sets our labels over the user labels', () => {
    expect(request.name).toBe('app_web_2');
    expect(request.labels).toMatchObject({ team: 'a', 'constellation.node': 'n1', 'constellation.slot': '2', 'constellation.spec-hash': 'h1' });
    expect(parseLabels(request.labels)).toEqual({ stack: 'app', service: 'web', slot: 2, specHash: 'h1', nodeId: 'n1' });
  });

  it('maps ports, mounts, healthcheck and limits', () => {
    // An ingress port is reached through the forwarders: the replica takes an ephemeral host port.
    expect(request.ports).toEqual([{ target: 80, protocol: 'tcp' }, { target: 53, published: 5353, protocol: 'udp', hostIp: '127.0.0.1' }]);
    expect(request.mounts).toEqual([{ type: 'volume', source: 'data', target: '/data', readOnly: false }]);
    expect(request.healthcheck).toEqual({ test: ['CMD', 'true'], intervalMs: 1000, timeoutMs: 500, retries: 2, startPeriodMs: 0 });
    expect(request).toMatchObject({ nanoCpus: 500_000_000, memoryBytes: 1 << 20, pidsLimit: 50, env: { A: '1' }, command: ['sleep', '3600'] });
    expect(hasHealthcheck(withDeploy)).toBe(true);
  });

  it('passes stop_signal and healthcheck start_interval on, and leaves them out when unset', () => {
    const tuned = { ...withDeploy, stopSignal: 'SIGINT', healthcheck: { ...withDeploy.healthcheck!, startIntervalMs: 250 } };
    const tunedRequest = toCreateContainerRequest({ stack: 'app', service: 'web', slot: 1 }, tuned, 'h', 'n');
    expect(tunedRequest.stopSignal).toBe('SIGINT');
    expect(tunedRequest.healthcheck).toEqual({ test: ['CMD', 'true'], intervalMs: 1000, timeoutMs: 500, retries: 2, startPeriodMs: 0, startIntervalMs: 250 });
    expect(request).not.toHaveProperty('stopSignal');
    expect(request.healthcheck).not.toHaveProperty('startIntervalMs');
    // They shape the container, so changing them must replace the replicas.
    expect(serviceSpecHash(tuned)).not.toBe(serviceSpecHash(withDeploy));
    expect(serviceSpecHash({ ...withDeploy, stopSignal: 'SIGQUIT' })).not.toBe(serviceSpecHash({ ...withDeploy, stopSignal: 'SIGINT' }));
  });

  it('disables an image healthcheck when asked', () => {
    const disabled = { ...withDeploy, healthcheck: { ...withDeploy.healthcheck!, disable: true } };
    expect(toCreateContainerRequest({ stack: 'a', service: 'b', slot: 1 }, disabled, 'h', 'n').healthcheck).toEqual({ test: ['NONE'] });
    expect(hasHealthcheck(disabled)).toBe(false);
  });

  it('rejects labels that are not ours or are malformed', () => {
    expect(parseLabels({})).toBeUndefined();
    expect(parseLabels({ 'constellation.stack': 'a', 'constellation.service': 'b', 'constellation.slot': '0', 'constellation.spec-hash': 'h', 'constellation.node': 'n' })).toBeUndefined();
    expect(containerName({ stack: 'a', service: 'b', slot: 3 })).toBe('a_b_3');
  });
});

describe('container request of a VPN group dependent', () => {
  const dependent = service('web', { networkMode: 'service:gw' });
  const slot = { stack: 'app', service: 'web', slot: 1 };

  it('joins the VPN container by id: the engine knows containers, not services', () => {
    expect(toCreateContainerRequest(slot, dependent, 'h1', 'n1', 'app_web_1', 'abc123').networkMode).toBe('container:abc123');
  });

  it('is never made without a VPN container to join (it would run on another network)', () => {
    expect(() => toCreateContainerRequest(slot, dependent, 'h1', 'n1')).toThrow(expect.objectContaining({ code: 'VPN_DEPENDENT_WITHOUT_VPN' }));
  });

  it('leaves every other network mode as the file says', () => {
    expect(toCreateContainerRequest(slot, service('web', { networkMode: 'host' }), 'h1', 'n1', 'app_web_1', 'abc123').networkMode).toBe('host');
  });
});
