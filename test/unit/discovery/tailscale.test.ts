import { afterEach, describe, expect, it } from 'vitest';
import { createServer, get, type IncomingMessage, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiscoveryError } from '../../../src/discovery/discovery-error.ts';
import { discoverTailscalePeers, parseTailscaleStatus } from '../../../src/discovery/tailscale.ts';

const fixturePath = new URL('../../fixtures/tailscale-status.json', import.meta.url);
const fixture = async () => JSON.parse(await readFile(fixturePath, 'utf8')) as Record<string, any>;

interface FakeTailscaled {
  readonly socketPath: string;
  readonly requests: Array<{ host: string | undefined; method: string | undefined; url: string | undefined }>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/**
 * A LocalAPI stand-in on a real Unix socket. Like tailscaled it refuses any Host header but
 * local-tailscaled.sock with 403, so a client that forgets the header fails here as it would there.
 */
async function fakeTailscaled(answer: (req: IncomingMessage) => { status?: number; body?: string } | 'hang'): Promise<FakeTailscaled> {
  const dir = await mkdtemp(join(tmpdir(), 'tailscaled-'));
  const socketPath = join(dir, 'tailscaled.sock');
  const requests: FakeTailscaled['requests'] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ host: req.headers.host, method: req.method, url: req.url });
    if (req.headers.host !== 'local-tailscaled.sock') {
      res.writeHead(403).end('invalid localapi Host header\n');
      return;
    }
    const reply = answer(req);
    if (reply === 'hang') return;
    res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' }).end(reply.body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });
  return { socketPath, requests };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DiscoveryError);
  return (error as DiscoveryError).code;
}

describe('tailscale discovery over the LocalAPI socket', () => {
  it('reads the status with Host local-tailscaled.sock and keeps online peers with the tag, IPv4 first', async () => {
    const body = JSON.stringify(await fixture());
    const ts = await fakeTailscaled(() => ({ body }));
    const found = await discoverTailscalePeers({ socketPath: ts.socketPath, tag: 'tag:constellation' });
    expect(ts.requests).toEqual([{ host: 'local-tailscaled.sock', method: 'GET', url: '/localapi/v0/status' }]);
    // node-d carries the tag but is offline.
    expect(found.peers).toEqual([
      { id: 'nPeerB2CNTRL', hostName: 'node-b', dnsName: 'node-b.tail1a2b3c.ts.net', address: '100.101.10.2', tailscaleIps: ['100.101.10.2', 'fd7a:115c:a1e0::1001:a02'] },
      { id: expect.any(String), hostName: 'node-c', dnsName: 'node-c.tail1a2b3c.ts.net', address: '100.101.10.3', tailscaleIps: ['100.101.10.3', 'fd7a:115c:a1e0::1001:a03'] },
    ]);
    expect(found.self).toEqual({ hostName: 'node-a', dnsName: 'node-a.tail1a2b3c.ts.net', tailscaleIps: ['100.101.10.1', 'fd7a:115c:a1e0::1001:a01'] });
  });

  it('filters by the configured tag', async () => {
    const body = JSON.stringify(await fixture());
    const ts = await fakeTailscaled(() => ({ body }));
    const found = await discoverTailscalePeers({ socketPath: ts.socketPath, tag: 'tag:vpn-egress' });
    expect(found.peers.map((p) => p.hostName)).toEqual(['node-c']);
    expect((await discoverTailscalePeers({ socketPath: ts.socketPath, tag: 'tag:nobody' })).peers).toEqual([]);
  });

  it('the fake refuses a wrong Host as tailscaled does (the header is what makes the call work)', async () => {
    const ts = await fakeTailscaled(() => ({ body: '{}' }));
    const response = await new Promise<number | undefined>((resolve, reject) => {
      get({ socketPath: ts.socketPath, path: '/localapi/v0/status' }, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on('error', reject);
    });
    expect(response).toBe(403);
    expect(ts.requests[0]?.host).toBe('localhost');
  });

  it('prefers IPv4 but dials IPv6 when a peer has only that', async () => {
    const status = await fixture();
    const key = Object.keys(status.Peer)[0]!;
    status.Peer[key].TailscaleIPs = ['fd7a:115c:a1e0::1001:a02'];
    const ts = await fakeTailscaled(() => ({ body: JSON.stringify(status) }));
    const found = await discoverTailscalePeers({ socketPath: ts.socketPath, tag: 'tag:constellation' });
    expect(found.peers.find((p) => p.hostName === 'node-b')?.address).toBe('fd7a:115c:a1e0::1001:a02');
  });

  it('a non-200 answer is discovery_http_status with the status and body', async () => {
    const ts = await fakeTailscaled(() => ({ status: 500, body: 'backend error' }));
    const promise = discoverTailscalePeers({ socketPath: ts.socketPath, tag: 'tag:constellation' });
    await expect(promise).rejects.toThrow(/HTTP 500: backend error/);
    expect(await codeOf(discoverTailscalePeers({ socketPath: ts.socketPath, tag: 'x' }))).toBe('discovery_http_status');
  });

  it('a missing socket is discovery_unavailable and names the socket and the config key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'no-tailscaled-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const socketPath = join(dir, 'tailscaled.sock');
    const promise = discoverTailscalePeers({ socketPath, tag: 'tag:constellation' });
    await expect(promise).rejects.toThrow(new RegExp(`${socketPath}.*ENOENT.*cluster.discovery.tailscale.socket`));
    expect(await codeOf(discoverTailscalePeers({ socketPath, tag: 'x' }))).toBe('discovery_unavailable');
  });

  it('a tailscaled that never answers is discovery_timeout', async () => {
    const ts = await fakeTailscaled(() => 'hang');
    expect(await codeOf(discoverTailscalePeers({ socketPath: ts.socketPath, tag: 'x', timeoutMs: 100 }))).toBe('discovery_timeout');
  });

  it('a body that is not JSON is discovery_malformed', async () => {
    const ts = await fakeTailscaled(() => ({ body: '<html>not json' }));
    const promise = discoverTailscalePeers({ socketPath: ts.socketPath, tag: 'x' });
    await expect(promise).rejects.toThrow(/not JSON/);
    expect(await codeOf(discoverTailscalePeers({ socketPath: ts.socketPath, tag: 'x' }))).toBe('discovery_malformed');
  });

  it('a BackendState other than Running is discovery_not_running', async () => {
    const status = { ...(await fixture()), BackendState: 'NeedsLogin' };
    const ts = await fakeTailscaled(() => ({ body: JSON.stringify(status) }));
    const promise = discoverTailscalePeers({ socketPath: ts.socketPath, tag: 'x' });
    await expect(promise).rejects.toThrow(/"NeedsLogin"/);
    expect(await codeOf(discoverTailscalePeers({ socketPath: ts.socketPath, tag: 'x' }))).toBe('discovery_not_running');
  });
});

describe('tailscale status schema checks', () => {
  const peerKey = 'nodekey:93ef37c6157138222b21a42be52183d08d75cd4fed49c1cbba571b06a69e39a4';
  const mutate = async (edit: (status: Record<string, any>) => void) => {
    const status = await fixture();
    edit(status);
    return status;
  };
  const malformed = (status: unknown) => {
    try {
      parseTailscaleStatus(status, 'tag:constellation');
    } catch (error) {
      expect(error).toBeInstanceOf(DiscoveryError);
      expect((error as DiscoveryError).code).toBe('discovery_malformed');
      return (error as Error).message;
    }
    throw new Error('expected discovery_malformed');
  };

  it('names what is wrong, down to the peer and the list index', async () => {
    expect(malformed([])).toMatch(/the status must be a JSON object/);
    expect(malformed(null)).toMatch(/the status must be a JSON object/);
    expect(malformed(await mutate((s) => delete s.BackendState))).toMatch(/BackendState must be a string/);
    expect(malformed(await mutate((s) => (s.Peer = [])))).toMatch(/Peer must be a JSON object/);
    expect(malformed(await mutate((s) => (s.Peer[peerKey].TailscaleIPs = '100.101.10.2')))).toMatch(new RegExp(`Peer\\["${peerKey}"\\]\\.TailscaleIPs must be a list of strings`));
    expect(malformed(await mutate((s) => (s.Peer[peerKey].TailscaleIPs = ['100.101.10.2', 7])))).toMatch(/TailscaleIPs\[1\] must be a string/);
    expect(malformed(await mutate((s) => (s.Peer[peerKey].TailscaleIPs = ['100.101.10.999'])))).toMatch(/TailscaleIPs\[0\] "100.101.10.999" is not an IP address/);
    expect(malformed(await mutate((s) => (s.Peer[peerKey].Tags = 'tag:constellation')))).toMatch(/\.Tags must be a list of strings/);
    expect(malformed(await mutate((s) => (s.Peer[peerKey].Online = 'yes')))).toMatch(/\.Online must be true or false/);
    expect(malformed(await mutate((s) => delete s.Peer[peerKey].ID))).toMatch(/\.ID must be a non-empty string/);
    expect(malformed(await mutate((s) => (s.Peer[peerKey].HostName = null)))).toMatch(/\.HostName must be a string/);
    expect(malformed(await mutate((s) => (s.Self = 'me')))).toMatch(/Self must be a JSON object/);
  });

  it('accepts what Tailscale really omits: no peers (null), no Tags, no Self', async () => {
    expect(parseTailscaleStatus(await mutate((s) => (s.Peer = null)), 'tag:constellation').peers).toEqual([]);
    expect(parseTailscaleStatus(await mutate((s) => delete s.Peer), 'tag:constellation').peers).toEqual([]);
    const untagged = parseTailscaleStatus(await mutate((s) => delete s.Peer[peerKey].Tags), 'tag:constellation');
    expect(untagged.peers.map((p) => p.hostName)).toEqual(['node-c']);
    expect(parseTailscaleStatus(await mutate((s) => delete s.Self), 'tag:constellation').self).toBeUndefined();
  });
});
