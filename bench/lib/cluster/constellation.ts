import { benchComposeFile } from '../stack-file.ts';
import { waitUntilRunningOnEngines } from '../wait-running.ts';
import type { ClusterContender } from './contender.ts';
import { poll } from '../poll.ts';

const stack = 'bench';


/**
 * Constellation as a user forms a cluster: n1 bootstraps, n2 and n3 join with the manager token
 * (three managers, the daemons' default settings), then the timed POST /v1/deploy to n1 until
 * the three engines together run every replica.
 */
export const constellationCluster: ClusterContender = {
  id: 'constellation',
  title: 'Constellation, 3 managers (POST /v1/deploy)',
  async prepare({ cluster, replicas, timeoutMs }) {
    const [n1, n2, n3] = cluster.nodes;
    if (!n1 || !n2 || !n3) throw new Error('the cluster bench needs three nodes');
    // The harness's test config shortens the agent's resync; the bench runs the default.
    const defaults = { reconcile: null };
    await cluster.startDaemon(n1, { extraConfig: { ...defaults, cluster: { bootstrap: true } } });
    const token = await poll('join tokens from the bootstrap leader', 30_000, async () => {
      const response = await cluster.api(n1, '/v1/cluster/tokens');
      return response.status === 200 ? ((await response.json()) as { manager: string }).manager : undefined;
    });
    for (const node of [n2, n3]) {
      await cluster.startDaemon(node, { extraConfig: { ...defaults, cluster: { seeds: [n1.clusterAddress], token } } });
    }
    await poll('three ready managers', 60_000, async () => {
      const nodes = (await (await cluster.api(n1, '/v1/nodes')).json()) as { status: string }[];
      return nodes.length === 3 && nodes.every((node) => node.status === 'ready') ? true : undefined;
    });
    return {
      async deploy() {
        const response = await cluster.api(n1, '/v1/deploy', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ stack, compose: benchComposeFile(cluster.image, replicas) }),
        });
        if (response.status !== 202) throw new Error(`POST /v1/deploy answered ${response.status}: ${await response.text()}`);
        const perEngine = await waitUntilRunningOnEngines({
          socketPaths: cluster.nodes.map((node) => node.socketPath),
          label: `constellation.stack=${stack}`,
          count: replicas,
          timeoutMs,
          what: 'constellation',
        });
        return { perEngine };
      },
      async verify() {
        await poll('GET /v1/containers on n1 to show every replica running', timeoutMs, async () => {
          const rows = (await (await cluster.api(n1, `/v1/containers?stack=${stack}`)).json()) as { state: string }[];
          return rows.filter((row) => row.state === 'running').length >= replicas ? true : undefined;
        });
      },
    };
  },
};
