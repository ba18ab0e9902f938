// Worker-session benchmark: what 1,000 workers cost one real leader daemon when they speak the
// worker protocol the daemons use (src/cluster-mode/worker/: one WebSocket session each,
// heartbeats every period with the status only when it changed, assignments as deltas).
//  1. idle: the bootstrapped leader with N worker records and no sessions → baseline CPU
//  2. steady: N sessions of the real worker client (session-client.ts), in this process, beating at
//     the default period → leader CPU (% of one core), beats acknowledged per second
//  3. fan-out: one deploy of N replicas, one per worker (node.role == worker, max 1 per node) →
//     time until every worker session holds its assignment, leader CPU meanwhile, frames sent
//  4. redeploy: the same stack with another command → every worker gets the new spec (one delta each)
// The simulated workers run no containers; the leader's own engine is absent (it places nothing on
// itself here). Run as any user: npm run bench:workers -- [--workers 1000] [--seconds 10] [--no-write]
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { systemClock } from '../src/adapters/system-clock.ts';
import { callPeer } from '../src/cluster-mode/peer-rpc.ts';
import type { ForwardedResult } from '../src/cluster-mode/raft-state-store.ts';
import { startWorkerSessionClient, type WorkerSessionClient } from '../src/cluster-mode/worker/session-client.ts';
import { workerKey } from '../src/cluster-mode/worker/worker-key.ts';
import { DEFAULT_HEARTBEAT_INTERVAL_MS } from '../src/machines/node-timing.ts';
import { freeLoopbackPort } from '../test/support/free-port.ts';
import { startDaemonProcess } from './lib/daemon-process.ts';
import { processCpuMs } from './lib/cluster/process-cpu.ts';
import { describeHost } from './lib/host.ts';
import { round } from './lib/report.ts';
import { measuredCommit } from './lib/git-commit.ts';

const { values: flags } = parseArgs({
  options: {
    workers: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    'no-write': { type: 'boolean', default: false },
  },
});
const workers = Number(flags.workers);
const seconds = Number(flags.seconds);
if (!(workers > 0 && workers <= 1000) || !(seconds > 0)) {
  process.stderr.write('bench:workers: --workers must be 1..1000 (one stack holds at most 1000 replicas) and --seconds positive\n');
  process.exit(64);
}
const repoRoot = fileURLToPath(new URL('../', import.meta.url));
const log = (line: string): void => void process.stderr.write(`bench:workers: ${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const reasons = new Map<string, number>();
const silent = pino({ level: 'debug' }, { write: (line: string) => {
  const parsed = JSON.parse(line) as { msg?: string; reason?: string; err?: { message?: string } };
  const key = `${parsed.msg ?? ''}${parsed.reason ? `: ${parsed.reason}` : ''}${parsed.err?.message ? ` (${parsed.err.message.slice(0, 60)})` : ''}`;
  reasons.set(key, (reasons.get(key) ?? 0) + 1);
} });

async function measure<T>(pid: number, run: () => Promise<T>): Promise<{ value: T; leaderCpuPercent: number; generatorCpuPercent: number; seconds: number }> {
  const leaderBefore = processCpuMs(pid);
  const ownBefore = process.cpuUsage();
  const started = performance.now();
  const value = await run();
  const wallMs = performance.now() - started;
  const own = process.cpuUsage(ownBefore);
  return { value, leaderCpuPercent: round(((processCpuMs(pid) - leaderBefore) / wallMs) * 100, 1), generatorCpuPercent: round(((own.user + own.system) / 1000 / wallMs) * 100, 1), seconds: round(wallMs / 1000, 2) };
}

async function until(what: string, timeoutMs: number, check: () => boolean | Promise<boolean>): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
  return performance.now() - started;
}

const dir = mkdtempSync(join(tmpdir(), 'cst-bench-workers-'));
const dataDir = join(dir, 'data');
const apiPort = await freeLoopbackPort();
const clusterPort = await freeLoopbackPort();
const configFile = join(dir, 'constellation.yml');
writeFileSync(configFile, `node:\n  id: leader\ncluster:\n  bootstrap: true\n  listen:\n    port: ${clusterPort}\nlog:\n  level: info\n  format: json\n`);
const startedAt = new Date();
const loadAverage1m = round(loadavg()[0] ?? 0, 2);
const daemon = await startDaemonProcess({ repoRoot, configFile, dockerHost: `unix://${join(dir, 'no-engine.sock')}`, dataDir, apiPort, readyTimeoutMs: 60_000 });
const clients: WorkerSessionClient[] = [];
try {
  const pid = daemon.child.pid!;
  const api = (path: string, init: RequestInit = {}): Promise<Response> => fetch(`${daemon.apiUrl}${path}`, { ...init, headers: { ...daemon.apiHeaders, ...(init.headers as Record<string, string> | undefined) } });
  await until('the leader to issue its join tokens', 30_000, async () => (await api('/v1/cluster/tokens')).status === 200);
  const secret = (JSON.parse(readFileSync(join(dataDir, 'cluster', 'identity.json'), 'utf8')) as { secret: string }).secret;
  const address = `127.0.0.1:${clusterPort}`;
  const ids = Array.from({ length: workers }, (_, i) => `w${String(i + 1).padStart(4, '0')}`);
  log(`registering ${workers} worker records through the log`);
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      const node = { id, address: `127.0.0.2:${clusterPort}`, hostname: id, labels: {}, role: 'worker', availability: 'active', platform: { os: 'linux', arch: 'x86_64' }, capacity: { nanoCpus: 2e9, memoryBytes: 2 ** 32 }, joinedAtMs: 0 };
      const answer = await callPeer<ForwardedResult>(address, '/cluster/submit', { request: { clientId: `bench-${id}`, seq: 1, command: { type: 'register-node', node } } }, { secret });
      if (!answer.result.ok) throw new Error(`register ${id}: ${JSON.stringify(answer.result)}`);
    }
  }));
  await sleep(1000);
  const idle = await measure(pid, () => sleep(seconds * 1000));
  log(`idle leader with ${workers} records and no sessions: ${idle.leaderCpuPercent} % of a core`);

  // The real worker end of the protocol, one per simulated worker.
  const held = new Map<string, Map<string, string>>();
  let frames = 0;
  for (const [i, id] of ids.entries()) {
    // Workers start over ~2 s, as machines booting would, not in one burst.
    if (i % 50 === 49) await sleep(100);
    const stacks = new Map<string, string>();
    held.set(id, stacks);
    clients.push(startWorkerSessionClient({
      nodeId: id, key: workerKey(secret, id), clock: systemClock, logger: silent, heartbeatIntervalMs: DEFAULT_HEARTBEAT_INTERVAL_MS,
      managers: () => [address],
      status: () => ({ containers: [], services: [] }),
      onAssign: (frame) => {
        frames += 1;
        if (frame.full) stacks.clear();
        for (const name of frame.remove) stacks.delete(name);
        for (const stack of frame.upsert) stacks.set(stack.name, JSON.stringify(stack.spec.services.map((service) => service.command)));
      },
      onManagers: () => undefined,
    }));
  }
  const progress = setInterval(() => log(`connected ${clients.filter((client) => client.connected() !== undefined).length}; ${JSON.stringify([...reasons])}`), 5000);
  const connectMs = await until('every session to open', 240_000, () => clients.every((client) => client.connected() !== undefined)).finally(() => clearInterval(progress));
  const readyWorkers = async (): Promise<number> => ((await (await api('/v1/nodes')).json()) as { role: string; status: string }[]).filter((n) => n.role === 'worker' && n.status === 'ready').length;
  await until('every worker ready on the leader', 60_000, async () => (await readyWorkers()) === workers);
  log(`${workers} sessions open in ${Math.round(connectMs)} ms, all ready`);
  await sleep(2000);
  const steady = await measure(pid, () => sleep(seconds * 1000));
  const readyAfterSteady = await readyWorkers();
  const beatsPerSecond = (workers * 1000) / DEFAULT_HEARTBEAT_INTERVAL_MS;
  log(`steady: ${workers} sessions beating every ${DEFAULT_HEARTBEAT_INTERVAL_MS} ms: leader ${steady.leaderCpuPercent} % (generator ${steady.generatorCpuPercent} %), ${readyAfterSteady} ready`);

  const compose = (command: string): string => `services:\n  app:\n    image: busybox\n    command: ["sleep", "${command}"]\n    deploy:\n      replicas: ${workers}\n      placement:\n        constraints: ["node.role == worker"]\n        max_replicas_per_node: 1\n`;
  const deploy = async (command: string): Promise<void> => {
    const response = await api('/v1/deploy', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ stack: 'fanout', compose: compose(command) }) });
    if (response.status !== 202) throw new Error(`deploy answered ${response.status}: ${await response.text()}`);
  };
  const holding = (command: string): number => ids.filter((id) => held.get(id)!.get('fanout') === JSON.stringify([['sleep', command]])).length;
  // Only ready workers take replicas: on a loaded machine a few may be late with their beats.
  const eligible = await readyWorkers();
  const framesBefore = frames;
  const fanout = await measure(pid, async () => {
    await deploy('3600');
    return until(`the ${eligible} ready workers to hold their assignment`, 120_000, () => holding('3600') >= eligible);
  });
  const fanoutFrames = frames - framesBefore;
  log(`fan-out: ${workers} replicas, one per worker: every worker held its assignment ${Math.round(fanout.value)} ms after the deploy was sent (${fanoutFrames} assign frames), leader ${fanout.leaderCpuPercent} %`);
  const redeployFramesBefore = frames;
  const redeploy = await measure(pid, async () => {
    await deploy('7200');
    return until('every assigned worker to hold the new spec', 120_000, () => holding('7200') >= holding('3600') + holding('7200') && holding('7200') > 0);
  });
  const redeployFrames = frames - redeployFramesBefore;
  log(`redeploy: every worker held the new spec after ${Math.round(redeploy.value)} ms (${redeployFrames} assign frames)`);

  const result = {
    benchmark: 'workers',
    date: startedAt.toISOString(),
    commit: measuredCommit(),
    machine: describeHost(),
    loadAverage1m,
    settings: { workers, seconds, heartbeatIntervalMs: DEFAULT_HEARTBEAT_INTERVAL_MS },
    method:
      'One real leader daemon process (bootstrapped, loopback, no engine) with N worker records committed through the log; N sessions of the real worker client ' +
      '(src/cluster-mode/worker/session-client.ts) in the benchmark process. Leader CPU from /proc/PID/stat over wall time. idle: records, no sessions. ' +
      'steady: every session beats every period (status unchanged after the first). fan-out: one deploy of N replicas, one per worker; time from sending the deploy ' +
      'until every session holds its assignment (placement by the leader\'s scheduler through the log, then one delta per worker). No peer is measured side by side: ' +
      'Swarm cannot be given 1,000 simulated workers on this machine.',
    summary: {
      leaderCpuPercentAt1000Workers: workers === 1000 ? steady.leaderCpuPercent : undefined,
      leaderCpuPercentSteady: steady.leaderCpuPercent,
      leaderCpuPercentIdle: idle.leaderCpuPercent,
      heartbeatsPerSecond: beatsPerSecond,
      fanoutMsToAllWorkers: Math.round(fanout.value),
      fanoutWorkers: eligible,
      redeployMsToAllWorkers: Math.round(redeploy.value),
      assignFramesPerWorkerOnRedeploy: round(redeployFrames / Math.max(1, holding('7200')), 2),
    },
    results: {
      idle,
      connect: { ms: Math.round(connectMs), clientLogCounts: Object.fromEntries(reasons) },
      steady: { ...steady, readyAfterSteady },
      fanout: { ...fanout, frames: fanoutFrames },
      redeploy: { ...redeploy, frames: redeployFrames },
    },
  };
  process.stdout.write(`${JSON.stringify(result.summary, null, 2)}\n`);
  if (!flags['no-write']) {
    const out = join(repoRoot, 'bench', 'results', `workers-${startedAt.toISOString().slice(0, 10)}.json`);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${out}`);
  }
} finally {
  for (const client of clients) client.stop();
  await daemon.stop();
  rmSync(dir, { recursive: true, force: true });
}
