// Heartbeat benchmark: the leader's cost of node membership (src/actors/node-membership.ts) for
// 1,000 nodes, measured on the real clock in this process (no network: the dispatcher's socket
// work is not included — the cluster bench's leaderCpuPercentAt1000Workers measures the whole
// leader process).
//  1. throughput: heartbeats routed back to back, round-robin over the nodes → heartbeatsPerSecond
//  2. steady state: every node heartbeats at the default period (500 ms), spread evenly over the
//     period, for --seconds; CPU time of this process over wall time → membershipCpuPercentAt1000Nodes
// Usage: npm run bench:heartbeats -- [--nodes 1000] [--seconds 10] [--out FILE] [--no-write]
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { startNodeMembership, DEFAULT_MEMBERSHIP_SHARDS } from '../src/actors/node-membership.ts';
import { systemClock } from '../src/adapters/system-clock.ts';
import { DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_NODE_TIMING } from '../src/machines/node-timing.ts';
import { describeHost } from './lib/host.ts';
import { round } from './lib/report.ts';
import { measuredCommit } from './lib/git-commit.ts';

const { values: flags } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    out: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
  },
});
const nodeCount = Number(flags.nodes);
const steadySeconds = Number(flags.seconds);
if (!(nodeCount > 0) || !(steadySeconds > 0)) {
  process.stderr.write('bench:heartbeats: --nodes and --seconds must be positive numbers\n');
  process.exit(64);
}

const logger = pino({ level: 'warn' });
const nodeIds = Array.from({ length: nodeCount }, (_, i) => `node-${i}`);
const report = { containers: [{ name: 'web_1', phase: 'running' }] };

function throughput(): { heartbeats: number; seconds: number; perSecond: number } {
  const membership = startNodeMembership({ clock: systemClock, logger, nodes: nodeIds.map((id) => ({ id })), startAs: 'joining' });
  // Warm up the JIT, then time a fixed wall budget.
  for (let i = 0; i < 50_000; i++) membership.heartbeat(nodeIds[i % nodeCount]!, report);
  const budgetMs = 3000;
  let sent = 0;
  const started = performance.now();
  while (performance.now() - started < budgetMs) {
    for (let i = 0; i < 1000; i++) membership.heartbeat(nodeIds[(sent + i) % nodeCount]!, report);
    sent += 1000;
  }
  const seconds = (performance.now() - started) / 1000;
  const counts = membership.counts();
  membership.stop();
  if (counts.ready !== nodeCount) throw new Error(`expected ${nodeCount} ready nodes after the throughput run, got ${JSON.stringify(counts)}`);
  return { heartbeats: sent, seconds: round(seconds, 3), perSecond: Math.round(sent / seconds) };
}

async function steadyState(): Promise<{ cpuPercent: number; heartbeats: number; seconds: number; statusChanges: number; finalCounts: Record<string, number> }> {
  let statusChanges = 0;
  const membership = startNodeMembership({
    clock: systemClock,
    logger,
    nodes: nodeIds.map((id) => ({ id })),
    startAs: 'joining',
    onEvent: (event) => {
      if (event.type === 'node.status') statusChanges += 1;
    },
  });
  for (const id of nodeIds) membership.heartbeat(id, report);
  statusChanges = 0;
  // 50 ticks per period, each sending the heartbeats of its slice: evenly spread, as real nodes are.
  const ticks = 50;
  const perTick = Math.ceil(nodeCount / ticks);
  let tick = 0;
  let heartbeats = 0;
  const timer = setInterval(() => {
    const slice = tick % ticks;
    for (let i = slice * perTick; i < Math.min(nodeCount, (slice + 1) * perTick); i++) {
      membership.heartbeat(nodeIds[i]!, report);
      heartbeats += 1;
    }
    tick += 1;
  }, DEFAULT_HEARTBEAT_INTERVAL_MS / ticks);
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  await new Promise((resolve) => setTimeout(resolve, steadySeconds * 1000));
  const cpu = process.cpuUsage(cpuStart);
  const wallMs = performance.now() - wallStart;
  clearInterval(timer);
  const finalCounts = membership.counts();
  membership.stop();
  return {
    cpuPercent: round(((cpu.user + cpu.system) / 1000 / wallMs) * 100, 2),
    heartbeats,
    seconds: round(wallMs / 1000, 2),
    statusChanges,
    finalCounts,
  };
}

const startedAt = new Date();
const loadAverage1m = round(loadavg()[0] ?? 0, 2);
const burst = throughput();
const steady = await steadyState();
const result = {
  benchmark: 'heartbeats',
  date: startedAt.toISOString(),
  commit: measuredCommit(),
  machine: describeHost(),
  loadAverage1m,
  settings: { nodes: nodeCount, heartbeatIntervalMs: DEFAULT_HEARTBEAT_INTERVAL_MS, timing: DEFAULT_NODE_TIMING, shards: DEFAULT_MEMBERSHIP_SHARDS, steadySeconds },
  method:
    'In-process node membership on the system clock. throughput: heartbeats routed back to back round-robin over the nodes for 3 s after a warm-up. ' +
    'steady: every node heartbeats once per period, spread over 50 ticks, for the given seconds; CPU time of the process / wall time. No sockets or JSON parsing: membership cost only.',
  summary: {
    heartbeatsPerSecond: burst.perSecond,
    membershipCpuPercentAt1000Nodes: nodeCount === 1000 ? steady.cpuPercent : undefined,
    steadyHeartbeatsPerSecond: Math.round(steady.heartbeats / steady.seconds),
    steadyCpuPercent: steady.cpuPercent,
    spuriousStatusChanges: steady.statusChanges,
  },
  results: { throughput: burst, steady },
};

process.stdout.write(`${JSON.stringify(result.summary, null, 2)}\n`);
if (steady.statusChanges !== 0 || steady.finalCounts.ready !== nodeCount) {
  process.stderr.write(`bench:heartbeats: nodes changed status while all were heartbeating: ${JSON.stringify(steady.finalCounts)}\n`);
}
if (!flags['no-write']) {
  const here = dirname(fileURLToPath(import.meta.url));
  const out = flags.out ?? join(here, 'results', `heartbeats-${startedAt.toISOString().slice(0, 10)}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`wrote ${out}\n`);
}
