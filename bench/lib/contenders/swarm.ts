import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker } from '../../../test/support/docker-engine.ts';
import { runCommand } from '../../../test/support/run-command.ts';
import type { Contender } from '../contender.ts';
import { benchComposeFile } from '../stack-file.ts';
import { waitUntilRunning } from '../wait-running.ts';

const stack = 'bench';
const advertiseAddress = '10.99.0.1';

/**
 * Docker Swarm on the same kind of private engine: `docker swarm init`, then the timed
 * `docker stack deploy` of the same file. Swarm needs a non-loopback address to advertise, so the
 * engine's namespace gets a veth pair (no dummy module on this kernel) with a private address.
 */
export const swarm: Contender = {
  id: 'swarm',
  title: 'Docker Swarm (docker stack deploy)',
  async prepare(context) {
    const ns = context.engine.netnsName;
    await runCommand('ip', ['-n', ns, 'link', 'add', 'cstb0', 'type', 'veth', 'peer', 'name', 'cstb1']);
    await runCommand('ip', ['-n', ns, 'addr', 'add', `${advertiseAddress}/24`, 'dev', 'cstb0']);
    await runCommand('ip', ['-n', ns, 'link', 'set', 'cstb0', 'up']);
    await runCommand('ip', ['-n', ns, 'link', 'set', 'cstb1', 'up']);
    await docker(context.engine.dockerHost, ['swarm', 'init', '--advertise-addr', advertiseAddress]);
    const dir = mkdtempSync(join(tmpdir(), 'cst-bench-swarm-'));
    const file = join(dir, 'docker-compose.yml');
    writeFileSync(file, benchComposeFile(context.image, context.replicas));
    return {
      async deploy() {
        await docker(context.engine.dockerHost, ['stack', 'deploy', '-c', file, stack]);
        await waitUntilRunning({
          socketPath: context.engine.socketPath,
          label: `com.docker.stack.namespace=${stack}`,
          count: context.replicas,
          timeoutMs: context.timeoutMs,
          what: 'swarm',
        });
      },
      async dispose() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};
