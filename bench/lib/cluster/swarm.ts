import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchComposeFile } from '../stack-file.ts';
import { waitUntilRunningOnEngines } from '../wait-running.ts';
import type { ClusterContender } from './contender.ts';

const stack = 'bench';

/**
 * Docker Swarm in the same layout: `docker swarm init` on n1's engine, n2 and n3 join as managers
 * (three managers, as ours), advertising their veth addresses; then the timed
 * `docker stack deploy` of the same file until the three engines together run every replica.
 */
export const swarmCluster: ClusterContender = {
  id: 'swarm',
  title: 'Docker Swarm, 3 managers (docker stack deploy)',
  async prepare({ cluster, replicas, timeoutMs }) {
    const [n1, ...others] = cluster.nodes;
    if (!n1 || others.length !== 2) throw new Error('the cluster bench needs three nodes');
    await cluster.docker(n1, ['swarm', 'init', '--advertise-addr', n1.address, '--listen-addr', `${n1.address}:2377`]);
    const token = (await cluster.docker(n1, ['swarm', 'join-token', '-q', 'manager'])).stdout.trim();
    for (const node of others) {
      await cluster.docker(node, ['swarm', 'join', '--token', token, '--advertise-addr', node.address, '--listen-addr', `${node.address}:2377`, `${n1.address}:2377`]);
    }
    const deadline = Date.now() + 60_000;
    while (true) {
      const { stdout } = await cluster.docker(n1, ['node', 'ls', '--format', '{{.Status}} {{.ManagerStatus}}']);
      const rows = stdout.trim().split('\n');
      if (rows.length === 3 && rows.every((row) => row.startsWith('Ready') && /Leader|Reachable/.test(row))) break;
      if (Date.now() > deadline) throw new Error(`swarm: three ready managers expected, docker node ls says:\n${stdout}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const file = join(mkdtempSync(join(cluster.description.runDir, 'swarm-')), 'docker-compose.yml');
    writeFileSync(file, benchComposeFile(cluster.image, replicas));
    return {
      async deploy() {
        await cluster.docker(n1, ['stack', 'deploy', '-c', file, stack]);
        const perEngine = await waitUntilRunningOnEngines({
          socketPaths: cluster.nodes.map((node) => node.socketPath),
          label: `com.docker.stack.namespace=${stack}`,
          count: replicas,
          timeoutMs,
          what: 'swarm',
        });
        return { perEngine };
      },
    };
  },
};
