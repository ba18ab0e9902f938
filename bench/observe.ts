// Observation benchmark (issue 10): what watching costs the daemon, and how fresh a viewer's view is.
//  - The real node agent (src/actors) supervises 100 replicas with a healthcheck on the in-memory
//    engine (src/sim/sim-runtime.ts, on the system clock); the engine's health events drive the
//    container actors (engine event → agent → container machine → report to the agent).
//  - The real API serves GET /v1/inspect on loopback; viewers are WebSocket clients in worker threads.
//  - Throughput: the same burst of engine events with 0, 1 and 10 viewers connected (rounds rotate
//    the order), until every replica shows the last health set; actor events per engine event are
//    counted once through the inspection observer → actor events/s.
//  - Latency: single health events 10 ms apart on one replica; time from the engine event to the
//    arrival of its @xstate.event frame at a viewer (absolute high-resolution clocks of both threads).
// Usage: npm run bench:observe -- [--replicas 100] [--events 20000] [--rounds 3] [--probes 200] [--out FILE] [--no-write]
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import pino from 'pino';
import { noopTelemetry, startDaemonSystem } from '../src/actors/daemon-system.ts';
import { systemClock } from '../src/adapters/system-clock.ts';
import { buildApiServer } from '../src/api/build-api-server.ts';
import type { ClientRequest, CommandResult } from '../src/cluster/commands.ts';
import { stableHash } from '../src/cluster/stable-hash.ts';
import { ClusterState, type ClusterStateData } from '../src/cluster/state.ts';
import { loadCompose } from '../src/compose/load-compose.ts';
import { InspectionHub } from '../src/observe/inspection-hub.ts';
import { createRedactor } from '../src/observe/redaction.ts';
import type { HealthState } from '../src/seams/container-runtime.ts';
import type { StateStore } from '../src/seams/state-store.ts';
import { SimRuntime } from '../src/sim/sim-runtime.ts';
import { describeHost } from './lib/host.ts';
import { round } from './lib/report.ts';
import { measuredCommit } from './lib/git-commit.ts';

const { values: flags } = parseArgs({
  options: {
    replicas: { type: 'string', default: '100' },
    events: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '3' },
    probes: { type: 'string', default: '200' },
    out: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
  },
});
const replicas = Number(flags.replicas);
const engineEvents = Number(flags.events);
const rounds = Number(flags.rounds);
const probes = Number(flags.probes);
const token = 'bench-token-0123456789abcdef0123456789';
const logger = pino({ level: 'warn' });
const now = () => performance.timeOrigin + performance.now();
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Desired state in memory: the store seam as the single-node file store has it, minus the file. */
class MemoryStore implements StateStore {
  private readonly state = new ClusterState();
  private readonly listeners = new Set<(state: Readonly<ClusterStateData>) => void>();
  async open(): Promise<void> {}
  async close(): Promise<void> {}
  current() {
    return this.state.view();
  }
  async submit(request: ClientRequest): Promise<CommandResult> {
    const result = this.state.apply(this.state.appliedIndex + 1, request);
    for (const listener of this.listeners) listener(this.state.view());
    return result;
  }
  subscribe(listener: (state: Readonly<ClusterStateData>) => void) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

const runtime = new SimRuntime({ clock: systemClock });
const store = new MemoryStore();
const system = await startDaemonSystem({ nodeId: 'bench', runtime, store, clock: systemClock, logger, telemetry: noopTelemetry, reconcileIntervalMs: 3_600_000 });
const compose = loadCompose({
  stackName: 'bench',
  content: `services:\n  web:\n    image: bench/busybox:1\n    command: ["httpd", "-f"]\n    healthcheck:\n      test: ["CMD", "true"]\n      interval: 1h\n    deploy:\n      replicas: ${replicas}\n`,
});
if (!compose.ok) throw new Error(`bench compose file rejected: ${JSON.stringify(compose.errors)}`);
await store.submit({ clientId: 'bench', seq: 1, command: { type: 'deploy-stack', stack: compose.stack, specHash: stableHash(compose.stack), atMs: Date.now() } });
while (system.containers().filter((c) => c.state === 'running').length < replicas) await new Promise((resolve) => setTimeout(resolve, 20));
const containers = runtime.snapshot().map((c) => ({ id: c.id, name: c.name.slice(1) })).sort((a, b) => a.name.localeCompare(b.name));
const probe = containers[0]!;

const hub = new InspectionHub({ sources: [{ root: system.root }], redactor: createRedactor([token]), wallClockMs: () => Date.now(), logger });
const api = await buildApiServer({
  nodeId: 'bench',
  store,
  agent: system,
  loadCompose,
  logger,
  wallClockMs: () => Date.now(),
  clientId: 'bench',
  token,
  bind: { host: '127.0.0.1', port: 0 },
  inspection: hub,
});
const address = await api.listen({ host: '127.0.0.1', port: 0 });
const url = `${address.replace('http', 'ws')}/v1/inspect`;

interface Viewers {
  readonly worker: Worker;
  readonly probeArrivals: number[];
}

async function startViewers(count: number): Promise<Viewers> {
  const viewers = await new Promise<Viewers>((resolve, reject) => {
    const worker = new Worker(new URL('./observe-viewer.mjs', import.meta.url), { workerData: { url, token, probeName: probe.name, count } });
    const started: Viewers = { worker, probeArrivals: [] };
    worker.on('message', (message: { type: string; at?: number; code?: number; reason?: string }) => {
      if (message.type === 'ready') resolve(started);
      else if (message.type === 'probe') started.probeArrivals.push(message.at!);
      else if (message.type === 'closed' && message.code !== 1000 && message.code !== 1005) reject(new Error(`viewer closed: ${message.code} ${message.reason}`));
    });
    worker.on('error', reject);
  });
  while (hub.viewerCount() < count) await turn();
  return viewers;
}

async function stopViewers(viewers: Viewers | undefined): Promise<void> {
  await viewers?.worker.terminate();
  while (hub.viewerCount() > 0) await new Promise((resolve) => setTimeout(resolve, 10));
}

let healthRound = 0;
/** Sets every replica's health `engineEvents` times in all, round-robin; resolves once the agent shows the last value everywhere. */
async function burst(count: number): Promise<{ seconds: number; actorEvents: number; bytesPerViewer: number }> {
  const observedBefore = hub.stats.inspectionEvents;
  const bytesBefore = hub.stats.bytesSent;
  const started = performance.now();
  const last = new Map<string, HealthState>();
  for (let i = 0; i < count; i++) {
    const container = containers[i % containers.length]!;
    if (i % containers.length === 0) healthRound++;
    const health: HealthState = healthRound % 2 === 0 ? 'healthy' : 'starting';
    runtime.setHealth(container.id, health);
    last.set(container.name, health);
    if (i % 200 === 199) await turn();
  }
  for (;;) {
    const views = system.containers();
    if (views.every((view) => last.get(view.name) === undefined || view.health === last.get(view.name))) break;
    await turn();
  }
  return { seconds: (performance.now() - started) / 1000, actorEvents: hub.stats.inspectionEvents - observedBefore, bytesPerViewer: (hub.stats.bytesSent - bytesBefore) / Math.max(1, hub.viewerCount()) };
}

async function latency(watched: Viewers): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < probes; i++) {
    const before = watched.probeArrivals.length;
    const sentAt = now();
    runtime.setHealth(probe.id, i % 2 === 0 ? 'starting' : 'healthy');
    const deadline = Date.now() + 2000;
    while (watched.probeArrivals.length === before) {
      if (Date.now() > deadline) throw new Error('a probe frame never arrived');
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    samples.push(watched.probeArrivals[before]! - sentAt);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return samples;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
const median = (values: number[]) => percentile(values, 50);

const startedAt = new Date();
const loadAtStart = round(loadavg()[0] ?? 0, 2);
// Warm-up: the JIT, and the first frames' definition serialization.
await burst(Math.min(engineEvents, 5000));
const warm = await startViewers(1);
await burst(Math.min(engineEvents, 5000));
await stopViewers(warm);

const configurations = [0, 1, 10];
const samples: Record<number, { engineEventsPerSecond: number; actorEvents: number; seconds: number; frameBytesPerEngineEvent: number }[]> = { 0: [], 1: [], 10: [] };
for (let r = 0; r < rounds; r++) {
  // Each round starts with another configuration, so drift over the run weighs on all of them.
  for (let k = 0; k < configurations.length; k++) {
    const count = configurations[(r + k) % configurations.length]!;
    const viewers = count > 0 ? await startViewers(count) : undefined;
    const { seconds, actorEvents, bytesPerViewer } = await burst(engineEvents);
    await stopViewers(viewers);
    samples[count]!.push({ engineEventsPerSecond: Math.round(engineEvents / seconds), actorEvents, seconds: round(seconds, 3), frameBytesPerEngineEvent: Math.round(bytesPerViewer / engineEvents) });
    process.stderr.write(`round ${r + 1}: ${count} viewer(s): ${Math.round(engineEvents / seconds)} engine events/s\n`);
  }
}
// Actor events per engine event, counted by the observer while it was attached.
const counted = [...samples[1]!, ...samples[10]!];
const actorEventsPerEngineEvent = counted.reduce((sum, s) => sum + s.actorEvents, 0) / (counted.length * engineEvents);
const perSecond = (count: number) => median(samples[count]!.map((s) => s.engineEventsPerSecond)) * actorEventsPerEngineEvent;

const oneViewer = await startViewers(1);
const latencyOne = await latency(oneViewer);
await stopViewers(oneViewer);
const tenViewers = await startViewers(10);
const latencyTen = await latency(tenViewers);
await stopViewers(tenViewers);

const result = {
  benchmark: 'observe',
  date: startedAt.toISOString(),
  commit: measuredCommit(),
  machine: describeHost(),
  loadAverage1m: { atStart: loadAtStart, atEnd: round(loadavg()[0] ?? 0, 2), note: 'the machine is shared with other work; higher load means noisier numbers' },
  settings: { replicas, engineEventsPerBurst: engineEvents, rounds, probes, viewersIn: 'one worker thread of the benchmark process holding every viewer socket, over loopback WebSockets' },
  method:
    'Real node agent on the in-memory engine (system clock), real API and inspection hub on loopback. A burst of engine health events round-robin over the replicas, '
    + 'timed until every replica shows the last health; medians of the rounds. Actor events per engine event counted by the inspection observer while attached. '
    + 'Latency: one health event every 10 ms on one replica, engine event to the arrival of its @xstate.event frame at a viewer.',
  summary: {
    eventsPerSecondNoViewer: Math.round(perSecond(0)),
    eventsPerSecondOneViewer: Math.round(perSecond(1)),
    eventsPerSecondTenViewers: Math.round(perSecond(10)),
    oneViewerOverNone: round(perSecond(1) / perSecond(0), 2),
    tenViewersOverNone: round(perSecond(10) / perSecond(0), 2),
    frameLatencyP50Ms: round(percentile(latencyOne, 50), 2),
    frameLatencyP99Ms: round(percentile(latencyOne, 99), 2),
    frameLatencyP99MsTenViewers: round(percentile(latencyTen, 99), 2),
    actorEventsPerEngineEvent: round(actorEventsPerEngineEvent, 2),
    frameBytesPerEngineEventPerViewer: median(samples[1]!.map((s) => s.frameBytesPerEngineEvent)),
    viewersCutOff: hub.stats.viewersCutOff,
  },
  results: { bursts: samples, latencyMs: { oneViewer: latencyOne.map((v) => round(v, 3)), tenViewers: latencyTen.map((v) => round(v, 3)) } },
};

hub.close();
await api.close();
await system.stop();
process.stdout.write(`${JSON.stringify(result.summary, null, 2)}\n`);
if (!flags['no-write']) {
  const here = dirname(fileURLToPath(import.meta.url));
  const out = flags.out ?? join(here, 'results', `observe-${startedAt.toISOString().slice(0, 10)}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`wrote ${out}\n`);
}
