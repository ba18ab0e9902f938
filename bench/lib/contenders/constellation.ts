import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Contender } from '../contender.ts';
import { startDaemonProcess } from '../daemon-process.ts';
import { freeLoopbackPort } from '../../../test/support/free-port.ts';
import { benchComposeFile } from '../stack-file.ts';
import { waitUntilRunning } from '../wait-running.ts';

// BENCH_CONSTELLATION_ROOT runs the daemon from another checkout, to compare two versions in one window.
const repoRoot = process.env.BENCH_CONSTELLATION_ROOT ?? resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const stack = 'bench';

interface ContainerRow {
  readonly state?: string;
  readonly stack?: string;
}

async function runningInApi(apiUrl: string, headers: Readonly<Record<string, string>>): Promise<number> {
  const response = await fetch(`${apiUrl}/v1/containers`, { headers });
  if (!response.ok) throw new Error(`GET /v1/containers answered ${response.status}: ${await response.text()}`);
  const body = (await response.json()) as ContainerRow[] | { containers?: ContainerRow[] };
  const rows = Array.isArray(body) ? body : (body.containers ?? []);
  return rows.filter((row) => row.state === 'running' && (row.stack === undefined || row.stack === stack)).length;
}

/**
 * Constellation as a user runs it: the daemon as its own process on the private engine, the
 * stack POSTed to /v1/deploy, and done when the engine shows N running with our stack label.
 * Afterwards (untimed) GET /v1/containers must show them running too; when it did is reported.
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
      // BENCH_DAEMON_LOG=FILE keeps the daemon's log lines for diagnosis (a knob, off by default).
      ...(process.env.BENCH_DAEMON_LOG ? { onLogLine: (line: string) => appendFileSync(process.env.BENCH_DAEMON_LOG!, `${line}\n`) } : {}),
    });
    let startedAt = 0;
    return {
      // Timed like every other contender: from the deploy command until the engine shows N
      // running, polled the same way once the command has returned (swarm: once
      // `docker stack deploy` exits). The daemon's own view is checked afterwards, untimed.
      async deploy() {
        startedAt = performance.now();
        if (process.env.BENCH_DAEMON_LOG) appendFileSync(process.env.BENCH_DAEMON_LOG, `${JSON.stringify({ time: Date.now(), msg: 'bench: POST /v1/deploy sent' })}\n`);
        const response = await fetch(`${daemon.apiUrl}/v1/deploy`, {
          method: 'POST',
          headers: { ...daemon.apiHeaders, 'content-type': 'application/json' },
          body: JSON.stringify({ stack, compose: benchComposeFile(context.image, context.replicas) }),
        });
        if (response.status !== 202) throw new Error(`POST /v1/deploy answered ${response.status}: ${await response.text()}`);
        const deployAccepted = (performance.now() - startedAt) / 1000;
        await waitUntilRunning({
          socketPath: context.engine.socketPath,
          label: `constellation.stack=${stack}`,
          count: context.replicas,
          timeoutMs: context.timeoutMs,
          what: 'constellation',
        });
        return { extraSeconds: { deployAccepted } };
      },
      async verify() {
        const deadline = Date.now() + context.timeoutMs;
        let running = 0;
        while ((running = await runningInApi(daemon.apiUrl, daemon.apiHeaders)) < context.replicas) {
          if (Date.now() > deadline) throw new Error(`constellation: the engine runs all ${context.replicas}, but GET /v1/containers shows only ${running} running after ${context.timeoutMs} ms`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return { apiSawAllRunning: (performance.now() - startedAt) / 1000 };
      },
      async dispose() {
        await daemon.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};
