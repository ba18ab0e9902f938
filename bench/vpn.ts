// npm run bench:vpn — a VPN container with 3 dependents in its namespace (network_mode
// service:vpn), each serving through a port published on the vpn. The vpn is restarted with
// `docker restart`, then recreated (its spec changed, deployed again with the tool's own command);
// each time: seconds until every dependent serves through the published port again, capped at
// 60 s (`recovered: false`). Constellation (daemon process, POST /v1/deploy) and Debian's
// docker-compose 1.29 (`up -d`) on one private engine, one after the other, in the same run.
// Leaks: a running dependent seen with a network of its own instead of the vpn's namespace.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPrivateEngine, docker, type PrivateEngine } from '../test/support/docker-engine.ts';
import { ensureTestImage, TEST_IMAGE } from '../test/support/test-image.ts';
import { runCommand } from '../test/support/run-command.ts';
import { ensureBinaries, findExecutable } from '../test/support/system-packages.ts';
import { freeLoopbackPort } from '../test/support/free-port.ts';
import { startDaemonProcess } from './lib/daemon-process.ts';
import { describeMachine } from './lib/machine.ts';
import { measuredCommit } from './lib/git-commit.ts';

const repoRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));
const capMs = 60_000;
const dependents = ['web1', 'web2', 'web3'];

function stackFile(basePort: number, generation: string): string {
  const ports = dependents.map((_, i) => `      - target: ${81 + i}\n        published: ${basePort + i}\n        protocol: tcp\n        mode: host`).join('\n');
  const members = dependents.map((name, i) => `  ${name}:
    image: ${TEST_IMAGE}
    network_mode: "service:vpn"
    command: ["httpd", "-f", "-p", "${81 + i}", "-h", "/www"]
    stop_grace_period: 1s
    depends_on: [vpn]
`).join('');
  return `version: "3.8"
services:
  vpn:
    image: ${TEST_IMAGE}
    command: ["sh", "-c", "rm -f /tmp/healthy; touch /tmp/healthy; trap 'exit 0' TERM; while true; do sleep 1; done"]
    environment:
      GENERATION: "${generation}"
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/healthy"]
      interval: 1s
      timeout: 1s
      retries: 1
    ports:
${ports}
    stop_grace_period: 1s
${members}`;
}

async function get(engine: PrivateEngine, port: number): Promise<boolean> {
  const script = "fetch(process.argv[1], { signal: AbortSignal.timeout(1500) }).then(async (r) => { process.stdout.write(await r.text()); }).catch(() => process.exit(1))";
  return runCommand('nsenter', [`--net=${engine.netnsPath}`, process.execPath, '-e', script, `http://127.0.0.1:${port}/`], { timeoutMs: 10_000 })
    .then((r) => r.stdout.includes('constellation test image'), () => false);
}

interface Inspected { Id: string; Name: string; State: { Running: boolean }; HostConfig: { NetworkMode: string }; Config: { Labels: Record<string, string> | null } }

async function inspectAll(engine: PrivateEngine, label: string): Promise<Inspected[]> {
  const ids = (await docker(engine.dockerHost, ['ps', '-aq', '--no-trunc', '--filter', `label=${label}`])).stdout.split('\n').filter(Boolean);
  // One at a time: a container removed between the listing and its inspect is simply gone.
  const found = await Promise.all(ids.map((id) => docker(engine.dockerHost, ['inspect', id]).then((r) => JSON.parse(r.stdout) as Inspected[], () => [] as Inspected[])));
  return found.flat();
}

interface Side {
  readonly id: 'constellation' | 'compose';
  readonly label: string;
  readonly basePort: number;
  deploy(generation: string): Promise<void>;
  dispose(): Promise<void>;
}

/** Running dependents on a network of their own (not `container:<id>`): what the kill switch must prevent. */
async function leaks(engine: PrivateEngine, side: Side): Promise<number> {
  const all = await inspectAll(engine, side.label);
  return all.filter((c) => c.State.Running && !/vpn/.test(c.Name) && !c.HostConfig.NetworkMode.startsWith('container:')).length;
}

async function vpnId(engine: PrivateEngine, side: Side): Promise<string> {
  const vpn = (await inspectAll(engine, side.label)).find((c) => /vpn/.test(c.Name));
  if (!vpn) throw new Error(`${side.id}: no vpn container`);
  return vpn.Id;
}

/** Seconds until every dependent serves through the vpn's ports, or undefined after the cap; counts leaks while waiting. */
async function untilServing(engine: PrivateEngine, side: Side, sinceMs: number, seen: { leaks: number }): Promise<number | undefined> {
  while (Date.now() - sinceMs < capMs) {
    seen.leaks = Math.max(seen.leaks, await leaks(engine, side));
    const ok = await Promise.all(dependents.map((_, i) => get(engine, side.basePort + i)));
    if (ok.every(Boolean)) return (Date.now() - sinceMs) / 1000;
    await new Promise((r) => setTimeout(r, 200));
  }
  return undefined;
}

async function constellationSide(engine: PrivateEngine): Promise<Side> {
  const dir = mkdtempSync(join(tmpdir(), 'cst-bench-vpn-'));
  const configFile = join(dir, 'constellation.yml');
  writeFileSync(configFile, 'node:\n  id: bench\nreconcile:\n  intervalMs: 2000\n');
  const daemon = await startDaemonProcess({ repoRoot, configFile, dockerHost: engine.dockerHost, dataDir: join(dir, 'data'), apiPort: await freeLoopbackPort(), readyTimeoutMs: 120_000 });
  const basePort = 18_081;
  return {
    id: 'constellation', label: 'constellation.stack=bvpn', basePort,
    async deploy(generation) {
      const response = await fetch(`${daemon.apiUrl}/v1/deploy`, {
        method: 'POST', headers: { ...daemon.apiHeaders, 'content-type': 'application/json' },
        body: JSON.stringify({ stack: 'bvpn', compose: stackFile(basePort, generation) }),
      });
      if (response.status !== 202) throw new Error(`deploy answered ${response.status}: ${await response.text()}`);
    },
    async dispose() {
      await fetch(`${daemon.apiUrl}/v1/stacks/bvpn`, { method: 'DELETE', headers: daemon.apiHeaders }).catch(() => undefined);
      const until = Date.now() + 60_000;
      while (Date.now() < until && (await inspectAll(engine, 'constellation.stack=bvpn')).length > 0) await new Promise((r) => setTimeout(r, 500));
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function composeSide(engine: PrivateEngine): Promise<Side> {
  await ensureBinaries([{ binary: 'docker-compose', debianPackage: 'docker-compose' }]);
  const dir = mkdtempSync(join(tmpdir(), 'cst-bench-vpn-compose-'));
  const file = join(dir, 'docker-compose.yml');
  const env = { ...process.env, DOCKER_HOST: engine.dockerHost, COMPOSE_HTTP_TIMEOUT: '600' };
  const basePort = 19_081;
  const run = (args: string[]) => runCommand(findExecutable('docker-compose') ?? 'docker-compose', ['-p', 'bvpncompose', '-f', file, ...args], { env, cwd: dir, timeoutMs: 300_000 });
  return {
    id: 'compose', label: 'com.docker.compose.project=bvpncompose', basePort,
    async deploy(generation) {
      writeFileSync(file, stackFile(basePort, generation));
      await run(['up', '-d']);
    },
    async dispose() {
      await run(['down', '-t', '1']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Measured { readonly seconds?: number; readonly recovered: boolean }

async function measure(engine: PrivateEngine, side: Side): Promise<{ restart: Measured; recreate: Measured; leaks: number; deploySeconds?: number }> {
  const seen = { leaks: 0 };
  const deployedAt = Date.now();
  await side.deploy('one');
  const deploySeconds = await untilServing(engine, side, deployedAt, seen);
  if (deploySeconds === undefined) throw new Error(`${side.id}: the stack never served after its deploy`);
  const restartAt = Date.now();
  await docker(engine.dockerHost, ['restart', '-t', '1', await vpnId(engine, side)]);
  const restart = await untilServing(engine, side, restartAt, seen);
  process.stdout.write(`${side.id}: docker restart → ${restart === undefined ? 'not recovered in 60 s' : `${restart.toFixed(2)} s`}\n`);
  const recreateAt = Date.now();
  await side.deploy('two');
  const recreate = await untilServing(engine, side, recreateAt, seen);
  process.stdout.write(`${side.id}: recreate → ${recreate === undefined ? 'not recovered in 60 s' : `${recreate.toFixed(2)} s`}\n`);
  const result = (seconds: number | undefined): Measured => (seconds === undefined ? { recovered: false } : { seconds: Math.round(seconds * 100) / 100, recovered: true });
  return { restart: result(restart), recreate: result(recreate), leaks: seen.leaks, deploySeconds: Math.round(deploySeconds * 100) / 100 };
}

const engine = await startPrivateEngine(`bvpn-${process.pid % 100000}`);
try {
  await ensureTestImage(engine.dockerHost, TEST_IMAGE);
  process.stdout.write('engine ready; Constellation first\n');
  const ours = await constellationSide(engine);
  let constellationResult;
  try {
    constellationResult = await measure(engine, ours);
  } finally {
    await ours.dispose();
  }
  process.stdout.write('docker-compose 1.29\n');
  const theirs = await composeSide(engine);
  let composeResult;
  try {
    composeResult = await measure(engine, theirs);
  } finally {
    await theirs.dispose();
  }
  const composeVersion = (await runCommand(findExecutable('docker-compose') ?? 'docker-compose', ['version', '--short'])).stdout.trim();
  const report = {
    benchmark: 'vpn',
    commit: measuredCommit(),
    date: new Date().toISOString(),
    machine: { ...(await describeMachine(engine.socketPath)), dockerCompose: composeVersion },
    setup: 'busybox vpn with a healthcheck (1 s interval, 1 retry) publishing 3 ports; 3 busybox httpd dependents in its namespace (network_mode service:vpn); each wait capped at 60 s; recreate = the vpn\'s environment changed and deployed again (POST /v1/deploy / docker-compose up -d)',
    constellation: constellationResult,
    compose: composeResult,
    summary: {
      restartRecoverySeconds: constellationResult.restart.seconds ?? null,
      recreateRecoverySeconds: constellationResult.recreate.seconds ?? null,
      composeRecovered: composeResult.restart.recovered && composeResult.recreate.recovered,
      composeRestartRecovered: composeResult.restart.recovered,
      composeRecreateRecovered: composeResult.recreate.recovered,
      leaksObserved: constellationResult.leaks + composeResult.leaks,
    },
  };
  const dir = join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `vpn-${report.date.slice(0, 10)}.json`);
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(report.summary, null, 2)}\nwrote ${out}\n`);
} finally {
  await engine.stop();
}
