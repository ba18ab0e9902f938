import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPrivateEngine, type PrivateEngine } from './docker-engine.ts';
import { runCommand } from './run-command.ts';
import { ensureBinaries } from './system-packages.ts';
import { ensureTestImage, TEST_IMAGE } from './test-image.ts';
import { NetnsClusterClient, type NetnsClusterDescription, type NetnsNodeDescription } from './netns-cluster-client.ts';

export type { NetnsClusterDescription, NetnsNodeDescription } from './netns-cluster-client.ts';
export { NetnsClusterClient, type ClusterNode, type StartDaemonOptions } from './netns-cluster-client.ts';

/**
 * N "machines" on one host, as the multi-node tests and the cluster benchmark need them: each node
 * is a network namespace with its own private dockerd, and one veth pair from it to a bridge on
 * the host, so nodes talk over real links with addresses of their own:
 *
 *   host: bridge cstbr<pid>  10.213.S.254/24 ── veth cv<pid>n1 ─┐ netns cst-cl<pid>n1: eth0 10.213.S.1, dockerd
 *                                           ── veth cv<pid>n2 ─┐ netns cst-cl<pid>n2: eth0 10.213.S.2, dockerd …
 *
 * The subnet (10.213.S.0/24, S picked so no host address is in it) exists only on that bridge and
 * in the namespaces. Names carry the pid of the process that started the cluster, so concurrent
 * runs do not collide, and a crashed run's leftovers (bridge, veths, rules, daemons, files) are
 * recognised and removed by the next start.
 */
export interface StartNetnsClusterOptions {
  /** How many nodes (1–20). */
  readonly nodes: number;
  /** Import the busybox test image into every engine (default true). */
  readonly withTestImage?: boolean;
  readonly log?: (line: string) => void;
}

/** A cluster this process started: the client's helpers plus the engines, and stop(). */
export class NetnsCluster extends NetnsClusterClient {
  constructor(description: NetnsClusterDescription, readonly engines: readonly PrivateEngine[], private readonly teardown: () => Promise<void>) {
    super(description);
  }

  /** Stops the daemons, the engines and everything in between; deletes the bridge and the files. */
  async stop(): Promise<void> {
    await this.dispose();
    await this.teardown();
  }
}

/** Everything of all clusters lives under here, one directory per run (named by the owner's pid). */
export const clustersRoot = join(tmpdir(), 'cst-clusters');
const subnetPrefix = '10.213';
const liveInThisProcess = new Set<string>();

export async function startNetnsCluster(options: StartNetnsClusterOptions): Promise<NetnsCluster> {
  if (!Number.isInteger(options.nodes) || options.nodes < 1 || options.nodes > 20) {
    throw new Error(`startNetnsCluster: nodes must be an integer from 1 to 20, got ${options.nodes}`);
  }
  if (process.getuid?.() !== 0) throw new Error('a netns cluster needs root (network namespaces, bridges, dockerd): run these tests as root');
  const runId = String(process.pid);
  if (liveInThisProcess.has(runId)) throw new Error('this process already runs a netns cluster; stop it before starting another');
  liveInThisProcess.add(runId);
  const log = options.log ?? (() => undefined);
  await ensureBinaries([{ binary: 'ip', debianPackage: 'iproute2' }, { binary: 'iptables', debianPackage: 'iptables' }]);
  await sweepAbandonedClusters();
  await removeCluster(runId); // this process's own leftovers, if an earlier cluster was not stopped

  const bridge = `cstbr${runId}`;
  const third = pickFreeThirdOctet(Number(runId));
  const subnet = `${subnetPrefix}.${third}.0/24`;
  const hostAddress = `${subnetPrefix}.${third}.254`;
  const runDir = join(clustersRoot, runId);
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, 'owner.pid'), runId);

  const engines: PrivateEngine[] = [];
  const teardown = async () => {
    await Promise.all(engines.map((engine) => engine.stop()));
    await removeCluster(runId);
    liveInThisProcess.delete(runId);
  };
  try {
    await runCommand('ip', ['link', 'add', bridge, 'type', 'bridge']);
    await runCommand('ip', ['addr', 'add', `${hostAddress}/24`, 'dev', bridge]);
    await runCommand('ip', ['link', 'set', bridge, 'up']);
    // An engine on the host sets FORWARD's policy to DROP, and bridged frames pass FORWARD
    // (br_netfilter): without this rule node-to-node traffic would depend on the host's engine.
    await runCommand('iptables', forwardRule('-I', bridge));

    const started = Date.now();
    // Engines start in parallel (2–6 s each); allSettled so a failure does not tear down while
    // other engines are still starting (and would then be missed by the teardown).
    const settled = await Promise.allSettled(
      Array.from({ length: options.nodes }, async (_, i): Promise<NetnsNodeDescription> => {
        const index = i + 1;
        const engine = await startPrivateEngine(`cl${runId}n${index}`);
        engines.push(engine);
        const hostVeth = `cv${runId}n${index}`;
        const address = `${subnetPrefix}.${third}.${index}`;
        // The node's end is created straight inside its namespace, as eth0 (nothing else there has that name).
        await runCommand('ip', ['link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', engine.netnsName]);
        await runCommand('ip', ['link', 'set', hostVeth, 'master', bridge, 'up']);
        await runCommand('ip', ['-n', engine.netnsName, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
        await runCommand('ip', ['-n', engine.netnsName, 'link', 'set', 'eth0', 'up']);
        if (options.withTestImage ?? true) await ensureTestImage(engine.dockerHost, TEST_IMAGE);
        return {
          name: `n${index}`,
          index,
          address,
          netnsName: engine.netnsName,
          netnsPath: engine.netnsPath,
          dockerHost: engine.dockerHost,
          socketPath: engine.socketPath,
          hostVeth,
        };
      }),
    );
    const failed = settled.find((outcome) => outcome.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const nodes = settled.map((outcome) => (outcome as PromiseFulfilledResult<NetnsNodeDescription>).value);
    log(`netns cluster: ${options.nodes} nodes on ${bridge} (${subnet}) up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return new NetnsCluster({ runId, runDir, bridge, subnet, hostAddress, image: TEST_IMAGE, nodes }, engines, teardown);
  } catch (error) {
    await teardown();
    throw error;
  }
}

function forwardRule(action: '-I' | '-D', bridge: string): string[] {
  return [action, 'FORWARD', '-i', bridge, '-o', bridge, '-m', 'comment', '--comment', 'constellation-netns-cluster', '-j', 'ACCEPT'];
}

/** 10.213.S.0/24 with no host address in it, starting from a pid-derived S so concurrent runs spread out. */
function pickFreeThirdOctet(seed: number): number {
  const used = new Set<number>();
  const text = readFileSync('/proc/net/fib_trie', 'utf8');
  for (const match of text.matchAll(/10\.213\.(\d+)\.\d+/g)) used.add(Number(match[1]));
  for (let k = 0; k < 250; k++) {
    const candidate = ((seed + k) % 250) + 1;
    if (!used.has(candidate)) return candidate;
  }
  throw new Error(`no free /24 left in ${subnetPrefix}.0.0/16 for a netns cluster`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs whose owner is gone (crashed or killed test run, interrupted benchmark) are removed. */
async function sweepAbandonedClusters(): Promise<void> {
  const runIds = new Set<string>();
  if (existsSync(clustersRoot)) for (const entry of readdirSync(clustersRoot)) if (/^\d+$/.test(entry)) runIds.add(entry);
  const { stdout } = await runCommand('ip', ['-o', 'link', 'show']);
  for (const match of stdout.matchAll(/^\d+: (?:cstbr(\d+)|cv(\d+)n\d+)[@:]/gm)) runIds.add(match[1] ?? match[2]!);
  for (const runId of runIds) {
    if (runId !== String(process.pid) && !isAlive(Number(runId))) await removeCluster(runId);
  }
}

/**
 * Removes what a run left on the host: its daemons (found by their config path, which lies in
 * the run's directory), host veth ends, the FORWARD rule, the bridge and the files. The engines
 * and namespaces are docker-engine.ts's to sweep (by the same owner pid).
 */
async function removeCluster(runId: string): Promise<void> {
  const runDir = join(clustersRoot, runId);
  killProcessesMentioning(`${runDir}/`);
  const bridge = `cstbr${runId}`;
  const { stdout } = await runCommand('ip', ['-o', 'link', 'show']);
  for (const match of stdout.matchAll(new RegExp(`^\\d+: (cv${runId}n\\d+)[@:]`, 'gm'))) {
    await runCommand('ip', ['link', 'delete', match[1]!]).catch(() => undefined);
  }
  while (await runCommand('iptables', forwardRule('-D', bridge)).then(() => true, () => false));
  if (new RegExp(`^\\d+: ${bridge}[@:]`, 'm').test(stdout)) await runCommand('ip', ['link', 'delete', bridge]).catch(() => undefined);
  rmSync(runDir, { recursive: true, force: true });
}

function killProcessesMentioning(text: string): void {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(text)) process.kill(Number(entry), 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}
