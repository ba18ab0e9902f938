import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually } from '../../support/eventually.ts';
import { NetnsClusterClient, type ClusterNode } from '../../support/netns-cluster-client.ts';

// Issue 7 on real links: three netns "machines", each with its own dockerd and daemon. A worker
// node's link is cut (both directions, `ip link set down`): its at-least-once replicas must run on
// the other two while it keeps its own copies, its at-most-once singleton must stop there before
// it starts elsewhere, and a poller that lists all three engines every 100 ms must never see the
// singleton running twice. After the heal, the stale copies must be stopped.
let cluster: NetnsClusterClient;
let n1: ClusterNode;
let n2: ClusterNode;
let n3: ClusterNode;

const stack = 'e2e-failover';
const httpd = ['httpd', '-f', '-p', '80', '-h', '/www'];

interface NodeRow {
  readonly id: string;
  readonly status: string;
  readonly leader: boolean;
}

beforeAll(async () => {
  cluster = new NetnsClusterClient(inject('netnsCluster'));
  [n1, n2, n3] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
});

afterAll(async () => {
  // Heals every cut, kills the daemons this file started and empties the engines.
  await cluster?.dispose();
});

async function getJson<T>(node: ClusterNode, path: string): Promise<T> {
  const response = await cluster.api(node, path);
  if (response.status !== 200) throw new Error(`GET ${path} on ${node.name} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

/** Running containers of the stack per node, as each node's own engine lists them. */
async function running(): Promise<Map<string, string[]>> {
  const perNode = new Map<string, string[]>();
  await Promise.all(
    cluster.nodes.map(async (node) => {
      const rows = await cluster.listContainers(node, { label: `constellation.stack=${stack}` });
      perNode.set(node.name, rows.filter((row) => row.state === 'running').map((row) => row.name));
    }),
  );
  return perNode;
}

const of = (names: readonly string[] | undefined, service: string): string[] => (names ?? []).filter((name) => name.startsWith(`${stack}_${service}_`));
const count = (perNode: Map<string, string[]>, service: string, nodes: readonly ClusterNode[] = cluster.nodes): number => nodes.reduce((sum, node) => sum + of(perNode.get(node.name), service).length, 0);

function until(holds: (perNode: Map<string, string[]>) => boolean, what: string, timeoutMs = 60_000): Promise<Map<string, string[]>> {
  return eventually(async () => {
    const perNode = await running();
    return holds(perNode) ? perNode : undefined;
  }, { timeoutMs, intervalMs: 100, what });
}

/** Lists all three engines every 100 ms for the whole test: how many copies of the singleton ran at once. */
function startSingletonPoller(): { maxAtOnce: () => number; samples: () => number; stop: () => Promise<void> } {
  let max = 0;
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const perNode = await running().catch(() => undefined);
      if (perNode) {
        samples++;
        max = Math.max(max, count(perNode, 'db'));
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    maxAtOnce: () => max,
    samples: () => samples,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

describe('failover on real links', () => {
  let poller: ReturnType<typeof startSingletonPoller>;
  let cutNode: ClusterNode;
  let survivors: ClusterNode[];

  it('forms a three-manager cluster and runs 6 web replicas 2/2/2 and one at-most-once db off the leader', async () => {
    await cluster.startDaemon(n1, { extraConfig: { cluster: { bootstrap: true } } });
    const tokens = await eventually(async () => {
      const response = await cluster.api(n1, '/v1/cluster/tokens');
      return response.status === 200 ? ((await response.json()) as { manager: string }) : undefined;
    }, { timeoutMs: 30_000, what: 'join tokens' });
    await cluster.startDaemon(n2, { extraConfig: { cluster: { seeds: [n1.clusterAddress], token: tokens.manager } } });
    await cluster.startDaemon(n3, { extraConfig: { cluster: { seeds: [n1.clusterAddress], token: tokens.manager } } });
    await eventually(async () => {
      const nodes = await getJson<NodeRow[]>(n1, '/v1/nodes');
      return nodes.length === 3 && nodes.every((node) => node.status === 'ready');
    }, { timeoutMs: 60_000, what: 'three ready nodes' });

    // db: one replica with a volume — at-most-once by default (README "Failover").
    const compose = JSON.stringify({
      services: {
        web: { image: cluster.image, command: httpd, stop_grace_period: '1s', deploy: { replicas: 6 } },
        db: { image: cluster.image, command: httpd, stop_grace_period: '1s', volumes: ['dbdata:/data'], deploy: { replicas: 1, placement: { constraints: ['node.id != n1'] } } },
      },
      volumes: { dbdata: {} },
    });
    const deployed = await cluster.api(n1, '/v1/deploy', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ stack, compose }) });
    expect(deployed.status, await deployed.clone().text()).toBe(202);
    const perNode = await until((p) => count(p, 'web') === 6 && count(p, 'db') === 1, 'web 6 and db 1 running');
    expect(cluster.nodes.map((node) => of(perNode.get(node.name), 'web').length)).toEqual([2, 2, 2]);
    poller = startSingletonPoller();
    cutNode = cluster.nodes.find((node) => of(perNode.get(node.name), 'db').length === 1)!;
    expect(cutNode.name).not.toBe('n1');
    survivors = cluster.nodes.filter((node) => node !== cutNode);
  });

  it('cut a node\'s link: its web replicas run on the survivors within seconds, it keeps its own copies, and db moves only after it stopped there', async () => {
    const cutAt = Date.now();
    await cluster.cut(cutNode);
    const moved = await until((p) => count(p, 'web', survivors) === 6, 'all 6 web replicas running on the survivors', 30_000);
    const webSeconds = (Date.now() - cutAt) / 1000;
    // At-least-once: the cut node still runs its two (it cannot know it was replaced).
    expect(of(moved.get(cutNode.name), 'web')).toHaveLength(2);
    const dbMoved = await until((p) => count(p, 'db', survivors) === 1, 'db running on a survivor', 30_000);
    const dbSeconds = (Date.now() - cutAt) / 1000;
    expect(of(dbMoved.get(cutNode.name), 'db')).toEqual([]);
    console.log(`failover on real links: web on survivors after ${webSeconds.toFixed(1)} s, at-most-once db after ${dbSeconds.toFixed(1)} s`);
    // The leader counts it and sees the cut node down.
    const metrics = await (await cluster.api(n1, '/metrics')).text();
    expect(metrics).toMatch(/constellation_failovers_total\{cause="node-down"\} [1-9]/);
    expect(metrics).toContain('constellation_nodes{status="down"} 1');
    expect(poller.maxAtOnce()).toBe(1);
  });

  it('heal: the stale web copies on the returning node are stopped, db stays where it moved, nothing runs twice', async () => {
    const dbHome = (await running());
    const dbNode = survivors.find((node) => of(dbHome.get(node.name), 'db').length === 1)!;
    const healedAt = Date.now();
    await cluster.heal(cutNode);
    const settled = await until((p) => count(p, 'web') === 6 && of(p.get(cutNode.name), 'web').length === 0, 'the returning node\'s stale web copies stopped', 30_000);
    console.log(`stale copies stopped ${((Date.now() - healedAt) / 1000).toFixed(1)} s after heal`);
    expect(count(settled, 'db')).toBe(1);
    expect(of(settled.get(dbNode.name), 'db')).toHaveLength(1);
    await eventually(async () => (await getJson<NodeRow[]>(n1, '/v1/nodes')).every((node) => node.status === 'ready'), { timeoutMs: 30_000, what: 'every node ready again' });
    // A few more seconds of polling after the heal: still never two copies of the singleton.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await poller.stop();
    expect(poller.samples()).toBeGreaterThan(20);
    expect(poller.maxAtOnce()).toBe(1);
    expect(count(await running(), 'web')).toBe(6);
  });
});
