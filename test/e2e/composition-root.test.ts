import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { loadConfig } from '../../src/config/load-config.ts';
import { startDaemon, type RunningDaemon } from '../../src/daemon/start-daemon.ts';
import { createLogger } from '../../src/log/create-logger.ts';
import { eventually } from '../support/eventually.ts';
import { freeLoopbackPort as freePort } from '../support/free-port.ts';
import { removeStackContainers, stackContainers } from './support/engine-inspect.ts';

// The composition root in-process, on the private engine: what the daemon process wires, plus the
// inspection hook a later issue's inspector endpoint will use.
const dockerHost = `unix://${inject('dockerSocket')}`;
const image = inject('testImage');
const stack = 'e2e-root';

let dataDir: string | undefined;
let daemon: RunningDaemon | undefined;

afterAll(async () => {
  await daemon?.stop();
  await removeStackContainers(dockerHost, [stack]);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** The daemon generated its API token into its data dir (the config sets none). */
async function authorization(running: RunningDaemon): Promise<string> {
  return `Bearer ${(await readFile(running.tokenFile!, 'utf8')).trim()}`;
}

async function deployAndConverge(running: RunningDaemon, replicas: number): Promise<void> {
  const response = await fetch(`${running.address}/v1/deploy`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: await authorization(running) },
    body: JSON.stringify({ stack, compose: `services:\n  app:\n    image: ${image}\n    command: ["sleep", "3600"]\n    stop_grace_period: 1s\n    deploy:\n      replicas: ${replicas}\n` }),
  });
  expect(response.status).toBe(202);
  await eventually(() => {
    const status = running.system.services().find((s) => s.stack === stack);
    return status?.converged === true && status.running === replicas;
  }, { timeoutMs: 60_000, what: `${stack} to converge with ${replicas} replicas` });
}

describe('composition root', () => {
  it('wires config, store, agent and API; an inspector attaches and detaches; stop leaves containers running', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cst-root-'));
    const loaded = loadConfig({
      env: {},
      overrides: { 'docker.host': dockerHost, 'node.dataDir': dataDir, 'api.port': String(await freePort()), 'node.id': 'root-test' },
    });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    const logStream = new PassThrough();
    const logLines: string[] = [];
    logStream.on('data', (chunk) => logLines.push(String(chunk)));
    daemon = await startDaemon(loaded.config, createLogger({ level: 'info', format: 'json', destination: logStream }));
    expect(logLines.some((line) => line.includes('"msg":"api listening"') && line.includes(daemon!.address))).toBe(true);

    const seen: InspectionEvent[] = [];
    const detach = daemon.attachInspector((event) => seen.push(event));
    await deployAndConverge(daemon, 2);
    expect(seen.some((event) => event.type === '@xstate.event')).toBe(true);
    expect(seen.some((event) => event.type === '@xstate.snapshot')).toBe(true);

    // Detached: scaling up drives plenty of actor events, none reach the observer.
    detach();
    const countAtDetach = seen.length;
    await deployAndConverge(daemon, 3);
    expect(seen.length).toBe(countAtDetach);
    const metricsText = await (await fetch(`${daemon.address}/metrics`, { headers: { authorization: await authorization(daemon) } })).text();
    expect(metricsText).toContain('constellation_containers{state="running"} 3');

    const before = await stackContainers(dockerHost, stack);
    expect(before.map((c) => c.running)).toEqual([true, true, true]);
    await daemon.stop();
    await daemon.stop();
    expect(logLines.some((line) => line.includes('daemon stopped; containers keep running'))).toBe(true);
    const after = await stackContainers(dockerHost, stack);
    expect(after.map((c) => ({ id: c.id, running: c.running, startedAt: c.startedAt }))).toEqual(before.map((c) => ({ id: c.id, running: true, startedAt: c.startedAt })));
    await expect(fetch(`${daemon.address}/healthz`)).rejects.toThrow();
  });
});
