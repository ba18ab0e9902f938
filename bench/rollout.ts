// Rollout benchmark (issue 8): three netns nodes (own dockerd each, veth links), a 4-replica HTTP
// service publishing 8080, updated `start-first` while a bounded prober on n1 (one request at a
// time, a fresh connection each, at most one per 5 ms, 2 s timeout) sends requests through the
// published port: failed requests and seconds until every replica runs the new version healthy,
// for Constellation (3 managers, its ingress forwarders) and Docker Swarm (3 managers, routing
// mesh) in the same run, one cluster each. Then, on Constellation's cluster, the forwarder's
// overhead: the same HTTP client in n1's namespace against the published port (n1's forwarder)
// and directly against the replicas' own published ports on their nodes, alternating rounds.
// Usage: npm run bench:rollout -- [--rounds 3] [--seconds 4] [--contenders constellation,swarm] [--out FILE] [--no-write]
// Needs root (namespaces, dockerd). Traffic stays on this machine.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Dockerode from 'dockerode';
import { startNetnsCluster, type NetnsCluster } from '../test/support/netns-cluster.ts';
import type { ClusterNode } from '../test/support/netns-cluster-client.ts';
import { constellationCluster } from './lib/cluster/constellation.ts';
import { swarmCluster } from './lib/cluster/swarm.ts';
import { measuredCommit } from './lib/git-commit.ts';
import { describeHost } from './lib/host.ts';
import { round } from './lib/report.ts';
import { runLoad, startProbe, type LoadResult, type ProbeResult, type Target } from './lib/rollout/netns-client.ts';
import { PUBLISHED_PORT, REPLICAS, rolloutComposeFile, versionLabel } from './lib/rollout/rollout-file.ts';
import { poll } from './lib/poll.ts';

const stack = 'bench';
const log = (line: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

function parseOptions() {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '4' },
      'timeout-ms': { type: 'string', default: '240000' },
      contenders: { type: 'string', default: 'constellation,swarm' },
      out: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
    },
  });
  const count = (name: string, text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: "${text}" is not a positive whole number`);
    return n;
  };
  const contenders = values.contenders.split(',').map((id) => id.trim());
  for (const id of contenders) if (id !== 'constellation' && id !== 'swarm') throw new Error(`--contenders: unknown "${id}" (known: constellation, swarm)`);
  return {
    rounds: count('rounds', values.rounds),
    seconds: count('seconds', values.seconds),
    timeoutMs: count('timeout-ms', values['timeout-ms']),
    contenders: contenders as ('constellation' | 'swarm')[],
    out: values.out,
    write: !values['no-write'],
  };
}


/** Running containers of the stack per version, healthy ones apart, summed over the three engines. */
async function versionsOnEngines(engines: readonly Dockerode[], contender: string): Promise<{ running: Record<string, number>; healthy: Record<string, number> }> {
  const label = contender === 'swarm' ? `com.docker.stack.namespace=${stack}` : `constellation.stack=${stack}`;
  const running: Record<string, number> = {};
  const healthy: Record<string, number> = {};
  for (const docker of engines) {
    for (const row of await docker.listContainers({ filters: { label: [label], status: ['running'] } })) {
      const version = row.Labels[versionLabel] ?? '?';
      running[version] = (running[version] ?? 0) + 1;
      if (/\(healthy\)/.test(row.Status)) healthy[version] = (healthy[version] ?? 0) + 1;
    }
  }
  return { running, healthy };
}

/** Every replica runs `version`, healthy, and nothing else of the stack runs. */
function settledOn(counts: { running: Record<string, number>; healthy: Record<string, number> }, version: number): boolean {
  const v = String(version);
  return counts.running[v] === REPLICAS && counts.healthy[v] === REPLICAS && Object.keys(counts.running).every((key) => key === v);
}

async function deploy(contender: 'constellation' | 'swarm', cluster: NetnsCluster, version: number): Promise<void> {
  const [n1] = cluster.nodes as [ClusterNode];
  const compose = rolloutComposeFile(cluster.image, version);
  if (contender === 'swarm') {
    const file = join(cluster.description.runDir, `rollout-v${version}.yml`);
    writeFileSync(file, compose);
    await cluster.docker(n1, ['stack', 'deploy', '-c', file, stack]);
    return;
  }
  const response = await cluster.api(n1, '/v1/deploy', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ stack, compose }) });
  if (response.status !== 202) throw new Error(`POST /v1/deploy answered ${response.status}: ${await response.text()}`);
}

/** Loopback when the published port answers there on n1, else n1's own address (a local address too). */
async function probeTarget(cluster: NetnsCluster, n1: ClusterNode, timeoutMs: number): Promise<Target> {
  return poll(`port ${PUBLISHED_PORT} to answer on n1`, timeoutMs, async () => {
    for (const host of ['127.0.0.1', n1.address]) {
      const result = await runLoad(n1, { targets: [{ host, port: PUBLISHED_PORT }], path: '/', concurrency: 1, durationMs: 300 });
      if (result.requests > 0 && result.errors === 0) return { host, port: PUBLISHED_PORT };
    }
    return undefined;
  }, 500);
}

interface RolloutSample {
  readonly contender: 'constellation' | 'swarm';
  readonly rolloutSeconds?: number;
  readonly probe?: ProbeResult;
  readonly probeTarget?: string;
  /** Why no prober ran (the published port never answered). */
  readonly probeUnavailable?: string;
  /** Fewest healthy replicas (all versions) the engines ran during the rollout. */
  readonly minHealthyDuringRollout?: number;
  /** Whether the update kept every replica's worth of healthy capacity throughout (start-first). */
  readonly startFirstObserved?: boolean;
  readonly loadAverage1m: number;
  readonly error?: string;
}

interface OverheadRound {
  readonly round: number;
  readonly directRate: LoadResult;
  readonly forwarderRate: LoadResult;
  readonly directBulk: LoadResult;
  readonly forwarderBulk: LoadResult;
  readonly loadAverage1m: number;
}

async function measureRollout(contender: 'constellation' | 'swarm', cluster: NetnsCluster, timeoutMs: number): Promise<RolloutSample> {
  const [n1] = cluster.nodes as [ClusterNode];
  const engines = cluster.nodes.map((node) => new Dockerode({ socketPath: node.socketPath }));
  await deploy(contender, cluster, 1);
  await poll(`${contender}: v1 running healthy on the engines`, timeoutMs, async () => (settledOn(await versionsOnEngines(engines, contender), 1) ? true : undefined));
  // Swarm's routing mesh needs IPVS in the kernel; where it is missing the port never answers,
  // and the rollout is still timed, without a prober.
  const target = await probeTarget(cluster, n1, 30_000).catch(() => undefined);
  log(`${contender}: v1 healthy on ${REPLICAS} replicas, ${target ? `port answers on ${target.host}; probing and` : `port ${PUBLISHED_PORT} does not answer on n1 (no prober);`} updating start-first`);
  // Let every node's view settle (Swarm's mesh, our forwarders' tables) before the update.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const prober = target === undefined ? undefined : await startProbe(n1, { targets: [target], path: '/', intervalMs: 5 });
  if (prober) await new Promise((resolve) => setTimeout(resolve, 2_000));
  const loadAverage1m = round(loadavg()[0]!, 2);
  const started = performance.now();
  let rolloutSeconds: number | undefined;
  let error: string | undefined;
  // start-first means the healthy count never drops below the replica count (an old replica stops
  // only once its replacement is healthy); seen from the engines every 50 ms.
  let minHealthy = Number.POSITIVE_INFINITY;
  try {
    await deploy(contender, cluster, 2);
    await poll(`${contender}: v2 running healthy on every replica, v1 gone`, timeoutMs, async () => {
      const counts = await versionsOnEngines(engines, contender);
      minHealthy = Math.min(minHealthy, Object.values(counts.healthy).reduce((sum, n) => sum + n, 0));
      return settledOn(counts, 2) ? true : undefined;
    }, 50);
    rolloutSeconds = (performance.now() - started) / 1000;
    // Requests right after the last old replica stopped count too.
    if (prober) await new Promise((resolve) => setTimeout(resolve, 3_000));
  } catch (caught) {
    error = (caught as Error).message;
  }
  const probe = await prober?.stop();
  log(`${contender}: rollout ${rolloutSeconds?.toFixed(2) ?? '—'} s, ${probe ? `${probe.failed} of ${probe.sent} requests failed` : 'not probed'}${error ? ` (${error})` : ''}`);
  return {
    contender, ...(rolloutSeconds !== undefined ? { rolloutSeconds: round(rolloutSeconds, 2) } : {}),
    ...(probe && target ? { probe, probeTarget: `${target.host}:${target.port}` } : { probeUnavailable: `port ${PUBLISHED_PORT} did not answer on n1 (127.0.0.1 nor ${n1.address}) within 30 s of every replica running healthy` }),
    minHealthyDuringRollout: Number.isFinite(minHealthy) ? minHealthy : 0, startFirstObserved: minHealthy >= REPLICAS, loadAverage1m, ...(error ? { error } : {}),
  };
}

/** The replicas' own published ports on their nodes (what the forwarders connect to), from our API. */
async function directTargets(cluster: NetnsCluster): Promise<Target[]> {
  const [n1] = cluster.nodes as [ClusterNode];
  const rows = (await (await cluster.api(n1, `/v1/containers?stack=${stack}`)).json()) as { state: string; node: string; ports?: { target: number; protocol: string; hostPort: number }[] }[];
  const targets = rows.filter((row) => row.state === 'running').flatMap((row) => {
    const port = row.ports?.find((p) => p.target === 80 && p.protocol === 'tcp');
    return port === undefined ? [] : [{ host: cluster.node(row.node).address, port: port.hostPort }];
  });
  if (targets.length !== REPLICAS) throw new Error(`expected ${REPLICAS} replicas with a published port in GET /v1/containers, got ${targets.length}`);
  return targets;
}

async function measureOverhead(cluster: NetnsCluster, options: ReturnType<typeof parseOptions>): Promise<OverheadRound[]> {
  const [n1] = cluster.nodes as [ClusterNode];
  const direct = await directTargets(cluster);
  const forwarder = [{ host: '127.0.0.1', port: PUBLISHED_PORT }];
  const durationMs = options.seconds * 1000;
  const rounds: OverheadRound[] = [];
  for (let index = 1; index <= options.rounds; index++) {
    const loadAverage1m = round(loadavg()[0]!, 2);
    // Alternating, so a change of machine load during the run hits both sides alike.
    const directRate = await runLoad(n1, { targets: direct, path: '/index.html', concurrency: 8, durationMs });
    const forwarderRate = await runLoad(n1, { targets: forwarder, path: '/index.html', concurrency: 8, durationMs });
    const forwarderBulk = await runLoad(n1, { targets: forwarder, path: '/big', concurrency: 4, durationMs });
    const directBulk = await runLoad(n1, { targets: direct, path: '/big', concurrency: 4, durationMs });
    log(`overhead round ${index}/${options.rounds}: requests/s direct ${directRate.requestsPerSecond.toFixed(0)} vs forwarder ${forwarderRate.requestsPerSecond.toFixed(0)}, p99 ${directRate.p99Ms.toFixed(1)} vs ${forwarderRate.p99Ms.toFixed(1)} ms, MiB/s ${directBulk.megabytesPerSecond.toFixed(0)} vs ${forwarderBulk.megabytesPerSecond.toFixed(0)}`);
    rounds.push({ round: index, directRate, forwarderRate, directBulk, forwarderBulk, loadAverage1m });
  }
  return rounds;
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const ratio = (a: number | undefined, b: number | undefined): number | undefined => (a !== undefined && b !== undefined && b > 0 ? round(a / b, 3) : undefined);

async function main(): Promise<void> {
  const options = parseOptions();
  // Swarm's routing mesh is IPVS; a kernel built without it (this machine's) cannot run it.
  const ipvsMissing = !existsSync('/proc/sys/net/ipv4/vs') && !existsSync('/proc/net/ip_vs');
  const rollouts: RolloutSample[] = [];
  let overhead: OverheadRound[] = [];
  for (const id of options.contenders) {
    const cluster = await startNetnsCluster({ nodes: 3, log });
    try {
      // Forms the cluster as bench:cluster does (3 managers, default settings); the deploys are ours.
      await (id === 'swarm' ? swarmCluster : constellationCluster).prepare({ cluster, replicas: REPLICAS, timeoutMs: options.timeoutMs, log });
      try {
        rollouts.push(await measureRollout(id, cluster, options.timeoutMs));
      } catch (error) {
        log(`${id}: ${(error as Error).message}`);
        rollouts.push({ contender: id, loadAverage1m: round(loadavg()[0]!, 2), error: (error as Error).message });
      }
      if (id === 'constellation') overhead = await measureOverhead(cluster, options);
    } finally {
      await cluster.stop();
    }
  }
  const ours = rollouts.find((s) => s.contender === 'constellation');
  const swarm = rollouts.find((s) => s.contender === 'swarm');
  // A daemon that does not run start-first rollouts yet replaces replicas without a healthy
  // successor first: that is no start-first rollout, so its numbers stay in the samples only.
  const rolloutMeasured = ours?.startFirstObserved === true && ours.error === undefined;
  const med = (pick: (r: OverheadRound) => number) => median(overhead.map(pick));
  // Ratios are taken within each round (forwarder and direct ran back to back) and then the
  // median: the machine's load drifts between rounds, much less within one.
  const pairedRatio = (pick: (r: OverheadRound) => number | undefined) => {
    const m = median(overhead.flatMap((r) => {
      const value = pick(r);
      return value === undefined || !Number.isFinite(value) ? [] : [value];
    }));
    return m === undefined ? undefined : round(m, 3);
  };
  const directMiBps = med((r) => r.directBulk.megabytesPerSecond);
  const forwarderMiBps = med((r) => r.forwarderBulk.megabytesPerSecond);
  const directRps = med((r) => r.directRate.requestsPerSecond);
  const forwarderRps = med((r) => r.forwarderRate.requestsPerSecond);
  const directP99 = med((r) => r.directRate.p99Ms);
  const forwarderP99 = med((r) => r.forwarderRate.p99Ms);
  const summary = {
    failedRequests: rolloutMeasured ? ours!.probe?.failed : null,
    swarmFailedRequests: swarm?.probe?.failed ?? null,
    ...(swarm !== undefined && swarm.probe === undefined ? { swarmFailedRequestsNotMeasured: `${swarm.probeUnavailable ?? swarm.error ?? 'no prober ran'}${ipvsMissing ? ': Swarm\'s routing mesh needs IPVS, and this kernel has none (no /proc/sys/net/ipv4/vs; dockerd logs "error reading the kernel parameter net.ipv4.vs.*")' : ''}` } : {}),
    rolloutSeconds: rolloutMeasured ? ours!.rolloutSeconds ?? null : null,
    swarmRolloutSeconds: swarm?.rolloutSeconds ?? null,
    ...(rolloutMeasured ? {} : { rolloutNotMeasured: ours === undefined ? 'constellation not run' : ours.error ?? `the daemons on this commit ran no start-first rollout: healthy replicas fell to ${ours.minHealthyDuringRollout ?? '?'} of ${REPLICAS} during the update (an old replica stopped before its successor was healthy); see rollouts[]` }),
    probeRequests: ours?.probe?.sent ?? null,
    swarmProbeRequests: swarm?.probe?.sent ?? null,
    forwarderThroughputRatio: pairedRatio((r) => ratio(r.forwarderBulk.megabytesPerSecond, r.directBulk.megabytesPerSecond)) ?? null,
    forwarderP99OverDirect: pairedRatio((r) => ratio(r.forwarderRate.p99Ms, r.directRate.p99Ms)) ?? null,
    forwarderRequestRateRatio: pairedRatio((r) => ratio(r.forwarderRate.requestsPerSecond, r.directRate.requestsPerSecond)) ?? null,
    forwarderMiBPerSecond: forwarderMiBps === undefined ? null : round(forwarderMiBps, 1),
    directMiBPerSecond: directMiBps === undefined ? null : round(directMiBps, 1),
    forwarderRequestsPerSecond: forwarderRps === undefined ? null : round(forwarderRps, 0),
    directRequestsPerSecond: directRps === undefined ? null : round(directRps, 0),
    forwarderP99Ms: forwarderP99 === undefined ? null : round(forwarderP99, 2),
    directP99Ms: directP99 === undefined ? null : round(directP99, 2),
    ipvsInKernel: !ipvsMissing,
    replicas: REPLICAS,
  };
  const report = {
    bench: 'rollout',
    date: new Date().toISOString(),
    commit: measuredCommit(),
    machine: describeHost(),
    method: [
      `rollout: ${REPLICAS} busybox httpd replicas with a healthcheck publish ${PUBLISHED_PORT} (ingress) on 3 netns nodes (3 managers); v1 → v2 with update_config {parallelism: 1, order: start-first}; a prober in n1's namespace sends one GET at a time (fresh connection, ≤ 1 per 5 ms, 2 s timeout) to the published port from 2 s before the update until 3 s after every replica runs v2 healthy; rolloutSeconds = from the deploy until the engines run only v2, all healthy`,
      `forwarder overhead: in n1's namespace, the same client sends GET /index.html (8 at a time, fresh connections) and GET /big (32 MiB, 4 at a time) for ${options.seconds} s each, to 127.0.0.1:${PUBLISHED_PORT} (n1's forwarder, which spreads over the 4 replicas on 3 nodes) and directly to the 4 replicas' own published ports on their nodes' addresses (the forwarders' backends), alternating, ${options.rounds} rounds; ratios forwarder / direct within each round, then their median (MiB/s on /big for throughput, p99 and requests/s on the small requests); absolute values are medians over rounds; loadAverage1m = load average at each round's start`,
    ].join('; '),
    summary,
    rollouts,
    overhead,
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  if (options.write) {
    const out = options.out ?? join(dirname(fileURLToPath(import.meta.url)), 'results', `rollout-${report.date.slice(0, 10)}.json`);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    log(`wrote ${out}`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:rollout failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
