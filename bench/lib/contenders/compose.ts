import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../../../test/support/run-command.ts';
import { ensureBinaries, findExecutable } from '../../../test/support/system-packages.ts';
import type { Contender } from '../contender.ts';
import { benchComposeFile } from '../stack-file.ts';
import { waitUntilRunning } from '../wait-running.ts';

const project = 'bench';

/** Debian's docker-compose 1.29: `up -d --scale web=N` against the private engine. */
export const compose: Contender = {
  id: 'compose',
  title: 'docker-compose 1.29 (up -d --scale)',
  async prepare(context) {
    await ensureBinaries([{ binary: 'docker-compose', debianPackage: 'docker-compose' }]);
    const dir = mkdtempSync(join(tmpdir(), 'cst-bench-compose-'));
    const file = join(dir, 'docker-compose.yml');
    writeFileSync(file, benchComposeFile(context.image, context.replicas));
    const env = { ...process.env, DOCKER_HOST: context.engine.dockerHost, COMPOSE_HTTP_TIMEOUT: '600' };
    return {
      async deploy() {
        await runCommand(findExecutable('docker-compose') ?? 'docker-compose', ['-p', project, '-f', file, 'up', '-d', '--scale', `web=${context.replicas}`], {
          env,
          cwd: dir,
          timeoutMs: context.timeoutMs,
        });
        await waitUntilRunning({
          socketPath: context.engine.socketPath,
          label: `com.docker.compose.project=${project}`,
          count: context.replicas,
          timeoutMs: context.timeoutMs,
          what: 'docker-compose',
        });
      },
      async dispose() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};
