import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort } from '../../support/free-port.ts';
import { DaemonProcess } from './daemon-process.ts';

/**
 * One cluster member's files for a daemon process on loopback: a config that names its node id,
 * data dir, API port and cluster port, with timings fast enough for tests (heartbeats every
 * 200 ms, down after 1 s, elections within ~0.6 s). `--config FILE` gives the CLI its API and token.
 */
export class ClusterMemberEnvironment {
  private readonly processes = new Set<DaemonProcess>();

  private constructor(readonly nodeId: string, readonly dir: string, readonly configFile: string, readonly dataDir: string, readonly apiPort: number, readonly clusterAddress: string) {}

  static async create(nodeId: string, options: { dockerHost: string; clusterHost?: string; clusterPort?: number; extraConfig?: string }): Promise<ClusterMemberEnvironment> {
    const dir = await mkdtemp(join(tmpdir(), `cst-${nodeId}-`));
    const configFile = join(dir, 'config', 'constellation.yml');
    const dataDir = join(dir, 'data');
    const apiPort = await freeLoopbackPort();
    const clusterHost = options.clusterHost ?? '127.0.0.1';
    const clusterPort = options.clusterPort ?? (await freeLoopbackPort());
    await mkdir(join(dir, 'config'));
    await writeFile(configFile, [
      `node:\n  id: ${nodeId}\n  dataDir: ${dataDir}`,
      `docker:\n  host: ${options.dockerHost}`,
      `api:\n  port: ${apiPort}`,
      `log:\n  level: info\n  format: json`,
      `raft:\n  electionTimeoutMs: 300\n  heartbeatIntervalMs: 50`,
      `cluster:\n  listen:\n    host: ${clusterHost}\n    port: ${clusterPort}\n  heartbeatIntervalMs: 200\n  nodeDownAfterMs: 1000${options.extraConfig ?? ''}`,
      '',
    ].join('\n'));
    return new ClusterMemberEnvironment(nodeId, dir, configFile, dataDir, apiPort, `${clusterHost}:${clusterPort}`);
  }

  get url(): string {
    return `http://127.0.0.1:${this.apiPort}`;
  }

  /** `constellation ARGS --config FILE` as a daemon process (e.g. `cluster init`, or `--join A --token T`). */
  spawn(args: readonly string[] = []): DaemonProcess {
    const daemon = DaemonProcess.spawnCli([...args, '--config', this.configFile]);
    this.processes.add(daemon);
    void daemon.exited.then(() => this.processes.delete(daemon));
    return daemon;
  }

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const token = (await readFile(join(this.dataDir, 'api-token'), 'utf8')).trim();
    return fetch(`${this.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string> | undefined) } });
  }

  async json<T>(path: string): Promise<T> {
    const response = await this.fetch(path);
    if (!response.ok) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as T;
  }

  async dispose(): Promise<void> {
    for (const daemon of [...this.processes]) await daemon.kill('SIGKILL');
    await rm(this.dir, { recursive: true, force: true });
  }
}
