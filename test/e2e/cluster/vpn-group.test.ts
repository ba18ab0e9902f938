import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually } from '../../support/eventually.ts';
import { NetnsClusterClient, type ClusterNode } from '../../support/netns-cluster-client.ts';

// Issue 9 item 4 on real machines: three netns nodes, each with its own dockerd and daemon. A VPN
// group (a "vpn" with a healthcheck and an httpd dependent in its namespace, whose port the vpn
// publishes) runs on one node; draining that node moves the whole group to one other node, where
// the vpn starts before the dependent and the dependent joins the new vpn container's namespace,
// while the drained node stops the dependent before the vpn. What runs where is read from each
// node's own engine (containers, their network mode, the engine's own event log).
let cluster: NetnsClusterClient;
let nodes: readonly ClusterNode[];

const stack = 'e2e-vpn';
const port = 18081;

beforeAll(() => {
  cluster = new NetnsClusterClient(inject('netnsCluster'));
  nodes = cluster.nodes;
});

afterAll(async () => {
  await cluster?.dispose();
});

function composeFile(image: string): string {
  return JSON.stringify({
    services: {
      vpn: {
        image, command: ['sh', '-c', 'touch /tmp/ok && exec sleep 1d'], stop_grace_period: '1s', ports: [`${port}:81`],
        healthcheck: { test: ['CMD', 'test', '-f', '/tmp/ok'], interval: '1s', timeout: '1s', retries: 1 },
      },
      web: {
        image, network_mode: 'service:vpn', stop_grace_period: '1s',
        command: ['sh', '-c', 'mkdir -p /tmp/www && echo behind-the-vpn > /tmp/www/index.html && exec httpd -f -p 81 -h /tmp/www'],
      },
    },
  });
}

interface Group { readonly node: ClusterNode; readonly vpnId: string; readonly webId: string }

/** The node whose engine runs both members, the dependent in the vpn container's namespace; undefined while not so. */
async function runningGroup(): Promise<Group | undefined> {
  const found: Group[] = [];
  for (const node of nodes) {
    const rows = (await cluster.listContainers(node, { label: `constellation.stack=${stack}` })).filter((row) => row.state === 'running');
    const vpn = rows.find((row) => row.labels['constellation.service'] === 'vpn');
    const web = rows.find((row) => row.labels['constellation.service'] === 'web');
    if (vpn === undefined && web === undefined) continue;
    if (vpn === undefined || web === undefined) return undefined;
    const { stdout } = await cluster.docker(node, ['inspect', '--format', '{{.HostConfig.NetworkMode}}', web.id]);
    if (stdout.trim() !== `container:${vpn.id}`) return undefined;
    found.push({ node, vpnId: vpn.id, webId: web.id });
  }
  return found.length === 1 ? found[0] : undefined;
}

/** Services in the order of their first `event` in the node engine's own log since `sinceSeconds`. */
async function engineOrder(node: ClusterNode, event: 'start' | 'die', sinceSeconds: number): Promise<string[]> {
  const { stdout } = await cluster.docker(node, [
    'events', '--since', String(sinceSeconds), '--until', String(Math.ceil(Date.now() / 1000) + 1),
    '--filter', `label=constellation.stack=${stack}`, '--filter', 'type=container', '--filter', `event=${event}`, '--format', '{{json .}}',
  ]);
  const services = stdout.trim().split('\n').filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { timeNano: number; Actor: { Attributes: Record<string, string> } })
    .sort((a, b) => a.timeNano - b.timeNano)
    .map((e) => e.Actor.Attributes['constellation.service'] ?? '');
  return [...new Set(services)];
}

async function served(node: ClusterNode): Promise<string> {
  const response = await fetch(`http://${node.address}:${port}/`, { signal: AbortSignal.timeout(3_000) });
  return response.ok ? (await response.text()).trim() : `HTTP ${response.status}`;
}

describe('a VPN group on three netns nodes', () => {
  it('three managers', async () => {
    const [n1, n2, n3] = nodes as [ClusterNode, ClusterNode, ClusterNode];
    await cluster.startDaemon(n1, { extraConfig: { cluster: { bootstrap: true } } });
    const tokens = await eventually(async () => {
      const response = await cluster.api(n1, '/v1/cluster/tokens');
      return response.status === 200 ? ((await response.json()) as { manager: string }) : undefined;
    }, { timeoutMs: 30_000, what: 'join tokens' });
    await cluster.startDaemon(n2, { extraConfig: { cluster: { seeds: [n1.clusterAddress], token: tokens.manager } } });
    await cluster.startDaemon(n3, { extraConfig: { cluster: { seeds: [n1.clusterAddress], token: tokens.manager } } });
    await eventually(async () => {
      const list = (await (await cluster.api(n1, '/v1/nodes')).json()) as { status: string }[];
      return list.length === 3 && list.every((n) => n.status === 'ready');
    }, { timeoutMs: 60_000, what: 'three nodes ready' });
  });

  it('runs the group on one node, and a drain moves it whole: vpn first there, dependent stopped first here', async () => {
    const n1 = nodes[0]!;
    const deployed = await cluster.api(n1, '/v1/deploy', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ stack, compose: composeFile(cluster.image) }) });
    expect(deployed.status, await deployed.clone().text()).toBe(202);
    const first = await eventually(runningGroup, { timeoutMs: 90_000, what: 'vpn and web running together on one engine, web in the vpn\'s namespace' });
    // The group's port is the vpn's: the dependent answers through it.
    await eventually(async () => (await served(first.node).catch(() => '')) === 'behind-the-vpn', { timeoutMs: 30_000, what: 'the dependent serving through the vpn\'s published port' });

    const since = Math.floor(Date.now() / 1000) - 1;
    const drained = await cluster.api(n1, `/v1/nodes/${first.node.name}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ availability: 'drain' }) });
    expect(drained.status, await drained.clone().text()).toBe(200);
    const moved = await eventually(async () => {
      const group = await runningGroup();
      return group !== undefined && group.node !== first.node ? group : undefined;
    }, { timeoutMs: 90_000, what: 'the whole group running on another single node' });
    expect((await cluster.listContainers(first.node, { label: `constellation.stack=${stack}` })).filter((row) => row.state === 'running')).toEqual([]);
    expect(moved.vpnId).not.toBe(first.vpnId);

    expect(await engineOrder(moved.node, 'start', since), `start order on ${moved.node.name}`).toEqual(['vpn', 'web']);
    expect(await engineOrder(first.node, 'die', since), `stop order on ${first.node.name}`).toEqual(['web', 'vpn']);
    await eventually(async () => (await served(moved.node).catch(() => '')) === 'behind-the-vpn', { timeoutMs: 30_000, what: 'the dependent serving again through the vpn\'s port on its new node' });
  });
});
