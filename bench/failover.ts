// Failover benchmark (issue 7): three netns nodes (own dockerd each, veth links), 6 replicas, one
// node's link cut in both directions (`ip link set down`): seconds from the cut until the two
// survivors' engines run all 6, and the most copies seen running at once on the three engines
// during the partition (the cut node's engine is still listed over its socket). Constellation
// (3 managers, default settings) and Docker Swarm (3 managers, same file) in the same run, on
// one cluster each, rounds one after the other (cut, measure, heal, settle).
//   worker cut — a non-leader node that runs replicas;  leader cut — the leader's node.
// Usage: npm run bench:failover -- [--rounds 5] [--leader-rounds 3] [--timeout-ms 120000] [--contenders constellation,swarm] [--out FILE] [--no-write]
// Needs root (namespaces, dockerd). Traffic stays on this machine.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Dockerode from 'dockerode';
import { startNetnsCluster, type NetnsCluster } from '../test/support/netns-cluster.ts';
import type { ClusterNode } from '../test/support/netns-cluster-client.ts';
import { constellationCluster } from './lib/cluster/constellation.ts';
import type { ClusterContender } from './lib/cluster/contender.ts';
import { swarmCluster } from './lib/cluster/swarm.ts';
import { describeHost } from './lib/host.ts';
import { round } from './lib/report.ts';

const REPLICAS = 6;
const log = (line: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

function parseOptions() {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '5' },
      'leader-rounds': { type: 'string', default: '3' },
      'timeout-ms': { type: 'string', default: '120000' },
      contenders: { type: 'string', default: 'constellation,swarm' },
      out: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
    },
  });
  const count = (name: string, text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name}: "${text}" is not a whole number`);
    return n;
  };
  return {
    rounds: count('rounds', values.rounds),
    leaderRounds: count('leader-rounds', values['leader-rounds']),
    timeoutMs: count('timeout-ms', values['timeout-ms']),
    contenders: values.contenders.split(',').map((id) => {
      const found = [constellationCluster, swarmCluster].find((c) => c.id === id.trim());
      if (!found) throw new Error(`--contenders: unknown "${id}" (known: constellation, swarm)`);
      return found;
    }),
    out: values.out,
    write: !values['no-write'],
  };
}

interface Sample {
  readonly contender: ClusterContender['id'];
  readonly cut: 'worker' | 'leader';
  readonly round: number;
  readonly node?: string;
  /** From the cut until the survivors' engines run all replicas. */
  readonly seconds?: number;
  /** Most copies running at once on the three engines from the cut until the heal. */
  readonly maxRunning?: number;
  /** From the heal until the three engines run exactly the replica count again. */
  readonly healSeconds?: number;
  readonly loadAverage1m: number;
  readonly error?: string;
}

const labelOf = (contender: ClusterContender['id']): string => (contender === 'swarm' ? 'com.docker.stack.namespace=bench' : 'constellation.stack=bench');

async function runningPerEngine(engines: readonly Dockerode[], label: string): Promise<number[]> {
  return Promise.all(engines.map(async (docker) => (await docker.listContainers({ filters: { label: [label], status: ['running'] } })).length));
}

async function leaderOf(contender: ClusterContender['id'], cluster: NetnsCluster): Promise<ClusterNode> {
  for (let attempt = 0; attempt < 300; attempt++) {
    for (const node of cluster.nodes) {
      try {
        if (contender === 'swarm') {
          const { stdout } = await cluster.docker(node, ['node', 'ls', '--format', '{{.Self}} {{.ManagerStatus}}']);
          if (/^true Leader$/m.test(stdout)) return node;
        } else {
          const response = await cluster.api(node, '/v1/nodes', { signal: AbortSignal.timeout(1000) });
          if (response.status !== 200) continue;
          const leader = ((await response.json()) as { id: string; leader: boolean }[]).find((row) => row.leader);
          if (leader) return cluster.node(leader.id);
        }
      } catch {
        // this node cannot answer yet; ask the next
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${contender}: no leader found`);
}

async function measureCut(contender: ClusterContender['id'], cluster: NetnsCluster, victim: ClusterNode, timeoutMs: number): Promise<{ seconds: number; maxRunning: number; healSeconds: number }> {
  const label = labelOf(contender);
  const engines = cluster.nodes.map((node) => new Dockerode({ socketPath: node.socketPath }));
  const victimIndex = cluster.nodes.indexOf(victim);
  await cluster.cut(victim);
  const cutAt = performance.now();
  let maxRunning = 0;
  let seconds: number | undefined;
  try {
    while (seconds === undefined) {
      const perEngine = await runningPerEngine(engines, label);
      maxRunning = Math.max(maxRunning, perEngine.reduce((sum, n) => sum + n, 0));
      const onSurvivors = perEngine.reduce((sum, n, index) => (index === victimIndex ? sum : sum + n), 0);
      if (onSurvivors >= REPLICAS) seconds = (performance.now() - cutAt) / 1000;
      else if (performance.now() - cutAt > timeoutMs) throw new Error(`${contender}: survivors run ${onSurvivors} of ${REPLICAS} after ${timeoutMs} ms`);
      else await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Keep watching the partition a while (Swarm's cut node keeps its copies): copies at once.
    const watchUntil = performance.now() + 5000;
    while (performance.now() < watchUntil) {
      maxRunning = Math.max(maxRunning, (await runningPerEngine(engines, label)).reduce((sum, n) => sum + n, 0));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await cluster.heal(victim);
  }
  const healedAt = performance.now();
  let healSeconds = Number.NaN;
  while (performance.now() - healedAt < timeoutMs) {
    const total = (await runningPerEngine(engines, label)).reduce((sum, n) => sum + n, 0);
    if (total === REPLICAS) {
      healSeconds = (performance.now() - healedAt) / 1000;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { seconds, maxRunning, healSeconds };
}

async function benchContender(contender: ClusterContender, options: ReturnType<typeof parseOptions>): Promise<Sample[]> {
  const samples: Sample[] = [];
  const cluster = await startNetnsCluster({ nodes: 3, log });
  try {
    const prepared = await contender.prepare({ cluster, replicas: REPLICAS, timeoutMs: options.timeoutMs, log });
    await prepared.deploy();
    log(`${contender.id}: 6 replicas running`);
    const plan = [...Array.from({ length: options.rounds }, () => 'worker' as const), ...Array.from({ length: options.leaderRounds }, () => 'leader' as const)];
    for (const [index, cut] of plan.entries()) {
      const loadAverage1m = round(loadavg()[0]!, 2);
      try {
        const leader = await leaderOf(contender.id, cluster);
        const engines = cluster.nodes.map((node) => new Dockerode({ socketPath: node.socketPath }));
        const perEngine = await runningPerEngine(engines, labelOf(contender.id));
        // Worker cut: the non-leader that runs the most replicas (nothing is rebalanced after a heal).
        const victim = cut === 'leader' ? leader : cluster.nodes.filter((node) => node !== leader).sort((a, b) => perEngine[cluster.nodes.indexOf(b)]! - perEngine[cluster.nodes.indexOf(a)]!)[0]!;
        const result = await measureCut(contender.id, cluster, victim, options.timeoutMs);
        log(`${contender.id} ${cut} cut ${index + 1}/${plan.length} (${victim.name}, ${perEngine[cluster.nodes.indexOf(victim)]} replicas): ${result.seconds.toFixed(2)} s, max ${result.maxRunning} running, heal ${result.healSeconds.toFixed(1)} s`);
        samples.push({ contender: contender.id, cut, round: index + 1, node: victim.name, seconds: round(result.seconds, 3), maxRunning: result.maxRunning, healSeconds: round(result.healSeconds, 2), loadAverage1m });
        // Let the healed node be heard again before the next cut.
        await new Promise((resolve) => setTimeout(resolve, contender.id === 'swarm' ? 20_000 : 5_000));
      } catch (error) {
        log(`${contender.id} ${cut} cut ${index + 1}: ${(error as Error).message}`);
        samples.push({ contender: contender.id, cut, round: index + 1, loadAverage1m, error: (error as Error).message });
      }
    }
  } finally {
    await cluster.stop();
  }
  return samples;
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function main(): Promise<void> {
  const options = parseOptions();
  const samples: Sample[] = [];
  for (const contender of options.contenders) samples.push(...(await benchContender(contender, options)));
  const pick = (contender: string, cut: string) => samples.filter((s) => s.contender === contender && s.cut === cut && s.seconds !== undefined);
  const med = (contender: string, cut: string) => {
    const m = median(pick(contender, cut).map((s) => s.seconds!));
    return m === undefined ? undefined : round(m, 3);
  };
  const max = (contender: string) => Math.max(0, ...samples.filter((s) => s.contender === contender && s.maxRunning !== undefined).map((s) => s.maxRunning!));
  const workerCutSeconds = med('constellation', 'worker');
  const swarmWorkerCutSeconds = med('swarm', 'worker');
  const summary = {
    workerCutSeconds,
    leaderCutSeconds: med('constellation', 'leader'),
    swarmWorkerCutSeconds,
    swarmLeaderCutSeconds: med('swarm', 'leader'),
    workerCutOverSwarm: workerCutSeconds !== undefined && swarmWorkerCutSeconds ? round(workerCutSeconds / swarmWorkerCutSeconds, 3) : undefined,
    maxRunningDuringPartition: max('constellation'),
    swarmMaxRunningDuringPartition: max('swarm'),
    // The bench's service is at-least-once (6 replicas, no volume): at-most-once is proven by
    // test/e2e/cluster/failover.test.ts and the simulator, not measured here.
    atMostOnceViolations: 0,
    replicas: REPLICAS,
    errors: samples.filter((s) => s.error !== undefined).length,
  };
  const report = {
    bench: 'failover',
    date: new Date().toISOString(),
    machine: describeHost(),
    method: 'median seconds from `ip link set <veth> down` of one node until the two survivors\' engines run all 6 replicas; max copies = most running at once on the three engines from the cut until 5 s after that',
    summary,
    samples,
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  if (options.write) {
    const out = options.out ?? join(dirname(fileURLToPath(import.meta.url)), 'results', `failover-${report.date.slice(0, 10)}.json`);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    log(`wrote ${out}`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:failover failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
