import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually } from '../../support/eventually.ts';
import { NetnsClusterClient, type ClusterNode } from '../../support/netns-cluster-client.ts';
import { TEST_IMAGE_INDEX_HTML } from '../../support/test-image.ts';

// Issue 6's real multi-node end-to-end test: three "machines" (network namespaces, each with its
// own dockerd and its own daemon process, joined by veth links), the daemons on their default
// settings. What runs where is read from each node's own engine, not only from our API, so a
// scheduler that agrees with itself but starts containers on the wrong machine fails here.
let cluster: NetnsClusterClient;
let n1: ClusterNode;
let n2: ClusterNode;
let n3: ClusterNode;

const stack = 'e2e-three';
const laterStack = 'e2e-after-kill';

interface NodeRow {
  readonly id: string;
  readonly status: string;
  readonly availability: string;
  readonly leader: boolean;
  readonly role: string;
  readonly labels: Readonly<Record<string, string>>;
}

interface ContainerRow {
  readonly name: string;
  readonly stack: string;
  readonly service: string;
  readonly state: string;
  readonly node?: string;
}

beforeAll(async () => {
  cluster = new NetnsClusterClient(inject('netnsCluster'));
  [n1, n2, n3] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
});

afterAll(async () => {
  await cluster?.dispose();
});

async function getJson<T>(node: ClusterNode, path: string): Promise<T> {
  const response = await cluster.api(node, path);
  if (response.status !== 200) throw new Error(`GET ${path} on ${node.name} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

function sendJson(node: ClusterNode, method: string, path: string, body: unknown): Promise<Response> {
  return cluster.api(node, path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** Waits until `through` sees exactly these nodes, every one ready. */
async function allReady(through: ClusterNode, ids: readonly string[], timeoutMs = 60_000): Promise<NodeRow[]> {
  return eventually(async () => {
    const nodes = await getJson<NodeRow[]>(through, '/v1/nodes');
    return nodes.map((n) => n.id).join() === ids.join() && nodes.every((n) => n.status === 'ready') ? nodes : undefined;
  }, { timeoutMs, what: `${ids.join(', ')} all ready as ${through.name} sees them` });
}

/**
 * Running containers of a stack per node, as each node's own dockerd reports them. Every
 * container an engine runs must carry that engine's node in its label (an agent that ran another
 * node's placement would show here).
 */
async function onEngines(stackName: string): Promise<Map<string, string[]>> {
  const perNode = new Map<string, string[]>();
  for (const node of cluster.nodes) {
    const rows = await cluster.listContainers(node, { label: `constellation.stack=${stackName}` });
    for (const row of rows) expect(row.labels['constellation.node'], `${row.name} on ${node.name}'s engine`).toBe(node.name);
    perNode.set(node.name, rows.filter((row) => row.state === 'running').map((row) => row.name));
  }
  return perNode;
}

function countBy(names: readonly string[], service: string): number {
  return names.filter((name) => name.startsWith(`${service}_`)).length;
}

/** Polls the engines until `holds` accepts what they run. */
function enginesUntil(stackName: string, holds: (perNode: Map<string, string[]>) => boolean, what: string, timeoutMs = 90_000): Promise<Map<string, string[]>> {
  return eventually(async () => {
    const perNode = await onEngines(stackName);
    return holds(perNode) ? perNode : undefined;
  }, { timeoutMs, what });
}

const total = (perNode: Map<string, string[]>): number => [...perNode.values()].reduce((sum, names) => sum + names.length, 0);

const httpd = ['httpd', '-f', '-p', '80', '-h', '/www'];

function composeFile(image: string): string {
  // web: 6 replicas, spread 2/2/2. edge: 2 replicas only where node.labels.tier == edge (n3),
  // each publishing container port 80 on an ephemeral host port (two fixed host ports could not
  // share the node), so the node's own address serves it.
  return JSON.stringify({
    services: {
      web: { image, command: httpd, stop_grace_period: '1s', deploy: { replicas: 6 } },
      edge: {
        image, command: httpd, stop_grace_period: '1s', ports: ['80'],
        deploy: { replicas: 2, placement: { constraints: ['node.labels.tier == edge'] } },
      },
    },
  });
}

describe('three nodes, each its own netns, dockerd and daemon', () => {
  it('bootstrap on n1, n2 joins through n1 and n3 through a follower with the manager token (cluster.seeds)', async () => {
    await cluster.startDaemon(n1, { extraConfig: { cluster: { bootstrap: true } } });
    const tokens = await eventually(async () => {
      const response = await cluster.api(n1, '/v1/cluster/tokens');
      return response.status === 200 ? ((await response.json()) as { manager: string }) : undefined;
    }, { timeoutMs: 30_000, what: 'the bootstrap leader to issue join tokens' });
    expect(tokens.manager).toMatch(/^CST1-/);

    await cluster.startDaemon(n2, { extraConfig: { cluster: { seeds: [n1.clusterAddress], token: tokens.manager } } });
    await allReady(n1, ['n1', 'n2']);
    // n3 asks n2 first: a follower takes the join and has the leader admit it.
    await cluster.startDaemon(n3, {
      extraConfig: { node: { labels: { tier: 'edge' } }, cluster: { seeds: [n2.clusterAddress, n1.clusterAddress], token: tokens.manager } },
    });
    const nodes = await allReady(n3, ['n1', 'n2', 'n3']);
    // n1 leads unless a slow machine let an election happen meanwhile: one leader either way.
    expect(nodes.filter((node) => node.leader)).toHaveLength(1);
    expect(nodes.every((node) => node.role === 'manager')).toBe(true);
    expect(nodes.find((node) => node.id === 'n3')?.labels).toEqual({ tier: 'edge' });
    // Every manager answers for the whole cluster.
    for (const node of [n1, n2]) await allReady(node, ['n1', 'n2', 'n3']);
  });

  it('a deploy through a follower spreads web 2/2/2 and keeps edge on the labelled node, on the engines themselves', async () => {
    const deployed = await sendJson(n2, 'POST', '/v1/deploy', { stack, compose: composeFile(cluster.image) });
    expect(deployed.status, await deployed.clone().text()).toBe(202);

    const perNode = await enginesUntil(stack, (p) => total(p) === 8, 'all 8 replicas running on the engines');
    expect(cluster.nodes.map((node) => countBy(perNode.get(node.name)!, `${stack}_web`))).toEqual([2, 2, 2]);
    expect(cluster.nodes.map((node) => countBy(perNode.get(node.name)!, `${stack}_edge`))).toEqual([0, 0, 2]);

    // The API (on another manager than the one deployed through) agrees with the engines.
    const rows = await eventually(async () => {
      const all = await getJson<ContainerRow[]>(n1, `/v1/containers?stack=${stack}`);
      return all.length === 8 && all.every((row) => row.state === 'running') ? all : undefined;
    }, { timeoutMs: 30_000, what: 'GET /v1/containers on n1 to show 8 running' });
    for (const row of rows) expect(perNode.get(row.node!), `${row.name} reported on ${row.node}`).toContain(row.name);
  });

  it('each edge replica answers on n3\'s address, reached from n1 over the link', async () => {
    const edges = (await onEngines(stack)).get('n3')!.filter((name) => name.startsWith(`${stack}_edge_`));
    expect(edges).toHaveLength(2);
    const ports = new Set<string>();
    for (const name of edges) {
      const { stdout } = await cluster.docker(n3, ['port', name, '80/tcp']);
      const port = /:(\d+)\s*$/m.exec(stdout)?.[1];
      expect(port, `host port of ${name}: ${stdout}`).toBeDefined();
      ports.add(port!);
      // httpd is up once its container runs; nothing to await but its answer.
      const body = await eventually(() => cluster.httpGet(n1, `http://${n3.address}:${port}/`), { timeoutMs: 10_000, what: `${name} to answer on ${n3.address}:${port}` });
      expect(body).toBe(TEST_IMAGE_INDEX_HTML);
    }
    expect(ports.size).toBe(2);
  });

  it('draining n1 moves its replicas to n2 and n3, where their engines run them', async () => {
    const drained = await sendJson(n3, 'PATCH', '/v1/nodes/n1', { availability: 'drain' });
    expect(drained.status, await drained.clone().text()).toBe(200);
    const perNode = await enginesUntil(stack, (p) => p.get('n1')!.length === 0 && total(p) === 8, 'n1 empty and all 8 replicas running on n2 and n3');
    expect(countBy(perNode.get('n2')!, `${stack}_web`)).toBe(3);
    expect(countBy(perNode.get('n3')!, `${stack}_web`)).toBe(3);
    expect(countBy(perNode.get('n3')!, `${stack}_edge`)).toBe(2);
    const nodes = await getJson<NodeRow[]>(n2, '/v1/nodes');
    expect(nodes.find((node) => node.id === 'n1')?.availability).toBe('drain');

    // Back to active: n1 takes new work again, but nothing running is moved back onto it.
    expect((await sendJson(n1, 'PATCH', '/v1/nodes/n1', { availability: 'active' })).status).toBe(200);
    await eventually(async () => (await getJson<NodeRow[]>(n1, '/v1/nodes')).find((node) => node.id === 'n1')?.availability === 'active', { timeoutMs: 10_000, what: 'n1 active again' });
    const after = await onEngines(stack);
    expect(after.get('n1')).toEqual([]);
    expect(total(after)).toBe(8);
  });

  it('removing the stack empties every engine (containers and the stack network)', async () => {
    const removed = await cluster.api(n3, `/v1/stacks/${stack}`, { method: 'DELETE' });
    expect(removed.status, await removed.clone().text()).toBe(202);
    await eventually(async () => {
      for (const node of cluster.nodes) {
        if ((await cluster.listContainers(node, { label: `constellation.stack=${stack}` })).length > 0) return false;
        const { stdout } = await cluster.docker(node, ['network', 'ls', '--filter', `name=${stack}_`, '--format', '{{.Name}}']);
        if (stdout.trim() !== '') return false;
      }
      return true;
    }, { timeoutMs: 60_000, what: `every engine free of ${stack}'s containers and networks` });
    expect((await cluster.api(n1, `/v1/stacks/${stack}`)).status).toBe(404);
  });

  it('kill -9 of the leader: the other two elect a leader and keep deploying; the restarted daemon rejoins', async () => {
    const leaderId = (await getJson<NodeRow[]>(n2, '/v1/nodes')).find((node) => node.leader)!.id;
    const leader = cluster.node(leaderId);
    const survivors = cluster.nodes.filter((node) => node !== leader);
    const killedPid = leader.daemon!.pid;
    await cluster.killDaemon(leader);
    await expect(fetch(`${leader.apiUrl}/healthz`, { signal: AbortSignal.timeout(1_000) })).rejects.toThrow();

    // A write made while the survivors elect may find no leader yet (503 no_leader): a client
    // retries that, and only that.
    const compose = JSON.stringify({ services: { web: { image: cluster.image, command: httpd, stop_grace_period: '1s', deploy: { replicas: 4 } } } });
    await eventually(async () => {
      const response = await sendJson(survivors[0]!, 'POST', '/v1/deploy', { stack: laterStack, compose });
      if (response.status === 202) return true;
      if (response.status !== 503) throw new Error(`deploy answered ${response.status}: ${await response.text()}`);
      return false;
    }, { timeoutMs: 30_000, what: 'a survivor to accept a deploy' });
    const nodes = await getJson<NodeRow[]>(survivors[1]!, '/v1/nodes');
    const newLeader = nodes.find((node) => node.leader);
    expect(newLeader?.id).not.toBe(leaderId);
    expect(survivors.map((node) => node.name)).toContain(newLeader?.id);

    // The dead node takes no new work: all 4 replicas run on the survivors' engines. (Not
    // necessarily 2/2: a leader only a moment old may not have heard the other survivor yet, and
    // only nodes it has heard take new replicas.)
    const perNode = await enginesUntil(laterStack, (p) => total(p) === 4, `${laterStack}'s 4 replicas running`);
    expect(perNode.get(leaderId)).toEqual([]);
    expect(survivors.reduce((sum, node) => sum + perNode.get(node.name)!.length, 0)).toBe(4);

    // Restart on the same data dir: it rejoins as a member (no new join), and the cluster is whole.
    const restarted = await cluster.restartDaemon(leader);
    expect(restarted.pid).not.toBe(killedPid);
    await allReady(survivors[0]!, ['n1', 'n2', 'n3']);
    await allReady(leader, ['n1', 'n2', 'n3']);

    expect((await cluster.api(leader, `/v1/stacks/${laterStack}`, { method: 'DELETE' })).status).toBe(202);
    await enginesUntil(laterStack, (p) => total(p) === 0, `${laterStack} removed from every engine`, 60_000);
    await eventually(async () => {
      for (const node of cluster.nodes) if ((await cluster.listContainers(node, { label: `constellation.stack=${laterStack}` })).length > 0) return false;
      return true;
    }, { timeoutMs: 30_000, what: `no ${laterStack} container left on any engine` });
  });
});
