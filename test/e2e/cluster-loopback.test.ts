import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';
import { startDaemon, type RunningDaemon } from '../../src/daemon/start-daemon.ts';
import { createLogger } from '../../src/log/create-logger.ts';
import { eventually } from '../support/eventually.ts';
import { freeLoopbackPort as freePort } from '../support/free-port.ts';
import { removeStackContainers, stackContainers } from './support/engine-inspect.ts';
import { recordingClient } from '../unit/observe/inspect-support.ts';

// Three managers on loopback, sharing the suite's private engine (each agent lists only the
// containers labelled with its own node, and slots keep names unique across the cluster):
// bootstrap, join with the manager token, deploy through a follower, and see the scheduler's
// spread and constraint on the engine itself; drain moves a node's replicas away.
const dockerHost = `unix://${inject('dockerSocket')}`;
const image = inject('testImage');
const stack = 'e2e-cluster';
const daemons: RunningDaemon[] = [];
const byId = new Map<string, RunningDaemon>();
const dataDirs: string[] = [];

afterAll(async () => {
  for (const daemon of daemons.reverse()) await daemon.stop();
  await removeStackContainers(dockerHost, [stack]);
  for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
});

async function startManager(nodeId: string, cluster: Record<string, string>): Promise<RunningDaemon> {
  const dataDir = await mkdtemp(join(tmpdir(), `cst-${nodeId}-`));
  dataDirs.push(dataDir);
  const loaded = loadConfig({
    env: {},
    overrides: {
      'docker.host': dockerHost, 'node.dataDir': dataDir, 'node.id': nodeId, 'api.port': String(await freePort()),
      'cluster.listen.port': String(await freePort()), 'cluster.heartbeatIntervalMs': '200', 'raft.electionTimeoutMs': '300', 'raft.heartbeatIntervalMs': '50', ...cluster,
    },
  });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
  const daemon = await startDaemon(loaded.config, createLogger({ level: 'silent', format: 'json', destination: new PassThrough() }));
  daemons.push(daemon);
  byId.set(nodeId, daemon);
  return daemon;
}

async function api(daemon: RunningDaemon, path: string, init: RequestInit = {}): Promise<Response> {
  const token = (await readFile(daemon.tokenFile!, 'utf8')).trim();
  return fetch(`${daemon.address}${path}`, { ...init, headers: { ...(init.headers ?? {}), authorization: `Bearer ${token}` } });
}

const compose = `services:
  web:
    image: ${image}
    command: ["sleep", "3600"]
    network_mode: bridge
    stop_grace_period: 1s
    deploy:
      replicas: 6
  pinned:
    image: ${image}
    command: ["sleep", "3600"]
    network_mode: bridge
    stop_grace_period: 1s
    deploy:
      replicas: 2
      placement:
        constraints: ["node.id == c3"]
`;

async function nodeOfEach(): Promise<Map<string, string>> {
  const containers = await stackContainers(dockerHost, stack);
  return new Map(containers.filter((c) => c.running).map((c) => [c.name, c.labels['constellation.node'] ?? '?']));
}

describe('cluster of three managers on loopback', () => {
  it('bootstraps, joins with a token, spreads a deploy made through a follower, honours a constraint and drains', async () => {
    const first = await startManager('c1', { 'cluster.bootstrap': 'true' });
    const tokens = await eventually(async () => {
      const response = await api(first, '/v1/cluster/tokens');
      return response.status === 200 ? (await response.json()) as { manager: string } : undefined;
    }, { timeoutMs: 20_000, what: 'the bootstrap leader to issue join tokens' });
    const seed = first.clusterAddress!;
    // A wrong token is refused before anything is written: the daemon does not start.
    await expect(startManager('bad', { 'cluster.seeds': seed, 'cluster.token': `${tokens.manager.slice(0, -8)}00000000` })).rejects.toMatchObject({ code: 'token_checksum_mismatch' });
    const second = await startManager('c2', { 'cluster.seeds': seed, 'cluster.token': tokens.manager });
    await startManager('c3', { 'cluster.seeds': seed, 'cluster.token': tokens.manager });
    await eventually(async () => {
      const nodes = (await (await api(second, '/v1/nodes')).json()) as { id: string; status: string }[];
      return nodes.length === 3 && nodes.every((node) => node.status === 'ready');
    }, { timeoutMs: 30_000, what: 'three ready nodes seen from a follower' });

    const follower = (await (await api(first, '/v1/nodes')).json() as { id: string; leader: boolean }[]).find((node) => !node.leader)!.id;
    const through = byId.get(follower)!;
    const deployed = await api(through, '/v1/deploy', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ stack, compose }) });
    expect(deployed.status).toBe(202);
    // Read-your-writes on the node written to.
    expect((await (await api(through, `/v1/stacks/${stack}`)).json() as { name: string }).name).toBe(stack);

    const placed = await eventually(async () => {
      const nodes = await nodeOfEach();
      return nodes.size === 8 ? nodes : undefined;
    }, { timeoutMs: 60_000, what: 'all 8 replicas running on the engine' });
    const webPerNode = new Map<string, number>();
    for (const [name, node] of placed) if (name.startsWith(`${stack}_web_`)) webPerNode.set(node, (webPerNode.get(node) ?? 0) + 1);
    expect([...webPerNode.entries()].sort()).toEqual([['c1', 2], ['c2', 2], ['c3', 2]]);
    expect([...placed].filter(([name]) => name.startsWith(`${stack}_pinned_`)).map(([, node]) => node)).toEqual(['c3', 'c3']);

    // Drain c1: its web replicas move to the others, nothing runs on c1 any more.
    expect((await api(second, '/v1/nodes/c1', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ availability: 'drain' }) })).status).toBe(200);
    await eventually(async () => {
      const nodes = await nodeOfEach();
      return nodes.size === 8 && ![...nodes.values()].includes('c1');
    }, { timeoutMs: 60_000, what: 'c1 drained and its replicas running elsewhere' });
  });

  it('exports Raft, API latency and actor metrics from the running cluster', async () => {
    const leading = await eventually(async () => {
      for (const daemon of byId.values()) {
        if (!daemons.includes(daemon)) continue;
        const text = await (await api(daemon, '/metrics')).text();
        if (text.includes('constellation_raft_role{role="leader"} 1')) return daemon;
      }
      return undefined;
    }, { timeoutMs: 20_000, what: 'a leader exporting its role' });
    // Scraped again: the first scrape's own latency is in this one.
    const leader = await (await api(leading, '/metrics')).text();
    const value = (text: string, series: string): number => Number(new RegExp(`^${series.replace(/[{}"=]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    expect(value(leader, 'constellation_raft_term')).toBeGreaterThanOrEqual(1);
    expect(value(leader, 'constellation_raft_commit_index')).toBeGreaterThan(0);
    // The deploy, placements and node updates were proposed on the leader and flushed to its WAL.
    expect(value(leader, 'constellation_raft_append_duration_seconds_count{outcome="committed"}')).toBeGreaterThan(0);
    expect(value(leader, 'constellation_raft_wal_fsync_duration_seconds_count')).toBeGreaterThan(0);
    expect(leader).toMatch(/^constellation_http_request_duration_seconds_count\{method="GET",route="\/metrics",status="200"\} \d+$/m);
    expect(value(leader, 'constellation_actors{kind="raftRole"}')).toBe(1);
    expect(value(leader, 'constellation_actors{kind="node-agent"}')).toBe(1);
    // The leader's node machines (one per node) are in the inspector's tree, filterable by kind.
    expect(value(leader, 'constellation_actors{kind="node"}')).toBe(3);
    const token = (await readFile(leading.tokenFile!, 'utf8')).trim();
    const viewer = recordingClient(`${leading.address.replace('http', 'ws')}/v1/inspect?kind=node`, { headers: { authorization: `Bearer ${token}` } });
    await viewer.opened;
    await eventually(() => viewer.frames.some((frame) => frame.type === '@constellation.replayed'), { timeoutMs: 10_000, what: 'the inspector replay' });
    const nodeActors = viewer.frames.filter((frame) => frame.type === '@xstate.actor');
    expect(nodeActors.map((frame) => frame.kind)).toEqual(['node', 'node', 'node']);
    expect(nodeActors.map((frame) => (frame.snapshot as { context: { nodeId: string } }).context.nodeId).sort()).toEqual(['c1', 'c2', 'c3']);
    viewer.socket.close();
    await viewer.closed;
  });
});
