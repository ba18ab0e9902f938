import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { stringify } from 'yaml';
import { DaemonProcess } from '../e2e/support/daemon-process.ts';
import { docker } from './docker-engine.ts';
import { runCommand, type CommandResult } from './run-command.ts';
import { findExecutable } from './system-packages.ts';

/** One node as the process that started the cluster describes it (plain data: it crosses vitest's provide/inject). */
export interface NetnsNodeDescription {
  /** "n1", "n2", …: also the node.id in the daemon configs the client writes. */
  readonly name: string;
  /** 1-based. */
  readonly index: number;
  /** The node's eth0 address on the cluster bridge. */
  readonly address: string;
  readonly netnsName: string;
  /** `/var/run/netns/<netnsName>`. */
  readonly netnsPath: string;
  /** `unix://…` of the node's private dockerd. */
  readonly dockerHost: string;
  readonly socketPath: string;
  /** Host end of the node's veth pair (cut() takes it down). */
  readonly hostVeth: string;
}

export interface NetnsClusterDescription {
  /** The starting process's pid: every name of the run carries it. */
  readonly runId: string;
  /** Per-run directory; clients put daemon configs and data dirs in it. */
  readonly runDir: string;
  readonly bridge: string;
  /** e.g. 10.213.7.0/24 */
  readonly subnet: string;
  /** The host's own address on the bridge, .254 (so the host reaches every node). */
  readonly hostAddress: string;
  /** The busybox test image, imported into every node's engine. */
  readonly image: string;
  readonly nodes: readonly NetnsNodeDescription[];
}

/** Each node is its own network namespace, so every daemon uses the default ports on its own address. */
export const nodeApiPort = 7420;
export const nodeClusterPort = 7421;

export interface StartDaemonOptions {
  /**
   * Merged into the node's generated config (deeply: mappings merge, anything else replaces; null
   * removes a key), e.g. `{ cluster: { bootstrap: true } }` or `{ cluster: { join: [...], token } }`.
   */
  readonly extraConfig?: Readonly<Record<string, unknown>>;
  readonly env?: NodeJS.ProcessEnv;
  readonly readyTimeoutMs?: number;
}

export class ClusterNode implements NetnsNodeDescription {
  readonly name: string;
  readonly index: number;
  readonly address: string;
  readonly netnsName: string;
  readonly netnsPath: string;
  readonly dockerHost: string;
  readonly socketPath: string;
  readonly hostVeth: string;
  /** The node's daemon process while one runs (set by startDaemon, cleared when it exits). */
  daemon: DaemonProcess | undefined;
  /** Options of the last startDaemon, reused by restartDaemon. */
  lastStart: StartDaemonOptions = {};

  constructor(description: NetnsNodeDescription, readonly dir: string) {
    this.name = description.name;
    this.index = description.index;
    this.address = description.address;
    this.netnsName = description.netnsName;
    this.netnsPath = description.netnsPath;
    this.dockerHost = description.dockerHost;
    this.socketPath = description.socketPath;
    this.hostVeth = description.hostVeth;
  }

  /** The daemon's API as the host (and every other node) reaches it, over the veth link. */
  get apiUrl(): string {
    return `http://${this.address}:${nodeApiPort}`;
  }

  /** host:port of the daemon's cluster (peer) listener, for join/seeds lists. */
  get clusterAddress(): string {
    return `${this.address}:${nodeClusterPort}`;
  }

  get configFile(): string {
    return join(this.dir, 'constellation.yml');
  }

  get dataDir(): string {
    return join(this.dir, 'data');
  }
}

export interface NodeContainer {
  readonly id: string;
  readonly name: string;
  readonly image: string;
  readonly state: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * What a test (or benchmark) does with the nodes: run a daemon per node, reach them, break and
 * mend links. Works in any process on the host, given the description (the engines belong to
 * whoever started the cluster). Each client writes its configs and data dirs in its own
 * directory, so two test files never see each other's daemon state.
 */
export class NetnsClusterClient {
  readonly nodes: readonly ClusterNode[];
  /** Every daemon's api.token (the APIs listen beyond loopback, so they need one). */
  readonly apiToken = `cst-api-${randomBytes(12).toString('hex')}`;
  /** Every daemon's cluster.secret (required by a cluster listener beyond loopback). */
  readonly clusterSecret = `cst-cluster-${randomBytes(12).toString('hex')}`;
  private readonly dir: string;
  private readonly cutNodes = new Set<ClusterNode>();
  private readonly cutPairs = new Map<string, readonly [ClusterNode, ClusterNode]>();

  constructor(readonly description: NetnsClusterDescription) {
    mkdirSync(description.runDir, { recursive: true });
    this.dir = mkdtempSync(join(description.runDir, 'client-'));
    this.nodes = description.nodes.map((node) => {
      const dir = join(this.dir, node.name);
      mkdirSync(dir, { recursive: true });
      return new ClusterNode(node, dir);
    });
  }

  get image(): string {
    return this.description.image;
  }

  node(name: string): ClusterNode {
    const found = this.nodes.find((n) => n.name === name);
    if (found === undefined) throw new Error(`no node "${name}" (nodes: ${this.nodes.map((n) => n.name).join(', ')})`);
    return found;
  }

  /** The config a node's daemon gets: its id, data dir, engine, API and cluster listener on its own address. */
  baseConfig(node: ClusterNode): Record<string, unknown> {
    return {
      node: { id: node.name, dataDir: node.dataDir },
      docker: { host: node.dockerHost },
      api: { host: node.address, port: nodeApiPort, token: this.apiToken },
      cluster: { secret: this.clusterSecret, listen: { host: node.address, port: nodeClusterPort } },
      reconcile: { intervalMs: 1000 },
      log: { format: 'json' },
    };
  }

  /** Writes the node's config (base + extraConfig) and returns it as written. */
  writeConfig(node: ClusterNode, extraConfig: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
    const config = mergeConfig(this.baseConfig(node), extraConfig);
    writeFileSync(node.configFile, stringify(config));
    return config;
  }

  /**
   * Starts `constellation --config FILE` inside the node's namespace and resolves once its API
   * listens. The data dir is kept across stops, so a restarted daemon finds its state.
   */
  async startDaemon(node: ClusterNode, options: StartDaemonOptions = {}): Promise<DaemonProcess> {
    if (node.daemon !== undefined) throw new Error(`node ${node.name} already runs a daemon (pid ${node.daemon.pid}); stop it first`);
    this.writeConfig(node, options.extraConfig);
    node.lastStart = options;
    const daemon = DaemonProcess.spawnInNetns({ netnsPath: node.netnsPath, configFile: node.configFile, env: options.env });
    node.daemon = daemon;
    void daemon.exited.then(() => {
      if (node.daemon === daemon) node.daemon = undefined;
    });
    await daemon.untilListening(options.readyTimeoutMs ?? 60_000);
    return daemon;
  }

  /** SIGTERM (a clean shutdown), SIGKILL after graceMs; resolves when the process is gone. */
  async stopDaemon(node: ClusterNode, graceMs = 20_000): Promise<void> {
    const daemon = node.daemon;
    if (daemon === undefined) return;
    const timer = setTimeout(() => void daemon.kill('SIGKILL'), graceMs);
    await daemon.kill('SIGTERM');
    clearTimeout(timer);
  }

  /** kill -9 of the node's daemon: a crash, nothing is flushed or said goodbye to. */
  async killDaemon(node: ClusterNode): Promise<void> {
    await node.daemon?.kill('SIGKILL');
  }

  /** Stops (or kills) the daemon and starts it again with the same data dir and, unless given, the same options. */
  async restartDaemon(node: ClusterNode, options: StartDaemonOptions & { readonly signal?: 'SIGTERM' | 'SIGKILL' } = {}): Promise<DaemonProcess> {
    if (options.signal === 'SIGKILL') await this.killDaemon(node);
    else await this.stopDaemon(node);
    const { signal: _signal, ...start } = options;
    return this.startDaemon(node, Object.keys(start).length > 0 ? start : node.lastStart);
  }

  /** Deletes the node's daemon state (its daemon must not run), for a fresh start. */
  resetDataDir(node: ClusterNode): void {
    if (node.daemon !== undefined) throw new Error(`node ${node.name}: stop its daemon before deleting its data dir`);
    rmSync(node.dataDir, { recursive: true, force: true });
  }

  /** fetch against the node's API with the bearer token (10 s timeout unless init.signal says otherwise). */
  api(node: ClusterNode, path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${this.apiToken}`);
    return fetch(`${node.apiUrl}${path}`, { signal: AbortSignal.timeout(10_000), ...init, headers });
  }

  /** Runs a command inside the node's network namespace (e.g. `busybox wget` to another node). */
  exec(node: ClusterNode, file: string, args: readonly string[], options: { readonly timeoutMs?: number } = {}): Promise<CommandResult> {
    return runCommand('nsenter', [`--net=${node.netnsPath}`, findExecutable(file) ?? file, ...args], { timeoutMs: options.timeoutMs ?? 60_000 });
  }

  /**
   * GET url from inside the node's namespace (as a process on that machine would) and return the
   * body; rejects on a connection failure, a non-2xx status or after timeoutMs. Node's own fetch,
   * because the host's static busybox wget crashes in its resolver here.
   */
  async httpGet(node: ClusterNode, url: string, timeoutMs = 2_000): Promise<string> {
    const script = [
      'const [url, ms] = process.argv.slice(1);',
      'fetch(url, { signal: AbortSignal.timeout(Number(ms)) })',
      '  .then(async (r) => { const body = await r.text(); if (!r.ok) throw new Error(`HTTP ${r.status}`); process.stdout.write(body); })',
      '  .catch((e) => { process.stderr.write(String(e?.cause?.code ?? e?.name ?? e)); process.exit(1); });',
    ].join('\n');
    return (await this.exec(node, process.execPath, ['-e', script, url, String(timeoutMs)], { timeoutMs: timeoutMs + 10_000 })).stdout;
  }

  /** The docker CLI against the node's engine. */
  docker(node: ClusterNode, args: readonly string[], input?: string | Buffer | NodeJS.ReadableStream): Promise<CommandResult> {
    return docker(node.dockerHost, args, input);
  }

  /** Containers on the node's engine (all states), optionally only those with a label ("key" or "key=value"). */
  async listContainers(node: ClusterNode, options: { readonly label?: string } = {}): Promise<NodeContainer[]> {
    const engine = new Dockerode({ socketPath: node.socketPath });
    const rows = await engine.listContainers({ all: true, ...(options.label !== undefined ? { filters: { label: [options.label] } } : {}) });
    return rows
      .map((row) => ({ id: row.Id, name: (row.Names[0] ?? '').replace(/^\//, ''), image: row.Image, state: row.State, labels: row.Labels ?? {} }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Takes the node's link down: it reaches no other node and the host no longer reaches it (published ports included). */
  async cut(node: ClusterNode): Promise<void> {
    await runCommand('ip', ['link', 'set', node.hostVeth, 'down']);
    this.cutNodes.add(node);
  }

  async heal(node: ClusterNode): Promise<void> {
    await runCommand('ip', ['link', 'set', node.hostVeth, 'up']);
    this.cutNodes.delete(node);
  }

  /**
   * Cuts only a↔b (both directions; the host and other nodes still reach both). Rules in the raw
   * table of both namespaces: it sees every packet before conntrack and Docker's NAT, so published
   * ports, established connections and the containers' own traffic are all cut.
   */
  async cutBetween(a: ClusterNode, b: ClusterNode): Promise<void> {
    await this.pairRules('-I', a, b);
    this.cutPairs.set(pairKey(a, b), [a, b]);
  }

  async healBetween(a: ClusterNode, b: ClusterNode): Promise<void> {
    await this.pairRules('-D', a, b);
    this.cutPairs.delete(pairKey(a, b));
  }

  private async pairRules(action: '-I' | '-D', a: ClusterNode, b: ClusterNode): Promise<void> {
    for (const [here, peer] of [[a, b], [b, a]] as const) {
      const rules = [
        ['PREROUTING', '-s', peer.address],
        ['PREROUTING', '-d', peer.address],
        ['OUTPUT', '-d', peer.address],
      ];
      for (const [chain, direction, address] of rules) {
        await runCommand('nsenter', [`--net=${here.netnsPath}`, findExecutable('iptables') ?? 'iptables', '-t', 'raw', action, chain!, direction!, address!, '-m', 'comment', '--comment', 'cst-cut', '-j', 'DROP']);
      }
    }
  }

  /** Removes every container and user network from every node's engine (the engines stay). */
  async resetEngines(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (node) => {
        const ids = (await this.docker(node, ['ps', '-aq'])).stdout.split('\n').filter(Boolean);
        if (ids.length > 0) await this.docker(node, ['rm', '-f', ...ids]);
        await this.docker(node, ['network', 'prune', '-f']);
      }),
    );
  }

  /** Kills the daemons this client started, mends every cut, empties the engines and deletes the client's files. */
  async dispose(): Promise<void> {
    await Promise.all(this.nodes.map((node) => this.killDaemon(node)));
    for (const node of [...this.cutNodes]) await this.heal(node);
    for (const [a, b] of [...this.cutPairs.values()]) await this.healBetween(a, b);
    await this.resetEngines();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function pairKey(a: ClusterNode, b: ClusterNode): string {
  return [a.name, b.name].sort().join('|');
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep merge for config objects: mappings merge key by key, other values replace, null deletes. */
export function mergeConfig(base: Readonly<Record<string, unknown>>, extra: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    if (value === null) delete merged[key];
    else if (isMapping(value) && isMapping(merged[key])) merged[key] = mergeConfig(merged[key], value);
    else merged[key] = value;
  }
  return merged;
}
