import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Contender } from '../contender.ts';
import { startDaemonProcess } from '../daemon-process.ts';
import { freeLoopbackPort } from '../../../test/support/free-port.ts';
import { benchComposeFile } from '../stack-file.ts';
import { waitUntilRunning } from '../wait-running.ts';

const repoRoot = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const stack = 'bench';

interface ContainerRow {
  readonly state?: string;
  readonly stack?: string;
}

async function runningInApi(apiUrl: string): Promise<number> {
  const response = await fetch(`${apiUrl}/v1/containers`);
  if (!response.ok) throw new Error(`GET /v1/containers answered ${response.status}: ${await response.text()}`);
  const body = (await response.json()) as ContainerRow[] | { containers?: ContainerRow[] };
  const rows = Array.isArray(body) ? body : (body.containers ?? []);
  return rows.filter((row) => row.state === 'running' && (row.stack === undefined || row.stack === stack)).length;
}

/**
 * Constellation as a user runs it: the daemon as its own process on the private engine, the
 * stack POSTed to /v1/deploy, and done when GET /v1/containers shows N running. The engine's
 * own view (N containers running with our stack label) is reported beside it.
 */
export const constellation: Contender = {
  id: 'constellation',
  title: 'Constellation (POST /v1/deploy)',
  async prepare(context) {
    const dir = mkdtempSync(join(tmpdir(), 'cst-bench-daemon-'));
    const configFile = join(dir, 'constellation.yml');
    writeFileSync(configFile, ['node:', '  id: bench', ''].join('\n'));
    const daemon = await startDaemonProcess({
      repoRoot,
      configFile,
      dockerHost: context.engine.dockerHost,
      dataDir: join(dir, 'data'),
      apiPort: await freeLoopbackPort(),
      readyTimeoutMs: 60_000,
    });
    return {
      async deploy() {
        const startedAt = performance.now();
        const extraSeconds: Record<string, number> = {};
        const engineView = waitUntilRunning({
          socketPath: context.engine.socketPath,
          label: `constellation.stack=${stack}`,
          count: context.replicas,
          timeoutMs: context.timeoutMs,
          what: 'constellation (engine view)',
        }).then(
          () => {
            extraSeconds.engineSawAllRunning = (performance.now() - startedAt) / 1000;
          },
          // Held, not thrown here: this promise must never reject unobserved if the deploy fails first.
          (error: unknown) => error,
        );
        const response = await fetch(`${daemon.apiUrl}/v1/deploy`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ stack, compose: benchComposeFile(context.image, context.replicas) }),
        });
        if (response.status !== 202) throw new Error(`POST /v1/deploy answered ${response.status}: ${await response.text()}`);
        extraSeconds.deployAccepted = (performance.now() - startedAt) / 1000;
        const deadline = Date.now() + context.timeoutMs;
        let running = 0;
        while ((running = await runningInApi(daemon.apiUrl)) < context.replicas) {
          if (Date.now() > deadline) throw new Error(`constellation: only ${running} of ${context.replicas} running after ${context.timeoutMs} ms`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        extraSeconds.apiSawAllRunning = (performance.now() - startedAt) / 1000;
        const engineError = await engineView;
        if (engineError !== undefined) throw engineError;
        return { extraSeconds };
      },
      async dispose() {
        await daemon.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};
