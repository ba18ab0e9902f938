import { readlinkSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually } from '../../support/eventually.ts';
import { NetnsClusterClient, type ClusterNode } from '../../support/netns-cluster-client.ts';
import { TEST_IMAGE_INDEX_HTML } from '../../support/test-image.ts';

// The multi-node harness itself: three namespaces with their own engines and daemons, joined by
// real veth links to one bridge. What later cluster tests rely on is proven here: every daemon
// is inside its node's namespace and answers on the node's address, nodes reach each other's
// published ports over the links, and cut/heal (whole node, or one pair) really break and mend them.
let cluster: NetnsClusterClient;

beforeAll(async () => {
  cluster = new NetnsClusterClient(inject('netnsCluster'));
  await Promise.all(cluster.nodes.map((node) => cluster.startDaemon(node)));
});

afterAll(async () => {
  await cluster?.dispose();
});

function netnsOf(pid: number): string {
  return readlinkSync(`/proc/${pid}/ns/net`);
}

describe('netns cluster harness', () => {
  it('three nodes, each daemon inside its own namespace, answering over its veth address with the token', async () => {
    expect(cluster.nodes.map((node) => node.name)).toEqual(['n1', 'n2', 'n3']);
    expect(new Set(cluster.nodes.map((node) => node.address)).size).toBe(3);
    for (const node of cluster.nodes) {
      expect(netnsOf(node.daemon!.pid)).toBe(`net:[${statSync(node.netnsPath).ino}]`);
      expect(netnsOf(node.daemon!.pid)).not.toBe(netnsOf(process.pid));
      expect((await fetch(`${node.apiUrl}/healthz`)).status).toBe(200);
      expect((await fetch(`${node.apiUrl}/v1/stacks`)).status).toBe(401);
      expect((await cluster.api(node, '/v1/stacks')).status).toBe(200);
    }
  });

  it('kill -9 ends a node daemon at once; restart brings it back on the same address and data dir', async () => {
    const node = cluster.nodes[2]!;
    const before = node.daemon!;
    await cluster.killDaemon(node);
    expect(await before.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(node.daemon).toBeUndefined();
    await expect(fetch(`${node.apiUrl}/healthz`)).rejects.toThrow();
    const after = await cluster.restartDaemon(node);
    expect(after.pid).not.toBe(before.pid);
    expect((await cluster.api(node, '/v1/stacks')).status).toBe(200);
  });

  it('a port published on n1 is reached from n2 over the link; cut and cutBetween break it, heal mends it', async () => {
    const [a, b, c] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
    await cluster.docker(a, ['run', '-d', '--name', 'harness-web', '-p', '8080:80', cluster.image, 'httpd', '-f', '-p', '80', '-h', '/www']);
    expect((await cluster.listContainers(a)).map((row) => row.name)).toContain('harness-web');
    expect((await cluster.listContainers(b)).map((row) => row.name)).not.toContain('harness-web');

    const wgetFrom = (node: ClusterNode) => cluster.httpGet(node, `http://${a.address}:8080/`, 1_500);
    const served = async (node: ClusterNode) => (await wgetFrom(node)) === TEST_IMAGE_INDEX_HTML;
    // httpd starts right after `docker run` returns; nothing to await but its answer.
    await eventually(() => served(b), { timeoutMs: 10_000, what: 'n1:8080 to answer n2' });

    await cluster.cut(a);
    await expect(wgetFrom(b)).rejects.toThrow();
    await expect(fetch(`${a.apiUrl}/healthz`, { signal: AbortSignal.timeout(1_000) })).rejects.toThrow();
    await cluster.heal(a);
    await eventually(() => served(b), { timeoutMs: 10_000, what: 'n1:8080 to answer n2 after heal' });
    expect((await fetch(`${a.apiUrl}/healthz`)).status).toBe(200);

    await cluster.cutBetween(a, b);
    await expect(wgetFrom(b)).rejects.toThrow();
    expect(await served(c)).toBe(true);
    expect((await fetch(`${a.apiUrl}/healthz`)).status).toBe(200);
    await cluster.healBetween(a, b);
    expect(await served(b)).toBe(true);
  });
});
