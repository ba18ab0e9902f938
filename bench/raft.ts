// Raft benchmark: three Constellation raft members (src/raft-server) and three etcd 3.4 members on
// loopback, measured in the same run with the same value size and client counts.
// Both clusters run side by side; measurements alternate between them in rounds (A B, B A, ...)
// so that load from other work on a shared machine falls on both alike.
// Usage: npm run bench:raft -- [--seconds 5] [--rounds 3] [--clients 1,64] [--failovers 3]
//                               [--contenders constellation,etcd] [--out FILE] [--no-write] [--echo]
import { mkdtemp, rm } from 'node:fs/promises';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Agent } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EtcdCluster, ensureEtcdInstalled } from './lib/raft-etcd-cluster.ts';
import { httpRequest, keepAliveAgent } from './lib/raft-http.ts';
import { runClosedLoopLoad, summarizeLoad, type CommitWrite, type LoadResult } from './lib/raft-load.ts';
import { LocalRaftCluster } from './lib/raft-local-cluster.ts';
import { describeRaftBenchMachine } from './lib/raft-machine.ts';
import { measuredCommit } from './lib/git-commit.ts';

const VALUE_BYTES = 256;
const KEY_SPACE = 1000;
const ELECTION_TIMEOUT_MS = 1000; // etcd's default; ours is set to match
const HEARTBEAT_INTERVAL_MS = 100;

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    clients: { type: 'string', default: '1,64' },
    failovers: { type: 'string', default: '3' },
    contenders: { type: 'string', default: 'constellation,etcd' },
    out: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    echo: { type: 'boolean', default: false },
  },
});
const durationMs = Number(flags.seconds) * 1000;
const clientCounts = flags.clients.split(',').map(Number);
const failoverRounds = Number(flags.failovers);
const loadRounds = Number(flags.rounds);
const contenders = flags.contenders.split(',');
if (!(durationMs > 0) || clientCounts.some((n) => !(n > 0)) || !(failoverRounds >= 0) || !(loadRounds >= 1)) {
  process.stderr.write('bench:raft: --seconds, --rounds, --clients and --failovers must be positive numbers\n');
  process.exit(64);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A cluster under test, whichever implementation. */
interface Contender {
  readonly name: string;
  runningIds(): string[];
  clientUrl(id: string): string;
  findLeader(agent: Agent, timeoutMs: number): Promise<string>;
  kill(id: string): Promise<void>;
  restart(id: string): Promise<void>;
  /** A write function that follows the leader and retries until `deadlineMs` per write. */
  writer(agent: Agent, startAt: string, attemptTimeoutMs: number, deadlineMs: number): CommitWrite;
  /** One write sent to member `id` (following one redirect); true when committed. */
  attempt(agent: Agent, id: string, key: string, value: string, timeoutMs: number): Promise<boolean>;
  destroy(): Promise<void>;
}

function rotate(ids: readonly string[], current: string): string {
  const i = ids.indexOf(current);
  return ids[(i + 1) % ids.length] ?? ids[0] ?? current;
}

async function startConstellation(dir: string): Promise<Contender> {
  const cluster = await LocalRaftCluster.start({ dir, electionTimeoutMs: ELECTION_TIMEOUT_MS, heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS, echo: flags.echo });
  return {
    name: 'constellation',
    runningIds: () => cluster.runningIds(),
    clientUrl: (id) => cluster.clientUrl(id),
    findLeader: (agent, timeoutMs) => cluster.findLeader(agent, timeoutMs),
    kill: (id) => cluster.kill(id),
    restart: async (id) => {
      await cluster.startMember(id);
    },
    writer(agent, startAt, attemptTimeoutMs, deadlineMs) {
      let target = startAt;
      return async (key, value) => {
        const deadline = performance.now() + deadlineMs;
        for (;;) {
          const url = `${cluster.clientUrl(target)}/kv/${encodeURIComponent(key)}`;
          let status = 0;
          let body = '';
          try {
            ({ status, body } = await httpRequest(agent, 'PUT', url, value, attemptTimeoutMs));
          } catch {
            target = rotate(cluster.runningIds(), target);
          }
          if (status === 200) return;
          if (status === 307 || status === 421) {
            const leaderId = (JSON.parse(body) as { error?: { leaderId?: string } }).error?.leaderId;
            if (leaderId && cluster.runningIds().includes(leaderId) && leaderId !== target) {
              target = leaderId;
              continue;
            }
            target = rotate(cluster.runningIds(), target);
          } else if (status === 503) {
            target = rotate(cluster.runningIds(), target);
          }
          if (performance.now() > deadline) throw new Error(`write ${key} not committed within ${deadlineMs} ms (last status ${status})`);
          await sleep(5);
        }
      };
    },
    async attempt(agent, id, key, value, timeoutMs) {
      const path = `/kv/${encodeURIComponent(key)}`;
      const reply = await httpRequest(agent, 'PUT', `${cluster.clientUrl(id)}${path}`, value, timeoutMs).catch(() => undefined);
      if (reply?.status === 307 && typeof reply.headers.location === 'string') {
        const redirected = await httpRequest(agent, 'PUT', reply.headers.location, value, timeoutMs).catch(() => undefined);
        return redirected?.status === 200;
      }
      return reply?.status === 200;
    },
    destroy: () => cluster.destroy(),
  };
}

async function startEtcd(dir: string): Promise<Contender> {
  const cluster = await EtcdCluster.start(dir, { echo: flags.echo });
  const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
  return {
    name: 'etcd',
    runningIds: () => cluster.runningIds(),
    clientUrl: (id) => cluster.clientUrl(id),
    findLeader: (agent, timeoutMs) => cluster.findLeader(agent, timeoutMs),
    kill: (id) => cluster.kill(id),
    restart: (id) => cluster.restart(id),
    writer(agent, startAt, attemptTimeoutMs, deadlineMs) {
      let target = startAt;
      return async (key, value) => {
        const deadline = performance.now() + deadlineMs;
        const body = JSON.stringify({ key: b64(key), value: b64(value) });
        for (;;) {
          let status = 0;
          try {
            ({ status } = await httpRequest(agent, 'POST', `${cluster.clientUrl(target)}/v3/kv/put`, body, attemptTimeoutMs, { 'content-type': 'application/json' }));
          } catch {
            target = rotate(cluster.runningIds(), target);
          }
          if (status === 200) return;
          if (status !== 0) target = rotate(cluster.runningIds(), target);
          if (performance.now() > deadline) throw new Error(`etcd write ${key} not committed within ${deadlineMs} ms (last status ${status})`);
          await sleep(5);
        }
      };
    },
    async attempt(agent, id, key, value, timeoutMs) {
      const body = JSON.stringify({ key: b64(key), value: b64(value) });
      const reply = await httpRequest(agent, 'POST', `${cluster.clientUrl(id)}/v3/kv/put`, body, timeoutMs, { 'content-type': 'application/json' }).catch(() => undefined);
      return reply?.status === 200;
    },
    destroy: () => cluster.destroy(),
  };
}

/**
 * Starts a fresh write attempt every `everyMs` against the survivors in turn (without waiting for
 * earlier ones, which may hang on a dead leader) and resolves when the first one commits.
 */
function firstCommit(contender: Contender, agent: Agent, survivors: readonly string[], round: number, everyMs: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = false;
    let n = 0;
    const started = performance.now();
    const launch = (): void => {
      if (done) return;
      if (performance.now() - started > timeoutMs) {
        done = true;
        reject(new Error(`${contender.name}: no write committed within ${timeoutMs} ms of the leader kill`));
        return;
      }
      const id = survivors[n % survivors.length]!;
      n++;
      void contender.attempt(agent, id, `failover-${round}-${n}`, 'y'.repeat(VALUE_BYTES), 2000).then((ok) => {
        if (ok && !done) {
          done = true;
          resolve();
        }
      });
      setTimeout(launch, everyMs);
    };
    launch();
  });
}

interface FailoverRun {
  readonly killedLeader: string;
  readonly newLeader: string;
  /** From SIGKILL of the leader to the first write acknowledged by the new leader. */
  readonly msToFirstCommit: number;
}

interface ContenderReport {
  readonly name: string;
  readonly load: (LoadResult & { readonly writesPerSecByRound: number[] })[];
  readonly failover: { readonly runs: FailoverRun[]; readonly medianMs: number; readonly maxMs: number };
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function measureLoad(contender: Contender, clients: number): Promise<LoadResult & { readonly latenciesMs: number[] }> {
  const agent = keepAliveAgent(clients);
  try {
    const leader = await contender.findLeader(agent, 20_000);
    const write = contender.writer(agent, leader, 5000, 10_000);
    // Warm-up: connections, JIT, caches.
    await runClosedLoopLoad({ clients, durationMs: Math.min(1000, durationMs), valueBytes: VALUE_BYTES, keySpace: KEY_SPACE, write });
    const result = await runClosedLoopLoad({ clients, durationMs, valueBytes: VALUE_BYTES, keySpace: KEY_SPACE, write });
    process.stderr.write(`${contender.name}: ${clients} client(s): ${result.writesPerSec} writes/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${result.errors} errors (load avg ${loadavg()[0]!.toFixed(1)})\n`);
    return result;
  } finally {
    agent.destroy();
  }
}

async function measureFailover(contender: Contender, round: number): Promise<FailoverRun> {
  const agent = keepAliveAgent(256);
  try {
    const leader = await contender.findLeader(agent, 20_000);
    // One committed write first, so the cluster is known healthy before the kill.
    await contender.writer(agent, leader, 5000, 10_000)('failover-probe', 'x'.repeat(VALUE_BYTES));
    const survivors = contender.runningIds().filter((id) => id !== leader);
    const killedAt = performance.now();
    await contender.kill(leader);
    await firstCommit(contender, agent, survivors, round, 20, 30_000);
    const msToFirstCommit = Math.round(performance.now() - killedAt);
    const newLeader = await contender.findLeader(agent, 10_000);
    process.stderr.write(`${contender.name}: failover ${round + 1}: killed ${leader}, ${newLeader} committed after ${msToFirstCommit} ms\n`);
    await contender.restart(leader);
    return { killedLeader: leader, newLeader, msToFirstCommit };
  } finally {
    agent.destroy();
  }
}

/** Runs `body` for each contender, reversing the order every other round. */
async function alternate(list: readonly Contender[], round: number, body: (contender: Contender) => Promise<void>): Promise<void> {
  for (const contender of round % 2 === 0 ? list : [...list].reverse()) await body(contender);
}

async function main(): Promise<void> {
  const etcdVersion = contenders.includes('etcd') ? ensureEtcdInstalled() : 'not run';
  const machine = describeRaftBenchMachine(etcdVersion);
  const loadAverageAtStart = loadavg().map((n) => Math.round(n * 10) / 10);
  const dirs: string[] = [];
  const running: Contender[] = [];
  const reports: ContenderReport[] = [];
  try {
    for (const name of contenders) {
      const dir = await mkdtemp(join(tmpdir(), `bench-raft-${name}-`));
      dirs.push(dir);
      if (name === 'etcd') running.push(await startEtcd(dir));
      else if (name === 'constellation') running.push(await startConstellation(dir));
      else throw new Error(`unknown contender "${name}" (constellation, etcd)`);
    }
    const samples = new Map<string, { elapsedMs: number; latenciesMs: number[]; errors: number; perRound: number[] }>();
    for (let round = 0; round < loadRounds; round++) {
      for (const clients of clientCounts) {
        await alternate(running, round, async (contender) => {
          const result = await measureLoad(contender, clients);
          const key = `${contender.name}/${clients}`;
          const pooled = samples.get(key) ?? { elapsedMs: 0, latenciesMs: [], errors: 0, perRound: [] };
          pooled.elapsedMs += result.durationMs;
          for (const latency of result.latenciesMs) pooled.latenciesMs.push(latency);
          pooled.errors += result.errors;
          pooled.perRound.push(result.writesPerSec);
          samples.set(key, pooled);
        });
      }
    }
    const failovers = new Map<string, FailoverRun[]>();
    for (let round = 0; round < failoverRounds; round++) {
      await alternate(running, round, async (contender) => {
        const runs = failovers.get(contender.name) ?? [];
        runs.push(await measureFailover(contender, round));
        failovers.set(contender.name, runs);
      });
    }
    for (const contender of running) {
      const load = clientCounts.map((clients) => {
        const pooled = samples.get(`${contender.name}/${clients}`)!;
        return { ...summarizeLoad(clients, pooled.elapsedMs, pooled.latenciesMs, pooled.errors), writesPerSecByRound: pooled.perRound };
      });
      const runs = failovers.get(contender.name) ?? [];
      const times = runs.map((run) => run.msToFirstCommit);
      reports.push({ name: contender.name, load, failover: { runs, medianMs: median(times), maxMs: times.length ? Math.max(...times) : NaN } });
    }
  } finally {
    for (const contender of running) await contender.destroy();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  }
  const loadAverageAtEnd = loadavg().map((n) => Math.round(n * 10) / 10);

  const ours = reports.find((r) => r.name === 'constellation');
  const etcd = reports.find((r) => r.name === 'etcd');
  const ratios = ours && etcd ? {
    note: 'constellation / etcd; >1 means more writes/s, or longer latency / failover',
    load: ours.load.map((result, i) => ({
      clients: result.clients,
      writesPerSec: round(result.writesPerSec / etcd.load[i]!.writesPerSec),
      p50: round(result.p50Ms / etcd.load[i]!.p50Ms),
      p99: round(result.p99Ms / etcd.load[i]!.p99Ms),
    })),
    failoverMedian: round(ours.failover.medianMs / etcd.failover.medianMs),
  } : undefined;

  const report = {
    benchmark: 'raft',
    date: new Date().toISOString(),
    commit: measuredCommit(),
    machine,
    loadAverage: { atStart: loadAverageAtStart, atEnd: loadAverageAtEnd, note: 'the machine is shared; rounds alternate between contenders so both see the same background load' },
    settings: { members: 3, transport: 'loopback', fsync: true, valueBytes: VALUE_BYTES, keySpace: KEY_SPACE, secondsPerRun: durationMs / 1000, rounds: loadRounds, clients: clientCounts, failoverRounds, electionTimeoutMs: ELECTION_TIMEOUT_MS, heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS, client: 'closed loop, keep-alive HTTP agent, writes sent to the leader', etcdApi: 'v3 JSON gateway POST /v3/kv/put', constellationApi: 'PUT /kv/:key on src/raft-server' },
    results: reports,
    ratios,
  };

  const rows = reports.flatMap((r) => [
    ...r.load.map((l) => [r.name, `${l.clients} client${l.clients > 1 ? 's' : ''}`, String(l.writesPerSec), l.p50Ms.toFixed(2), l.p99Ms.toFixed(2), String(l.errors)]),
    [r.name, 'failover (median)', '', `${r.failover.medianMs} ms`, `max ${r.failover.maxMs} ms`, ''],
  ]);
  const header = ['contender', 'run', 'writes/s', 'p50 ms', 'p99 ms', 'errors'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ');
  process.stdout.write(`${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}\n`);
  if (ratios) process.stdout.write(`ratios (constellation/etcd): ${JSON.stringify(ratios.load)}; failover ${ratios.failoverMedian}\n`);

  if (!flags['no-write']) {
    const out = flags.out ?? join(dirname(fileURLToPath(import.meta.url)), 'results', `raft-${report.date.slice(0, 10)}.json`);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`wrote ${out}\n`);
  }
}


function round(n: number): number {
  return Math.round(n * 100) / 100;
}

await main();
