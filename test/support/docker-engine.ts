import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, readdirSync, rmSync, writeFileSync, rmdirSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from './run-command.ts';
import { dockerEngineBinaries, ensureBinaries, findExecutable } from './system-packages.ts';

/**
 * A dockerd of our own: its own socket, data-root, exec-root, pidfile, cgroup parent and network
 * namespace, so it never touches the user's engine or fights it over the docker0 bridge.
 */
export interface PrivateEngine {
  readonly name: string;
  /** Unix socket path (no scheme). */
  readonly socketPath: string;
  /** `unix://` + socketPath, for DOCKER_HOST, `docker -H` and createDockerRuntime. */
  readonly dockerHost: string;
  /** Network namespace the engine (and so its containers' bridge) lives in. */
  readonly netnsName: string;
  /** `/var/run/netns/<netnsName>`; run a command inside with `nsenter --net=<netnsPath> cmd`. */
  readonly netnsPath: string;
  /** Directory holding all the engine's state; deleted by stop(). */
  readonly baseDir: string;
  /**
   * Stops dockerd and starts it again on the same paths. Default SIGTERM: a clean restart
   * (dockerd stops its containers first, as on `systemctl restart docker`). `{ signal: 'SIGKILL' }`
   * simulates a crash: containerd and the containers survive and the new dockerd finds them.
   */
  restart(options?: { readonly signal?: 'SIGTERM' | 'SIGKILL' }): Promise<void>;
  /** Kills the engine and everything it started, unmounts, deletes its state and namespace. */
  stop(): Promise<void>;
}

export interface StartPrivateEngineOptions {
  /** Give up waiting for the socket to answer after this long. */
  readonly readyTimeoutMs?: number;
  /** Extra dockerd flags. */
  readonly extraArgs?: readonly string[];
}

/** Every engine's state lives under here, one directory per name; short, because socket paths are limited to 107 bytes. */
export const enginesRoot = join(tmpdir(), 'cst-engines');
const netnsPrefix = 'cst-';
const ownerFile = 'owner.pid';

const validName = /^[a-z0-9][a-z0-9-]{0,29}$/;

/** The CLI from the docker.io package when present (it matches the engine's API), else any `docker`. */
export function dockerCliPath(): string {
  if (existsSync('/usr/bin/docker')) return '/usr/bin/docker';
  const found = findExecutable('docker');
  if (found === undefined) throw new Error('docker CLI not found: install docker.io (Debian) or docker-ce-cli');
  return found;
}

/**
 * Runs a command inside an engine's network namespace, e.g. `busybox wget` against a published
 * port: the engine's bridge and published ports exist only in there, never on the host, which is
 * also why no host iptables rules are needed (nothing crosses the host's FORWARD chain).
 */
export function runInEngineNetwork(engine: Pick<PrivateEngine, 'netnsPath'>, file: string, args: readonly string[]) {
  return runCommand('nsenter', [`--net=${engine.netnsPath}`, findExecutable(file) ?? file, ...args]);
}

/** Runs the docker CLI against an engine. */
export function docker(dockerHost: string, args: readonly string[], input?: string | Buffer | NodeJS.ReadableStream) {
  return runCommand(dockerCliPath(), ['-H', dockerHost, ...args], { input });
}

export async function startPrivateEngine(name: string, options: StartPrivateEngineOptions = {}): Promise<PrivateEngine> {
  if (!validName.test(name)) {
    throw new Error(`engine name "${name}" must match ${validName} (it names a network namespace and a directory)`);
  }
  if (process.getuid?.() !== 0) {
    throw new Error('private Docker engines need root (dockerd, network namespaces, mounts): run the Docker tests as root');
  }
  await ensureBinaries(dockerEngineBinaries);
  await sweepAbandonedEngines();

  const baseDir = join(enginesRoot, name);
  const owner = readOwner(baseDir);
  if (owner !== undefined && owner !== process.pid && isAlive(owner)) {
    throw new Error(`private engine "${name}" is in use by process ${owner}; pick another name`);
  }
  await cleanUpEngine(name); // leftovers of a crashed run, or of this process not stopping it

  const netnsName = `${netnsPrefix}${name}`;
  const netnsPath = `/var/run/netns/${netnsName}`;
  const socketPath = join(baseDir, 'docker.sock');
  mkdirSync(baseDir, { recursive: true });
  writeFileSync(join(baseDir, ownerFile), String(process.pid));
  await runCommand('ip', ['netns', 'add', netnsName]);
  await runCommand('ip', ['-n', netnsName, 'link', 'set', 'lo', 'up']);

  const args = [
    `--net=${netnsPath}`,
    findExecutable('dockerd') ?? 'dockerd',
    '--host', `unix://${socketPath}`,
    '--data-root', join(baseDir, 'data'),
    '--exec-root', join(baseDir, 'exec'),
    '--pidfile', join(baseDir, 'docker.pid'),
    // Own cgroup parent: a crashed run's containers can be found and killed without touching anyone else's.
    '--cgroup-parent', `/${netnsName}`,
    ...(options.extraArgs ?? []),
  ];
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  let child: ChildProcess | undefined;
  // If the test process dies without teardown, do not leave dockerd behind; the next run sweeps the rest.
  const killOnExit = () => child?.kill('SIGKILL');
  process.on('exit', killOnExit);

  const launch = async () => {
    child = spawnDockerd(baseDir, args);
    await waitUntilReady(child, socketPath, baseDir, readyTimeoutMs);
  };
  const terminate = async (signal: NodeJS.Signals, graceMs: number) => {
    const running = child;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), graceMs); });
    if ((await Promise.race([exited, timedOut])) === 'timeout') {
      running.kill('SIGKILL');
      await exited;
    }
    clearTimeout(timer);
  };

  try {
    await launch();
  } catch (error) {
    await terminate('SIGKILL', 0);
    process.off('exit', killOnExit);
    await cleanUpEngine(name);
    throw error;
  }

  let stopped = false;
  return {
    name,
    socketPath,
    dockerHost: `unix://${socketPath}`,
    netnsName,
    netnsPath,
    baseDir,
    async restart(restartOptions = {}) {
      if (stopped) throw new Error(`private engine "${name}" was stopped; start a new one`);
      const signal = restartOptions.signal ?? 'SIGTERM';
      await terminate(signal, 60_000);
      // A killed dockerd leaves its containerd orphaned (the shims keep the containers alive). The
      // new dockerd would wait for that half-dead containerd and time out, so it goes too, as when
      // a host crash takes dockerd and containerd down together.
      if (signal === 'SIGKILL') await killContainerd(baseDir);
      await launch();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await terminate('SIGKILL', 0);
      process.off('exit', killOnExit);
      await cleanUpEngine(name);
    },
  };
}

function spawnDockerd(baseDir: string, args: readonly string[]): ChildProcess {
  const logFd = openSync(join(baseDir, 'dockerd.log'), 'a');
  try {
    // nsenter (not `ip netns exec`): the latter remounts /sys and dockerd then misses the devices cgroup.
    const child = spawn('nsenter', args, { stdio: ['ignore', logFd, logFd] });
    child.on('error', () => undefined); // surfaced by waitUntilReady through the exit check
    return child;
  } finally {
    closeSync(logFd);
  }
}

async function waitUntilReady(child: ChildProcess, socketPath: string, baseDir: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`dockerd exited (${child.exitCode ?? child.signalCode}) before answering on ${socketPath}:\n${logTail(baseDir)}`);
    }
    if (await ping(socketPath)) return;
    if (Date.now() >= deadline) {
      throw new Error(`dockerd did not answer on ${socketPath} within ${timeoutMs} ms:\n${logTail(baseDir)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

function logTail(baseDir: string): string {
  try {
    return readFileSync(join(baseDir, 'dockerd.log'), 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no dockerd log)';
  }
}

function readOwner(baseDir: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(join(baseDir, ownerFile), 'utf8'), 10);
    return Number.isFinite(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Engines whose owning test process is gone (crashed run, killed vitest) are cleaned up. */
async function sweepAbandonedEngines(): Promise<void> {
  if (!existsSync(enginesRoot)) return;
  for (const entry of readdirSync(enginesRoot)) {
    if (!validName.test(entry)) continue;
    const owner = readOwner(join(enginesRoot, entry));
    // Engines of this process are cleaned by name when reused; live owners are other test runs.
    if (owner === process.pid || (owner !== undefined && isAlive(owner))) continue;
    await cleanUpEngine(entry);
  }
}

/** Kills everything an engine of this name started and removes its mounts, cgroups, namespace and files. */
export async function cleanUpEngine(name: string): Promise<void> {
  const baseDir = join(enginesRoot, name);
  const netnsName = `${netnsPrefix}${name}`;
  // dockerd, its containerd and the shims all carry a path under baseDir on their command line.
  killProcesses((cmdline) => cmdline.includes(`${baseDir}/`));
  // Container processes do not, but they live in our cgroup parent.
  const cgroupDirs = cgroupDirsOf(netnsName);
  for (const dir of cgroupDirs) {
    for (const pid of pidsUnder(dir)) killPid(pid);
  }
  await waitForProcessesGone(cgroupDirs);
  unmountUnder(baseDir);
  const netnsPath = `/var/run/netns/${netnsName}`;
  unmountUnder(netnsPath);
  if (existsSync(netnsPath)) await runCommand('ip', ['netns', 'delete', netnsName]).catch(() => undefined);
  for (const dir of cgroupDirs) removeCgroupTree(dir);
  rmSync(baseDir, { recursive: true, force: true });
}

async function killContainerd(baseDir: string): Promise<void> {
  const config = `${baseDir}/exec/containerd/containerd.toml`;
  const killed = killProcesses((cmdline) => cmdline.startsWith('containerd ') && cmdline.includes(config));
  const deadline = Date.now() + 10_000;
  while (killed.some((pid) => existsSync(`/proc/${pid}`)) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  rmSync(`${baseDir}/exec/containerd/containerd.pid`, { force: true });
}

function killProcesses(match: (cmdline: string) => boolean): number[] {
  const killed: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue;
    }
    if (match(cmdline)) {
      killPid(pid);
      killed.push(pid);
    }
  }
  return killed;
}

function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function cgroupDirsOf(netnsName: string): string[] {
  const root = '/sys/fs/cgroup';
  const candidates = [join(root, netnsName)];
  try {
    for (const controller of readdirSync(root)) candidates.push(join(root, controller, netnsName));
  } catch {
    // no cgroup filesystem: nothing to clean
  }
  return candidates.filter((dir) => {
    try {
      return statSync(dir).isDirectory() && existsSync(join(dir, 'cgroup.procs'));
    } catch {
      return false;
    }
  });
}

function pidsUnder(dir: string): number[] {
  const pids: number[] = [];
  try {
    for (const line of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) {
      if (line.trim() !== '') pids.push(Number(line));
    }
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) pids.push(...pidsUnder(join(dir, entry.name)));
    }
  } catch {
    // cgroup vanished meanwhile
  }
  return pids;
}

/** Killed processes leave their cgroup asynchronously; wait (bounded) so the cgroups can be removed. */
async function waitForProcessesGone(cgroupDirs: readonly string[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  const remaining = () => cgroupDirs.flatMap(pidsUnder).filter((pid) => !isZombie(pid));
  while (remaining().length > 0 && Date.now() < deadline) {
    for (const pid of remaining()) killPid(pid);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function isZombie(pid: number): boolean {
  try {
    return /\)\s+Z\s/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

function unmountUnder(path: string): void {
  let mountPoints: string[];
  try {
    mountPoints = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[1] ?? '')
      .map((field) => field.replace(/\\(\d{3})/g, (_m, octal: string) => String.fromCharCode(Number.parseInt(octal, 8))))
      .filter((mountPoint) => mountPoint === path || mountPoint.startsWith(`${path}/`));
  } catch {
    return;
  }
  // Deepest first, lazily: a busy mount must not stop the rest of the cleanup.
  for (const mountPoint of mountPoints.sort((a, b) => b.length - a.length)) {
    spawnSyncQuiet('umount', ['-l', mountPoint]);
  }
}

function spawnSyncQuiet(file: string, args: readonly string[]): void {
  spawnSync(file, args, { stdio: 'ignore' });
}

function removeCgroupTree(dir: string): void {
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) removeCgroupTree(join(dir, entry.name));
    }
    rmdirSync(dir);
  } catch {
    // still busy or already gone; a later sweep retries
  }
}
