import { describe, expect, it } from 'vitest';
import { describeBindings, HostPortTable } from '../../../src/compose/host-port-table.ts';

describe('HostPortTable', () => {
  it('finds the first owner of an overlapping binding, by protocol, port and address', () => {
    const table = new HostPortTable<string>();
    table.add({ port: 80, protocol: 'tcp', hostIp: '127.0.0.1' }, 'loopback');
    table.add({ port: 80, protocol: 'tcp', hostIp: '::1' }, 'loopback6');
    expect(table.find({ port: 80, protocol: 'tcp' })).toBe('loopback');
    expect(table.find({ port: 80, protocol: 'tcp', hostIp: '0.0.0.0' })).toBe('loopback');
    expect(table.find({ port: 80, protocol: 'tcp', hostIp: '::' })).toBe('loopback6');
    expect(table.find({ port: 80, protocol: 'tcp', hostIp: '::1' })).toBe('loopback6');
    expect(table.find({ port: 80, protocol: 'tcp', hostIp: '10.0.0.1' })).toBeUndefined();
    expect(table.find({ port: 80, protocol: 'udp' })).toBeUndefined();
    expect(table.find({ port: 81, protocol: 'tcp' })).toBeUndefined();
    table.add({ port: 80, protocol: 'tcp' }, 'everywhere');
    expect(table.find({ port: 80, protocol: 'tcp', hostIp: '10.0.0.1' })).toBe('everywhere');
  });

  it('IPv6 addresses compare case-insensitively', () => {
    const table = new HostPortTable<string>();
    table.add({ port: 53, protocol: 'udp', hostIp: 'FE80::1' }, 'dns');
    expect(table.find({ port: 53, protocol: 'udp', hostIp: 'fe80::1' })).toBe('dns');
  });

  it('keeps 100,000 addresses on one port apart, and a wildcard finds the first of them', () => {
    // Lookups are Map reads by construction (see the module comment); what a test can check
    // without a clock is that the structure stays exact at this size. Timing belongs in bench/.
    const table = new HostPortTable<number>();
    let conflicts = 0;
    for (let i = 0; i < 100_000; i++) {
      const binding = { port: 8080, protocol: 'tcp' as const, hostIp: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}` };
      if (table.find(binding) !== undefined) conflicts += 1;
      table.add(binding, i);
    }
    expect(conflicts).toBe(0);
    expect(table.find({ port: 8080, protocol: 'tcp', hostIp: '10.1.134.159' })).toBe(99_999);
    expect(table.find({ port: 8080, protocol: 'tcp', hostIp: '0.0.0.0' })).toBe(0);
    expect(table.find({ port: 8080, protocol: 'tcp', hostIp: '::' })).toBeUndefined();
  });

  it('describes bindings compactly for messages', () => {
    expect(describeBindings([8080, 8081, 8082, 9000].map((port) => ({ port, protocol: 'tcp' as const })))).toBe('8080-8082,9000/tcp');
    expect(describeBindings([{ port: 53, protocol: 'udp', hostIp: '::1' }])).toBe('[::1]:53/udp');
    expect(describeBindings([{ port: 80, protocol: 'tcp', hostIp: '127.0.0.1' }])).toBe('127.0.0.1:80/tcp');
  });
});
