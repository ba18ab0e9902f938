import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createDockerRuntime } from '../../src/adapters/docker/dockerode-runtime.ts';
import { FileStateStore } from '../../src/adapters/file-state-store.ts';
import { systemClock } from '../../src/adapters/system-clock.ts';
import { startDaemonSystem, type DaemonSystem } from '../../src/actors/daemon-system.ts';
import { noopTelemetry } from '../../src/actors/agent-telemetry.ts';
import { nodeSelector } from '../../src/agent/labels.ts';
import { eventually } from '../support/eventually.ts';
import { realService } from './agent-harness.ts';

const script = fileURLToPath(new URL('./agent-process.ts', import.meta.url));
const dockerHost = inject('dockerSocket');
const image = inject('testImage');
const runtime = createDockerRuntime(dockerHost);
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Runs the agent process until a line matches `killWhen`, then SIGKILLs it. */
function runAndKill(dataDir: string, stackJson: string, nodeId: string, killWhen: (line: string) => boolean): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, dockerHost, dataDir, stackJson, nodeId], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let buffer = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (killWhen(line)) child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL' && lines.some(killWhen)) resolve(lines);
      else reject(new Error(`agent process ended without reaching the kill point (code ${code}, signal ${signal}): ${stderr}`));
    });
  });
}

async function setUp(nodeId: string) {
  const dataDir = await mkdtemp(join(tmpdir(), `agent-kill-${nodeId}-`));
  let agent: DaemonSystem | undefined;
  let store: FileStateStore | undefined;
  cleanups.push(async () => {
    await agent?.stop();
    await store?.close();
    for (const c of await runtime.list(nodeSelector(nodeId))) await runtime.remove(c.id);
    await rm(dataDir, { recursive: true, force: true });
  });
  const restart = async () => {
    store = new FileStateStore(dataDir);
    await store.open();
    agent = await startDaemonSystem({ nodeId, runtime, store, clock: systemClock, logger: pino({ level: 'silent' }), telemetry: noopTelemetry, reconcileIntervalMs: 2000 });
    return agent;
  };
  return { dataDir, restart };
}

async function inspectAll(nodeId: string) {
  const listed = await runtime.list(nodeSelector(nodeId));
  const inspected = await Promise.all(listed.map((c) => runtime.inspect(c.id)));
  return inspected.map((c) => ({ id: c!.id, name: c!.name, state: c!.state, startedAtMs: c!.startedAtMs })).sort((a, b) => (a.name < b.name ? -1 : 1));
}

describe('node agent killed with SIGKILL', () => {
  it('a new agent adopts every container and restarts none', async () => {
    const nodeId = `kill-done-${process.pid}`;
    const { dataDir, restart } = await setUp(nodeId);
    const stack = { name: 'k1', services: [realService('web', image, { replicas: 3 })] };
    await runAndKill(dataDir, JSON.stringify(stack), nodeId, (line) => line === 'converged');
    const before = await inspectAll(nodeId);
    expect(before.map((c) => [c.name, c.state])).toEqual([['k1_web_1', 'running'], ['k1_web_2', 'running'], ['k1_web_3', 'running']]);
    const agent = await restart();
    await eventually(() => agent.services().length === 1 && agent.services()[0]!.converged, { timeoutMs: 30_000, what: 'adopted and converged' });
    expect(await inspectAll(nodeId)).toEqual(before);
  });

  it('killed in the middle of a deploy: the next agent finishes it without duplicates', async () => {
    const nodeId = `kill-mid-${process.pid}`;
    const { dataDir, restart } = await setUp(nodeId);
    const stack = { name: 'k2', services: [realService('web', image, { replicas: 6 })] };
    await runAndKill(dataDir, JSON.stringify(stack), nodeId, (line) => line.startsWith('running '));
    const survivors = (await inspectAll(nodeId)).filter((c) => c.state === 'running');
    const agent = await restart();
    await eventually(() => agent.services()[0]?.converged === true, { timeoutMs: 60_000, what: 'deploy finished by the new agent' });
    const after = await inspectAll(nodeId);
    expect(after.map((c) => c.name)).toEqual(['k2_web_1', 'k2_web_2', 'k2_web_3', 'k2_web_4', 'k2_web_5', 'k2_web_6']);
    expect(after.every((c) => c.state === 'running')).toBe(true);
    // Whatever already ran before the kill kept running untouched.
    for (const s of survivors) expect(after.find((c) => c.id === s.id)).toEqual(s);
  });
});
