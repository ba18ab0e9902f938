// Cluster benchmark (issue 6), three parts in one run, results with the machine description:
//  deploy     — N replicas onto 3 netns nodes (own dockerd each, veth links) until the engines run
//               them all: Constellation (3 managers) vs Docker Swarm (3 managers), every
//               measurement on freshly started nodes, rounds alternating which goes first
//               → summary.deploy3NodesOverSwarm (median over median; aim ≤ 0.7)
//  scheduler  — the pure scheduler, 100k replicas onto 10k simulated nodes (bench/lib/scheduler-run.ts,
//               the code of bench:scheduler) → summary.placementsPerSecond (aim ≥ 50,000)
//  heartbeats — one real leader daemon in a netns, W simulated workers heartbeating at the default
//               period over its cluster port → summary.leaderCpuPercentAt1000Workers (aim ≤ 20)
//               and summary.heartbeatsPerSecond
// Usage: npm run bench:cluster -- [--replicas 30] [--rounds 3] [--workers 1000] [--seconds 20]
//                                  [--parts deploy,scheduler,heartbeats] [--timeout-ms 600000] [--out FILE] [--no-write]
// Needs root (namespaces, dockerd); installs the Debian packages it lacks. Traffic stays on this machine.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startNetnsCluster } from '../test/support/netns-cluster.ts';
import { runCommand } from '../test/support/run-command.ts';
import { constellationCluster } from './lib/cluster/constellation.ts';
import type { ClusterContender } from './lib/cluster/contender.ts';
import { recordEngineTimeline, type EngineTimeline } from './lib/engine-timeline.ts';
import { measureLeaderHeartbeats, type LeaderHeartbeatResult } from './lib/cluster/leader-heartbeats.ts';
import { swarmCluster } from './lib/cluster/swarm.ts';
import { describeHost } from './lib/host.ts';
import { round } from './lib/report.ts';
import { defaultSchedulerBenchSettings, runSchedulerBench, type SchedulerBenchReport } from './lib/scheduler-run.ts';

const parts = ['deploy', 'scheduler', 'heartbeats'] as const;
type Part = (typeof parts)[number];

function parseOptions() {
  const { values } = parseArgs({
    options: {
      replicas: { type: 'string', default: '30' },
      rounds: { type: 'string', default: '3' },
      workers: { type: 'string', default: '1000' },
      seconds: { type: 'string', default: '20' },
      parts: { type: 'string', default: parts.join(',') },
      'timeout-ms': { type: 'string', default: '600000' },
      out: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
    },
  });
  const positive = (name: string, text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: "${text}" is not a positive integer`);
    return n;
  };
  const chosen = values.parts.split(',').map((text) => {
    const part = parts.find((p) => p === text.trim());
    if (part === undefined) throw new Error(`--parts: unknown "${text}" (known: ${parts.join(', ')})`);
    return part;
  });
  return {
    replicas: positive('replicas', values.replicas),
    rounds: positive('rounds', values.rounds),
    workers: positive('workers', values.workers),
    seconds: positive('seconds', values.seconds),
    timeoutMs: positive('timeout-ms', values['timeout-ms']),
    parts: new Set<Part>(chosen),
    out: values.out,
    write: !values['no-write'],
  };
}

const log = (line: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

interface DeploySample {
  readonly round: number;
  readonly contender: ClusterContender['id'];
  readonly seconds?: number;
  /** Running replicas per engine (n1, n2, n3) when the deploy counted as done. */
  readonly perEngine?: readonly number[];
  /** Per engine: seconds from the deploy command to its first container create and last start. */
  readonly engines?: readonly EngineTimeline[];
  readonly loadAverage1m: number;
  readonly error?: string;
}

/** One contender on three freshly started nodes, stopped afterwards. */
async function deployOnce(contender: ClusterContender, round: number, replicas: number, timeoutMs: number, versions: { dockerd?: string }): Promise<DeploySample> {
  const cluster = await startNetnsCluster({ nodes: 3, log });
  try {
    versions.dockerd ??= (await cluster.docker(cluster.nodes[0]!, ['version', '--format', '{{.Server.Version}}'])).stdout.trim();
    const prepared = await contender.prepare({ cluster, replicas, timeoutMs, log });
    const loadAverage1m = round2(loadavg()[0] ?? 0);
    log(`round ${round} ${contender.id}: deploying ${replicas} replicas onto 3 nodes`);
    const startedAtWallMs = Date.now();
    const recorders = await Promise.all(cluster.nodes.map((node) => recordEngineTimeline(node.socketPath, startedAtWallMs)));
    const started = performance.now();
    const { perEngine } = await prepared.deploy();
    const seconds = round2((performance.now() - started) / 1000);
    log(`round ${round} ${contender.id}: ${replicas} running after ${seconds} s (per engine ${perEngine.join('/')})`);
    const engines = await Promise.all(recorders.map((recorder, i) => recorder.finish(perEngine[i] ?? 0)));
    log(`round ${round} ${contender.id}: engines' first create / last start (s): ${engines.map((e) => `${e.firstCreate ?? '-'}/${e.lastStart ?? '-'}`).join(', ')}`);
    await prepared.verify?.();
    return { round, contender: contender.id, seconds, perEngine, engines, loadAverage1m };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`round ${round} ${contender.id}: failed: ${message}`);
    return { round, contender: contender.id, loadAverage1m: round2(loadavg()[0] ?? 0), error: message };
  } finally {
    await cluster.stop();
  }
}

const round2 = (value: number): number => round(value, 2);

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function gitDescribe(): Promise<string> {
  try {
    const { stdout } = await runCommand('git', ['describe', '--always', '--dirty', '--abbrev=12'], { cwd: dirname(dirname(fileURLToPath(import.meta.url))) });
    return stdout.trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const options = parseOptions();
  const startedAt = new Date().toISOString();
  const commit = await gitDescribe();
  const loadAtStart = round2(loadavg()[0] ?? 0);
  const versions: { dockerd?: string } = {};

  let deploy: { samples: DeploySample[]; medianSeconds: Record<string, number | undefined>; ratio?: number } | undefined;
  if (options.parts.has('deploy')) {
    const samples: DeploySample[] = [];
    for (let r = 0; r < options.rounds; r++) {
      // Alternate who goes first, so a machine that slows down (or warms up) over the run weighs on both.
      const order = r % 2 === 0 ? [constellationCluster, swarmCluster] : [swarmCluster, constellationCluster];
      for (const contender of order) samples.push(await deployOnce(contender, r + 1, options.replicas, options.timeoutMs, versions));
    }
    const medianOf = (id: string): number | undefined => median(samples.filter((s) => s.contender === id && s.seconds !== undefined).map((s) => s.seconds!));
    const medianSeconds = { constellation: medianOf('constellation'), swarm: medianOf('swarm') };
    const ratio = medianSeconds.constellation !== undefined && medianSeconds.swarm !== undefined ? round2(medianSeconds.constellation / medianSeconds.swarm) : undefined;
    deploy = { samples, medianSeconds, ...(ratio !== undefined ? { ratio } : {}) };
  }

  let scheduler: SchedulerBenchReport | undefined;
  if (options.parts.has('scheduler')) {
    log('scheduler: 100k replicas onto 10k simulated nodes');
    const result = runSchedulerBench({ ...defaultSchedulerBenchSettings, rounds: 3 }, commit);
    for (const line of result.lines) log(`scheduler: ${line}`);
    scheduler = result.report;
  }

  let heartbeats: LeaderHeartbeatResult | undefined;
  if (options.parts.has('heartbeats')) {
    const cluster = await startNetnsCluster({ nodes: 1, withTestImage: false, log });
    try {
      heartbeats = await measureLeaderHeartbeats({ cluster, workers: options.workers, seconds: options.seconds, log });
    } finally {
      await cluster.stop();
    }
  }

  const { machine: _schedulerMachine, commit: _schedulerCommit, ...schedulerResult } = scheduler ?? {};
  const report = {
    benchmark: 'cluster',
    startedAt,
    commit,
    machine: { ...describeHost(), ...(versions.dockerd ? { dockerd: versions.dockerd } : {}) },
    loadAverage1m: { atStart: loadAtStart, atEnd: round2(loadavg()[0] ?? 0), note: 'the machine is shared with other work; higher load means noisier numbers' },
    summary: {
      ...(deploy?.ratio !== undefined ? { deploy3NodesOverSwarm: deploy.ratio } : {}),
      ...(scheduler ? { placementsPerSecond: scheduler.summary.placementsPerSecond } : {}),
      ...(heartbeats ? {
        // The per-heartbeat cost measured, at the rate the workers would send (see heartbeats.steady).
        [`leaderCpuPercentAt${options.workers}Workers`]: heartbeats.steady.leaderCpuPercentAtNominalRate,
        leaderCpuPercentMeasured: heartbeats.steady.leaderCpuPercent,
        heartbeatsPerSecond: heartbeats.steady.heartbeatsPerSecond,
        maxHeartbeatsPerSecond: heartbeats.saturated.heartbeatsPerSecond,
      } : {}),
      aims: { deploy3NodesOverSwarm: '<= 0.7', placementsPerSecond: '>= 50000', leaderCpuPercentAt1000Workers: '<= 20' },
    },
    ...(deploy ? {
      deploy: {
        replicas: options.replicas,
        rounds: options.rounds,
        method:
          'Each measurement starts three fresh netns nodes (own dockerd each, busybox test image imported, veth links to one host bridge); ' +
          'untimed: the contender forms a 3-manager cluster (Constellation: bootstrap + 2 joins with the manager token, default settings; Swarm: swarm init + 2 manager joins) ' +
          'and waits until all three are ready. Timed: from the deploy command (POST /v1/deploy to n1 / docker stack deploy on n1) until the three engines together run N containers ' +
          'of the stack (each engine polled every 50 ms). Same compose file (busybox httpd, no published ports). Rounds alternate which contender goes first; medians reported.',
        ...deploy,
      },
    } : {}),
    ...(scheduler ? { scheduler: schedulerResult } : {}),
    ...(heartbeats ? {
      heartbeats: {
        protocol:
          `POST /cluster/heartbeat on the leader's cluster port as daemons use it on ${commit} (src/cluster-mode/heartbeat-loop.ts, peer-rpc.ts): HTTP/1.1 keep-alive, ` +
          'one connection per simulated node, each request HMAC-SHA256-signed with the cluster secret, body {nodeId} while nothing changed (the full status on the first beat). ' +
          'The worker session of issue 6 (one stream per worker) is not on main yet; this is the protocol measured.',
        method:
          'One leader daemon process (bootstrapped, default settings) in a netns; W worker records registered through the log; then from this process over the veth link: ' +
          'idle window, a 5 s warm-up, a steady window with every worker beating once per period (phases spread evenly), then a back-to-back window with 64 in flight. ' +
          'CPU of the leader process (all threads) from /proc/PID/stat over wall time, in % of one core; the generator (this process) shares the same 2 cores.',
        ...heartbeats,
      },
    } : {}),
  };
  process.stdout.write(`${JSON.stringify(report.summary, null, 2)}\n`);
  if (options.write) {
    const out = options.out ?? join(dirname(fileURLToPath(import.meta.url)), 'results', `cluster-${startedAt.slice(0, 10)}.json`);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    log(`wrote ${out}`);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.stack ?? error.message : error);
    process.exit(1);
  },
);
