import http from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually } from '../../support/eventually.ts';
import { NetnsClusterClient, type ClusterNode } from '../../support/netns-cluster-client.ts';

// Issue 8 item 4 on real links: three netns "machines" (n1, n2 managers, n3 a worker), each with
// its own dockerd and daemon. A service whose two replicas run only on n1 publishes 8080 in
// ingress mode: the port must answer on every node's own address — n2 and n3 run no replica and
// forward over the veth links to n1's replicas — and only healthy replicas may answer: one made
// unhealthy (its healthcheck's file removed inside the container) leaves the set on every node, and
// it joins again once its restart is healthy. A start-first update and a scale-down, each while a
// prober sends requests through all three nodes in a loop (a fresh connection each), lose none.
let cluster: NetnsClusterClient;
let n1: ClusterNode;
let n2: ClusterNode;
let n3: ClusterNode;

const stack = 'e2e-ingress';
const port = 8080;

beforeAll(async () => {
  cluster = new NetnsClusterClient(inject('netnsCluster'));
  [n1, n2, n3] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
});

afterAll(async () => {
  await cluster?.dispose();
});

// Each replica serves its own hostname (the container id's first 12 characters), so an answer
// says which replica it came from; healthy while /tmp/ok exists.
const serve = 'mkdir -p /tmp/www && hostname > /tmp/www/index.html && touch /tmp/ok && exec httpd -f -p 80 -h /tmp/www';

function composeFile(image: string, options: { replicas?: number; version?: number } = {}): string {
  return JSON.stringify({
    services: {
      web: {
        image, command: ['sh', '-c', serve], stop_grace_period: '1s', ports: [`${port}:80`],
        environment: { VERSION: String(options.version ?? 1) },
        healthcheck: { test: ['CMD', 'test', '-f', '/tmp/ok'], interval: '1s', timeout: '1s', retries: 1 },
        deploy: {
          replicas: options.replicas ?? 2, placement: { constraints: ['node.labels.web == here'] },
          update_config: { parallelism: 1, order: 'start-first', monitor: '1s' },
        },
      },
    },
  });
}

function deployFile(node: ClusterNode, compose: string): Promise<Response> {
  return cluster.api(node, '/v1/deploy', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ stack, compose }) });
}

/** One GET through a node's published port from the test process (the host reaches every node's address). */
async function ask(node: ClusterNode): Promise<string> {
  const response = await fetch(`http://${node.address}:${port}/`, { signal: AbortSignal.timeout(3_000) });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return (await response.text()).trim();
}

/** `count` answers through `node`, failures as "!<error>". */
async function answers(node: ClusterNode, count: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(await ask(node).catch((error: unknown) => `!${String((error as Error).cause ?? error)}`));
  return out;
}

/** One GET on a fresh connection (no keep-alive: each request picks a backend); resolves "ok" or the error. */
function probeOnce(node: ClusterNode): Promise<string> {
  return new Promise((resolve) => {
    const request = http.get({ host: node.address, port, path: '/', agent: false, timeout: 3_000 }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode === 200 ? 'ok' : `HTTP ${response.statusCode}`));
      response.on('error', (error) => resolve(error.message));
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', (error) => resolve(error.message));
  });
}

/** Probes through every given node in a loop until `stop` resolves; returns the failures. */
async function probeUntil(nodes: readonly ClusterNode[], stop: Promise<unknown>): Promise<{ sent: number; failures: string[] }> {
  let done = false;
  void stop.finally(() => {
    done = true;
  });
  let sent = 0;
  const failures: string[] = [];
  while (!done) {
    for (const node of nodes) {
      sent += 1;
      const result = await probeOnce(node);
      if (result !== 'ok') failures.push(`${node.name}: ${result}`);
    }
  }
  return { sent, failures };
}

/** The running replicas' hostnames on n1's engine, by container name. */
async function replicaHosts(): Promise<Map<string, string>> {
  const rows = await cluster.listContainers(n1, { label: `constellation.stack=${stack}` });
  return new Map(rows.filter((row) => row.state === 'running').map((row) => [row.name, row.id.slice(0, 12)]));
}

describe('ingress: a published port answers on every node and reaches healthy replicas only', () => {
  it('n1 and n2 managers, n3 a worker', async () => {
    await cluster.startDaemon(n1, { extraConfig: { cluster: { bootstrap: true }, node: { labels: { web: 'here' } } } });
    const tokens = await eventually(async () => {
      const response = await cluster.api(n1, '/v1/cluster/tokens');
      return response.status === 200 ? ((await response.json()) as { manager: string; worker: string }) : undefined;
    }, { timeoutMs: 30_000, what: 'join tokens' });
    await cluster.startDaemon(n2, { extraConfig: { cluster: { seeds: [n1.clusterAddress], token: tokens.manager } } });
    await cluster.startDaemon(n3, { extraConfig: { cluster: { seeds: [n1.clusterAddress], token: tokens.worker } } });
    await eventually(async () => {
      const response = await cluster.api(n1, '/v1/nodes');
      const nodes = (await response.json()) as { id: string; status: string }[];
      return nodes.length === 3 && nodes.every((n) => n.status === 'ready');
    }, { timeoutMs: 60_000, what: 'three nodes ready' });
  });

  it('the port answers on all three nodes — two of them run no replica — and spreads over both replicas', async () => {
    const deployed = await deployFile(n2, composeFile(cluster.image));
    expect(deployed.status, await deployed.clone().text()).toBe(202);
    const hosts = await eventually(async () => {
      const running = await replicaHosts();
      return running.size === 2 ? running : undefined;
    }, { timeoutMs: 90_000, what: 'two replicas running on n1' });
    for (const node of [n2, n3]) expect(await cluster.listContainers(node, { label: `constellation.stack=${stack}` })).toEqual([]);
    const replicas = new Set(hosts.values());
    for (const node of [n1, n2, n3]) {
      // Both replicas answer through this node once they are healthy and every node has heard it.
      await eventually(async () => {
        const seen = await answers(node, 6);
        return seen.every((body) => replicas.has(body)) && new Set(seen).size === 2 ? seen : undefined;
      }, { timeoutMs: 60_000, what: `both replicas answering through ${node.name}:${port}` });
    }
  });

  it('an unhealthy replica leaves the backend set on every node and joins again once healthy', async () => {
    const before = await replicaHosts();
    const [sickName, sickHost] = [...before.entries()][0]!;
    const [, keptHost] = [...before.entries()][1]!;
    await cluster.docker(n1, ['exec', sickName, 'rm', '/tmp/ok']);
    for (const node of [n1, n2, n3]) {
      await eventually(async () => {
        const seen = await answers(node, 6);
        return seen.every((body) => body !== sickHost && !body.startsWith('!')) ? seen : undefined;
      }, { timeoutMs: 60_000, what: `${sickName} (unhealthy) out of ${node.name}'s backends` });
    }
    // The agent stops an unhealthy replica and its restart policy starts it again (the same
    // container, so the same hostname, healthy again since its command recreates the file, and
    // maybe on another ephemeral port): it joins the set again once its healthcheck passes.
    for (const node of [n3, n2, n1]) {
      await eventually(async () => {
        const seen = await answers(node, 6);
        return seen.includes(sickHost) && seen.includes(keptHost) ? seen : undefined;
      }, { timeoutMs: 90_000, what: `${sickName}, healthy again, answering through ${node.name}` });
    }
  });

  it('a start-first update loses no request through any node: new replicas join once healthy, old ones are drained before their SIGTERM', async () => {
    const before = new Set((await replicaHosts()).values());
    const updated = (async () => {
      const deployed = await deployFile(n1, composeFile(cluster.image, { version: 2 }));
      expect(deployed.status, await deployed.clone().text()).toBe(202);
      // Done when two replicas run and none of them is an old one (new containers, new hostnames).
      const after = await eventually(async () => {
        const now = await replicaHosts();
        return now.size === 2 && [...now.values()].every((host) => !before.has(host)) ? now : undefined;
      }, { timeoutMs: 120_000, what: 'both replicas replaced by the start-first update' });
      // The last old replica's stop has reached every node's table by now; probe a little longer.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      return after;
    })();
    const { sent, failures } = await probeUntil([n3, n2, n1], updated);
    const after = await updated;
    expect(sent).toBeGreaterThan(10);
    expect(failures).toEqual([]);
    const fresh = new Set(after.values());
    for (const node of [n1, n2, n3]) {
      await eventually(async () => {
        const seen = await answers(node, 6);
        return seen.every((body) => fresh.has(body)) ? seen : undefined;
      }, { timeoutMs: 30_000, what: `only the new replicas answering through ${node.name}` });
    }
  });

  it('a scale-down loses no request through any node (the replica is drained before its SIGTERM, a refused connect tries the next backend)', async () => {
    const removed = (async () => {
      const deployed = await deployFile(n1, composeFile(cluster.image, { version: 2, replicas: 1 }));
      expect(deployed.status).toBe(202);
      await eventually(async () => ((await replicaHosts()).size === 1 ? true : undefined), { timeoutMs: 60_000, what: 'one replica left' });
      // Every node's table has caught up by now; probe a little longer to see the stop's aftermath.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    })();
    const { sent, failures } = await probeUntil([n3, n2, n1], removed);
    await removed;
    expect(sent).toBeGreaterThan(10);
    expect(failures).toEqual([]);
  });

  it('removing the stack closes the port on every node', async () => {
    const removed = await cluster.api(n1, `/v1/stacks/${stack}`, { method: 'DELETE' });
    expect(removed.status).toBe(202);
    for (const node of [n1, n2, n3]) {
      await eventually(async () => ((await answers(node, 1))[0]!.startsWith('!') ? true : undefined), { timeoutMs: 60_000, what: `${node.name}:${port} closed` });
    }
  });
});
