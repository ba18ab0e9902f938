// Deploy benchmark: seconds until N replicas of one busybox httpd service run, for Constellation,
// Docker Swarm, docker-compose 1.29 and the engine's own limit, in one run on this machine.
// Usage: npm run bench:deploy -- [--replicas 20,100] [--contenders engine,swarm,compose,constellation]
//                                [--timeout-ms 600000] [--out FILE] [--no-write]
// Needs root (private dockerd per contender, network namespaces); installs Debian packages it lacks.
// Diagnosis knobs (environment): BENCH_DAEMON_LOG=FILE (the daemon's log lines), BENCH_TIMELINE_FILE=FILE
// (every engine container event, ms since the deploy began), BENCH_CONSTELLATION_ROOT=DIR (run the daemon
// from another checkout, to compare two versions in one time window), BENCH_ENGINE_PARALLELISM,
// BENCH_DAEMON_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=DIR"), BENCH_POLL_MS (the running-poller interval, default 50).
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startPrivateEngine } from '../test/support/docker-engine.ts';
import { runCommand } from '../test/support/run-command.ts';
import { ensureTestImage, TEST_IMAGE } from '../test/support/test-image.ts';
import type { Contender } from './lib/contender.ts';
import { compose } from './lib/contenders/compose.ts';
import { constellation } from './lib/contenders/constellation.ts';
import { engineDirect } from './lib/contenders/engine-direct.ts';
import { swarm } from './lib/contenders/swarm.ts';
import { recordEngineTimeline } from './lib/engine-timeline.ts';
import { describeMachine, type MachineDescription } from './lib/machine.ts';
import { formatTable, ratiosOf, round, type ContenderResult, type DeployBenchReport, type ReplicaRun } from './lib/report.ts';

const allContenders: readonly Contender[] = [engineDirect, swarm, compose, constellation];

function parseOptions() {
  const { values } = parseArgs({
    options: {
      replicas: { type: 'string', default: '20,100' },
      contenders: { type: 'string', default: allContenders.map((c) => c.id).join(',') },
      'timeout-ms': { type: 'string', default: '600000' },
      repeat: { type: 'string', default: '1' },
      out: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
    },
  });
  const replicas = values.replicas.split(',').map((text) => {
    const n = Number(text.trim());
    if (!Number.isInteger(n) || n < 1) throw new Error(`--replicas: "${text}" is not a positive integer`);
    return n;
  });
  const contenders = values.contenders.split(',').map((text) => {
    const found = allContenders.find((c) => c.id === text.trim());
    if (found === undefined) throw new Error(`--contenders: unknown "${text}" (known: ${allContenders.map((c) => c.id).join(', ')})`);
    return found;
  });
  const timeoutMs = Number(values['timeout-ms']);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new Error(`--timeout-ms: "${values['timeout-ms']}" is not a positive number`);
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat: "${values.repeat}" is not a positive integer`);
  return { replicas, contenders, timeoutMs, repeat, out: values.out, write: !values['no-write'] };
}

const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

/** One contender, one replica count, on a fresh private engine that is stopped afterwards. */
async function measure(contender: Contender, replicas: number, timeoutMs: number, onMachine: (socketPath: string) => Promise<void>): Promise<ContenderResult> {
  const engine = await startPrivateEngine(`bench-${contender.id}-${process.pid}`);
  try {
    await onMachine(engine.socketPath);
    const image = await ensureTestImage(engine.dockerHost, TEST_IMAGE);
    const context = { engine, image, replicas, timeoutMs, log };
    const prepared = await contender.prepare(context);
    try {
      log(`${contender.id}: deploying ${replicas} replicas`);
      const loadAverage1m = round(loadavg()[0] ?? 0, 2);
      const startedAtWallMs = Date.now();
      const recorder = await recordEngineTimeline(engine.socketPath, startedAtWallMs);
      const startedAt = performance.now();
      const outcome = await prepared.deploy();
      const seconds = round((performance.now() - startedAt) / 1000, 3);
      log(`${contender.id}: ${replicas} running after ${seconds} s`);
      const verified = (await prepared.verify?.()) ?? {};
      const timeline = await recorder.finish(replicas);
      const extra: Record<string, number> = { ...(outcome?.extraSeconds ?? {}), ...verified };
      if (timeline.firstCreate !== undefined) extra.engineFirstCreate = timeline.firstCreate;
      if (timeline.lastStart !== undefined) extra.engineLastStart = timeline.lastStart;
      const extraSeconds = Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, round(v, 3)]));
      return { contender: contender.id, title: contender.title, seconds, loadAverage1m, extraSeconds, engineCreates: timeline.creates, engineStarts: timeline.starts };
    } finally {
      await prepared.dispose();
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`${contender.id}: failed: ${message}`);
    return { contender: contender.id, title: contender.title, error: message };
  } finally {
    await engine.stop();
  }
}

/** The code measured: commit plus "-dirty" when the working tree differs (results then need care). */
async function gitDescribe(): Promise<string> {
  try {
    const cwd = dirname(dirname(fileURLToPath(import.meta.url)));
    const { stdout } = await runCommand('git', ['describe', '--always', '--dirty', '--abbrev=12'], { cwd });
    return stdout.trim();
  } catch {
    return 'unknown';
  }
}

/** The median sample (by seconds) stands for the contender; every sample is kept beside it. */
function medianOf(samples: readonly ContenderResult[]): ContenderResult {
  const first = samples[0];
  if (first === undefined) throw new Error('no samples');
  if (samples.length === 1) return first;
  const ok = samples.filter((s) => s.seconds !== undefined).sort((a, b) => (a.seconds ?? 0) - (b.seconds ?? 0));
  const median = ok[Math.floor((ok.length - 1) / 2)];
  const failed = samples.find((s) => s.error !== undefined);
  const chosen = median ?? failed ?? first;
  return { ...chosen, samplesSeconds: samples.map((s) => s.seconds ?? null), ...(failed !== undefined ? { error: failed.error } : {}) };
}

async function main(): Promise<void> {
  const options = parseOptions();
  const startedAt = new Date().toISOString();
  let machine: MachineDescription | undefined;
  const runs: ReplicaRun[] = [];
  for (const replicas of options.replicas) {
    // Rounds visit every contender, each round starting one later: whatever the machine does in
    // the background (an earlier engine's clean-up, other work) falls on every contender alike,
    // instead of always on whoever comes last.
    const samples = new Map<Contender, ContenderResult[]>(options.contenders.map((c) => [c, []]));
    for (let round = 0; round < options.repeat; round++) {
      for (let i = 0; i < options.contenders.length; i++) {
        const contender = options.contenders[(round + i) % options.contenders.length]!;
        samples.get(contender)!.push(
          await measure(contender, replicas, options.timeoutMs, async (socketPath) => {
            machine ??= await describeMachine(socketPath);
          }),
        );
      }
    }
    const results = options.contenders.map((contender) => medianOf(samples.get(contender)!));
    runs.push({ replicas, results, ratios: ratiosOf(results) });
  }
  if (machine === undefined) throw new Error('no engine started, so nothing was measured');
  const report: DeployBenchReport = {
    benchmark: 'deploy',
    startedAt,
    commit: await gitDescribe(),
    machine,
    method:
      'Each contender gets a fresh private dockerd (own netns, data-root) with the busybox test image imported; ' +
      'untimed set-up (swarm init, daemon start) first; timed from the deploy command until the engine shows N running ' +
      '(the same poller, 50 ms, for every contender, started once the deploy command returned; Constellation afterwards, ' +
      'untimed, must also show N running in GET /v1/containers: apiSawAllRunning). Engine limit: create+start via the engine API, 8 in parallel. ' +
      `Contenders run one after another, in rounds that each start one contender later (loadAverage1m: the 1-minute load when the timed deploy began); ` +
      `with --repeat the median is reported (repeat=${options.repeat}).`,
    runs,
  };
  console.log(formatTable(report));
  if (options.write) {
    const out = options.out ?? join(dirname(fileURLToPath(import.meta.url)), 'results', `deploy-${startedAt.slice(0, 10)}.json`);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    log(`wrote ${out}`);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
