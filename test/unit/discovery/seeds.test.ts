import { describe, expect, it } from 'vitest';
import { DiscoveryError } from '../../../src/discovery/discovery-error.ts';
import { formatAddress, parseSeed, parseSeeds } from '../../../src/discovery/seeds.ts';

function failure(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DiscoveryError);
    return { code: (error as DiscoveryError).code, message: (error as Error).message };
  }
  throw new Error('expected a DiscoveryError');
}

describe('static seeds', () => {
  it('parses host names, IPv4 and bracketed IPv6 with their ports', () => {
    expect(parseSeeds(['node-a.example.org:7946', '10.0.0.2:7946', '[fd7a:115c:a1e0::1001:a02]:7000', ' node-b:1 '])).toEqual([
      { host: 'node-a.example.org', port: 7946 },
      { host: '10.0.0.2', port: 7946 },
      { host: 'fd7a:115c:a1e0::1001:a02', port: 7000 },
      { host: 'node-b', port: 1 },
    ]);
    expect(parseSeeds([])).toEqual([]);
  });

  it('formats back to a dialable host:port, IPv6 in brackets', () => {
    expect(formatAddress(parseSeed('[::1]:7946'))).toBe('[::1]:7946');
    expect(formatAddress(parseSeed('10.0.0.2:80'))).toBe('10.0.0.2:80');
  });

  it.each([
    ['node-a', /has no port/],
    [':7946', /no host before the port/],
    ['node-a:', /port "" must be a number from 1 to 65535/],
    ['node-a:0', /port "0"/],
    ['node-a:65536', /port "65536"/],
    ['node-a:79x6', /port "79x6"/],
    ['fd7a::1:7946', /put it in brackets/],
    ['[fd7a::1:7946', /never closes it/],
    ['[10.0.0.2]:7946', /is not an IPv6 address/],
    ['[fd7a::1]7946', /needs a port after the brackets/],
    ['node_a:7946', /neither an IPv4 address nor a host name/],
    ['10.0.0.999:7946', /neither an IPv4 address nor a host name/],
    ['-node:7946', /neither an IPv4 address nor a host name/],
  ])('refuses %j as seed_malformed, naming the entry', (text, message) => {
    const { code, message: text2 } = failure(() => parseSeeds(['ok-host:1', text]));
    expect(code).toBe('seed_malformed');
    expect(text2).toMatch(/^cluster\.seeds\[1\]: /);
    expect(text2).toMatch(message);
  });

  it('refuses a non-list and a non-string entry', () => {
    expect(failure(() => parseSeeds('node-a:7946')).message).toMatch(/cluster.seeds: expected a list/);
    expect(failure(() => parseSeeds([7946])).message).toMatch(/cluster.seeds\[0\]: expected a "host:port" string, got number/);
    expect(failure(() => parseSeeds([null])).message).toMatch(/got null/);
  });

  it('refuses a duplicate, naming both entries (also across spellings of one address)', () => {
    expect(failure(() => parseSeeds(['node-a:7946', 'node-b:7946', 'NODE-A:7946']))).toEqual({ code: 'seed_duplicate', message: 'cluster.seeds[2]: node-a:7946 is already cluster.seeds[0]' });
    expect(failure(() => parseSeeds(['[FD7A::1]:1', '[fd7a::1]:1'])).code).toBe('seed_duplicate');
  });
});
