import { callPeer } from '../../../src/cluster-mode/peer-rpc.ts';
import type { ForwardedResult } from '../../../src/cluster-mode/raft-state-store.ts';
import { DEFAULT_HEARTBEAT_INTERVAL_MS } from '../../../src/machines/node-timing.ts';
import type { NetnsCluster } from '../../../test/support/netns-cluster.ts';
import { nodeClusterPort } from '../../../test/support/netns-cluster-client.ts';
import { HeartbeatLoad, type HeartbeatWindow } from './heartbeat-load.ts';
import { processCpuMs } from './process-cpu.ts';

export interface LeaderHeartbeatOptions {
  readonly cluster: NetnsCluster;
  readonly workers: number;
  /** Length of each measured window. */
  readonly seconds: number;
  readonly log: (line: string) => void;
}

export interface LeaderHeartbeatResult {
  readonly workers: number;
  readonly heartbeatIntervalMs: number;
  readonly idle: { readonly seconds: number; readonly leaderCpuPercent: number };
  readonly steady: HeartbeatWindow & {
    readonly leaderCpuPercent: number;
    readonly generatorCpuPercent: number;
    readonly heartbeatsPerSecond: number;
    /** The rate 1,000 workers at the default period would send: workers × 1000 / period. */
    readonly nominalHeartbeatsPerSecond: number;
    /** Leader CPU per answered heartbeat beyond its idle cost. */
    readonly leaderCpuMsPerHeartbeat: number;
    /**
     * Idle CPU plus the per-heartbeat cost at the nominal rate: what the leader would spend if
     * every beat arrived on time (on a loaded machine the generator falls behind, and the raw
     * figure then understates the cost).
     */
    readonly leaderCpuPercentAtNominalRate: number;
  };
  readonly saturated: HeartbeatWindow & { readonly concurrency: number; readonly leaderCpuPercent: number; readonly generatorCpuPercent: number; readonly heartbeatsPerSecond: number };
  /** Simulated workers the leader's GET /v1/nodes showed ready after the steady window. */
  readonly workersReadyAfterSteady: number;
}

const gib = 2 ** 30;

/** Leader CPU (% of one core) and this process's CPU over `run`. */
async function measure<T>(pid: number, run: () => Promise<T>): Promise<{ value: T; leaderCpuPercent: number; generatorCpuPercent: number; seconds: number }> {
  const leaderBefore = processCpuMs(pid);
  const ownBefore = process.cpuUsage();
  const started = performance.now();
  const value = await run();
  const wallMs = performance.now() - started;
  const own = process.cpuUsage(ownBefore);
  const pct = (ms: number): number => Math.round((ms / wallMs) * 1000) / 10;
  return { value, leaderCpuPercent: pct(processCpuMs(pid) - leaderBefore), generatorCpuPercent: pct((own.user + own.system) / 1000), seconds: wallMs / 1000 };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One real leader daemon (bootstrapped on n1, default settings) and `workers` simulated nodes
 * registered as worker records through the log, heartbeating over the leader's cluster port from
 * this process: idle leader, then every worker at the default period, then back to back.
 */
export async function measureLeaderHeartbeats(options: LeaderHeartbeatOptions): Promise<LeaderHeartbeatResult> {
  const { cluster, workers, seconds, log } = options;
  const leader = cluster.nodes[0]!;
  const daemon = await cluster.startDaemon(leader, { extraConfig: { reconcile: null, cluster: { bootstrap: true } } });
  const nodesReady = async (): Promise<{ id: string; status: string; role: string }[]> => (await (await cluster.api(leader, '/v1/nodes', { signal: AbortSignal.timeout(30_000) })).json()) as { id: string; status: string; role: string }[];
  for (let i = 0; !(await nodesReady().catch(() => [])).some((node) => node.id === leader.name && node.status === 'ready'); i++) {
    if (i > 300) throw new Error('the leader never listed itself ready');
    await sleep(100);
  }

  const ids = Array.from({ length: workers }, (_, i) => `sim-worker-${String(i + 1).padStart(4, '0')}`);
  log(`heartbeats: registering ${workers} simulated workers through the log`);
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < ids.length) {
      const i = next++;
      const node = {
        id: ids[i]!, address: `${cluster.description.hostAddress}:${20_000 + i}`, hostname: ids[i]!, labels: {}, role: 'worker', availability: 'active',
        platform: { os: 'linux', arch: 'x86_64' }, capacity: { nanoCpus: 2e9, memoryBytes: 4 * gib }, joinedAtMs: Date.now(),
      };
      // One client session per record: a session's writes apply in sequence order.
      const answer = await callPeer<ForwardedResult>(leader.clusterAddress, '/cluster/submit', { request: { clientId: `bench-${ids[i]}`, seq: 1, command: { type: 'register-node', node } } }, { secret: cluster.clusterSecret });
      if (!answer.result.ok) throw new Error(`register ${ids[i]}: ${JSON.stringify(answer.result)}`);
    }
  }));

  const pid = daemon.pid;
  const idle = await measure(pid, () => sleep(seconds * 1000));
  log(`heartbeats: idle leader ${idle.leaderCpuPercent} % of a core`);

  const load = new HeartbeatLoad({ host: leader.address, port: nodeClusterPort, secret: cluster.clusterSecret, nodeIds: ids });
  try {
    load.startPeriodic(DEFAULT_HEARTBEAT_INTERVAL_MS);
    // Warm-up: connections open, full statuses sent, every worker ready.
    await sleep(5_000);
    load.window();
    const steady = await measure(pid, () => sleep(seconds * 1000));
    const steadyWindow = load.window();
    const heartbeatsPerSecond = steadyWindow.answered / steadyWindow.seconds;
    const nominalHeartbeatsPerSecond = (workers * 1000) / DEFAULT_HEARTBEAT_INTERVAL_MS;
    const leaderCpuMsPerHeartbeat = Math.max(0, ((steady.leaderCpuPercent - idle.leaderCpuPercent) * 10) / heartbeatsPerSecond);
    const leaderCpuPercentAtNominalRate = Math.round((idle.leaderCpuPercent + (leaderCpuMsPerHeartbeat * nominalHeartbeatsPerSecond) / 10) * 10) / 10;
    const nodes = await nodesReady();
    const workersReadyAfterSteady = nodes.filter((node) => node.role === 'worker' && node.status === 'ready').length;
    load.stopPeriodic();
    log(`heartbeats: ${workers} workers at ${DEFAULT_HEARTBEAT_INTERVAL_MS} ms: leader ${steady.leaderCpuPercent} % at ${Math.round(heartbeatsPerSecond)} answered/s (${leaderCpuPercentAtNominalRate} % at the nominal ${nominalHeartbeatsPerSecond}/s), ${workersReadyAfterSteady} ready`);
    await sleep(1_000);
    load.window();
    const concurrency = 64;
    const saturated = await measure(pid, () => load.saturate(concurrency, Math.min(seconds, 10)));
    const saturatedWindow = load.window();
    log(`heartbeats: back to back (${concurrency} in flight): ${Math.round(saturatedWindow.answered / saturatedWindow.seconds)} answered/s, leader ${saturated.leaderCpuPercent} %`);
    return {
      workers,
      heartbeatIntervalMs: DEFAULT_HEARTBEAT_INTERVAL_MS,
      idle: { seconds: Math.round(idle.seconds * 10) / 10, leaderCpuPercent: idle.leaderCpuPercent },
      steady: {
        ...steadyWindow, leaderCpuPercent: steady.leaderCpuPercent, generatorCpuPercent: steady.generatorCpuPercent, heartbeatsPerSecond: Math.round(heartbeatsPerSecond),
        nominalHeartbeatsPerSecond, leaderCpuMsPerHeartbeat: Math.round(leaderCpuMsPerHeartbeat * 1000) / 1000, leaderCpuPercentAtNominalRate,
      },
      saturated: { ...saturatedWindow, concurrency, leaderCpuPercent: saturated.leaderCpuPercent, generatorCpuPercent: saturated.generatorCpuPercent, heartbeatsPerSecond: Math.round(saturatedWindow.answered / saturatedWindow.seconds) },
      workersReadyAfterSteady,
    };
  } finally {
    load.close();
  }
}
