import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { NodeView } from '../../src/api/routes/nodes.ts';
import { eventually } from '../support/eventually.ts';
import { freeLoopbackPort } from '../support/free-port.ts';
import { ClusterMemberEnvironment } from './support/cluster-member-environment.ts';
import type { DaemonProcess, LogLine } from './support/daemon-process.ts';
import { FakeTailscaled } from './support/fake-tailscaled.ts';

// Joining without --join, with real daemon processes on loopback: through `cluster.seeds` (a dead
// seed first, so the next one is tried) and through Tailscale discovery against a LocalAPI
// stand-in answering the real status shape (test/fixtures/tailscale-status.json) whose peers'
// Tailscale IPs are loopback addresses. Every member uses the same cluster port, each on its own
// 127.0.0.x address, as every tailnet node would on its own Tailscale IP.
const dockerHost = `unix://${inject('dockerSocket')}`;
const members: ClusterMemberEnvironment[] = [];
const fakes: FakeTailscaled[] = [];

afterAll(async () => {
  for (const member of members) await member.dispose();
  for (const fake of fakes) await fake.stop();
});

async function member(nodeId: string, host: string, port: number, extraConfig = ''): Promise<ClusterMemberEnvironment> {
  const created = await ClusterMemberEnvironment.create(nodeId, { dockerHost, clusterHost: host, clusterPort: port, extraConfig });
  members.push(created);
  return created;
}

async function listening(daemon: DaemonProcess): Promise<void> {
  await daemon.waitForLog((line) => line.msg === 'api listening', 90_000);
}

function errorCode(line: LogLine): string | undefined {
  return (line.err as { code?: string } | undefined)?.code;
}

/** The fixture, with the peers' Tailscale IPs replaced: node-b (first by DNS name) → a dead address. */
async function tailscaleStatus(ips: Record<string, string>, break_?: string): Promise<string> {
  const status = JSON.parse(await readFile(new URL('../fixtures/tailscale-status.json', import.meta.url), 'utf8')) as { Peer: Record<string, { HostName: string; TailscaleIPs: unknown[] }> };
  for (const peer of Object.values(status.Peer)) {
    const ip = ips[peer.HostName];
    if (ip !== undefined) peer.TailscaleIPs = [ip, ...peer.TailscaleIPs.slice(1)];
    if (peer.HostName === break_) peer.TailscaleIPs = [42];
  }
  return JSON.stringify(status);
}

describe('joining through seeds and Tailscale discovery', () => {
  it('a seed list is tried in turn, Tailscale peers are dialled, and a malformed or mistyped source changes nothing', async () => {
    const port = await freeLoopbackPort();
    const d1 = await member('d1', '127.0.0.2', port);
    await listening(d1.spawn(['--bootstrap']));
    const { manager } = await eventually(async () => d1.json<{ manager: string }>('/v1/cluster/tokens'), { timeoutMs: 30_000, what: 'join tokens' });

    // Seeds: the first is dead (nothing listens there), the second is d1.
    const d2 = await member('d2', '127.0.0.3', port, `\n  token: ${manager}\n  seeds: ["127.0.0.9:${port}", "127.0.0.2:${port}"]`);
    const d2Daemon = d2.spawn();
    await listening(d2Daemon);
    expect(d2Daemon.lines.some((line) => line.msg === 'join attempt failed; trying the next seed' && line.seed === `127.0.0.9:${port}`)).toBe(true);
    expect(d2Daemon.lines.find((line) => String(line.msg).startsWith('joined the cluster'))?.seed).toBe(`127.0.0.2:${port}`);

    // Tailscale: node-b (dialled first, sorted by DNS name) is dead, node-c is d2 (a follower:
    // joining through it works), node-d is offline and never dialled.
    const tailscaled = await FakeTailscaled.start();
    fakes.push(tailscaled);
    tailscaled.body = await tailscaleStatus({ 'node-b': '127.0.0.8', 'node-c': '127.0.0.3', 'node-d': '127.0.0.2' });
    const discovery = `\n  token: ${manager}\n  discovery:\n    tailscale:\n      enabled: true\n      socket: ${tailscaled.socketPath}\n      tag: "tag:constellation"`;
    const d3 = await member('d3', '127.0.0.4', port, discovery);
    const d3Daemon = d3.spawn();
    await listening(d3Daemon);
    expect(tailscaled.hosts.length).toBeGreaterThan(0);
    expect(tailscaled.hosts.every((host) => host === 'local-tailscaled.sock')).toBe(true);
    const dialled = d3Daemon.lines.filter((line) => line.msg === 'join attempt failed; trying the next seed').map((line) => line.seed);
    expect(dialled).toContain(`127.0.0.8:${port}`);
    expect(dialled).not.toContain(`127.0.0.2:${port}`);
    expect(d3Daemon.lines.find((line) => String(line.msg).startsWith('joined the cluster'))?.seed).toBe(`127.0.0.3:${port}`);
    await eventually(async () => {
      const nodes = await d3.json<NodeView[]>('/v1/nodes');
      return nodes.length === 3 && nodes.every((node) => node.status === 'ready' && node.raft === 'voter');
    }, { timeoutMs: 30_000, what: 'three ready voters, seen from the node that joined through Tailscale' });
    const before = await d1.json<NodeView[]>('/v1/nodes');

    // A status that is not tailscaled's shape: refused, naming the field; nothing joined.
    tailscaled.body = await tailscaleStatus({ 'node-c': '127.0.0.3' }, 'node-c');
    const d4 = await member('d4', '127.0.0.5', port, discovery);
    const d4Daemon = d4.spawn();
    expect((await d4Daemon.exited).code).toBe(2);
    const malformed = d4Daemon.lines.find((line) => errorCode(line) === 'discovery_malformed');
    expect((malformed?.err as { message?: string } | undefined)?.message).toMatch(/Peer\["nodekey:[0-9a-f]+"\]\.TailscaleIPs\[0\] must be a string/);

    // A seed that is not host:port: refused naming the entry, before anything is dialled.
    const d5 = await member('d5', '127.0.0.6', port, `\n  token: ${manager}\n  seeds: ["127.0.0.2:${port}", "nohost"]`);
    const d5Daemon = d5.spawn();
    expect((await d5Daemon.exited).code).toBe(2);
    const badSeed = d5Daemon.lines.find((line) => errorCode(line) === 'seed_malformed');
    expect((badSeed?.err as { message?: string } | undefined)?.message).toContain('cluster.seeds[1]');

    expect((await d1.json<NodeView[]>('/v1/nodes')).map((node) => node.id)).toEqual(before.map((node) => node.id));
  }, 300_000);
});
