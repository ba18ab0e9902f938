import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Agent } from 'node:http';
import { freeLoopbackPort } from '../../test/support/free-port.ts';
import { httpRequest } from './raft-http.ts';
import { WatchedProcess } from './raft-process.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const mainScript = join(repoRoot, 'src/raft-server/main.ts');

export interface LocalRaftClusterOptions {
  readonly dir: string;
  readonly memberIds?: readonly string[];
  readonly secret?: string;
  readonly electionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  readonly extraArgs?: readonly string[];
  /** Flags for node itself (e.g. --cpu-prof), placed before the script. */
  readonly nodeArgs?: readonly string[];
  /** Copy member output to stderr (debugging). */
  readonly echo?: boolean;
}

interface MemberSpec {
  readonly id: string;
  readonly raftPort: number;
  readonly clientPort: number;
  readonly dataDir: string;
}

/** Three (or more) src/raft-server processes on loopback with their own data dirs and ports. */
export class LocalRaftCluster {
  readonly memberIds: readonly string[];
  private readonly specs = new Map<string, MemberSpec>();
  private readonly processes = new Map<string, WatchedProcess>();

  private constructor(private readonly options: LocalRaftClusterOptions) {
    this.memberIds = options.memberIds ?? ['n1', 'n2', 'n3'];
  }

  static async start(options: LocalRaftClusterOptions): Promise<LocalRaftCluster> {
    const cluster = new LocalRaftCluster(options);
    for (const id of cluster.memberIds) {
      cluster.specs.set(id, { id, raftPort: await freeLoopbackPort(), clientPort: await freeLoopbackPort(), dataDir: join(options.dir, id) });
    }
    try {
      await Promise.all(cluster.memberIds.map((id) => cluster.startMember(id)));
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  clientUrl(id: string): string {
    return `http://127.0.0.1:${this.spec(id).clientPort}`;
  }

  process(id: string): WatchedProcess {
    const watched = this.processes.get(id);
    if (!watched) throw new Error(`member ${id} is not running`);
    return watched;
  }

  runningIds(): string[] {
    return this.memberIds.filter((id) => this.processes.get(id)?.isRunning());
  }

  /** Starts (or restarts) a member and resolves once it logged "raft member ready". */
  async startMember(id: string): Promise<WatchedProcess> {
    const spec = this.spec(id);
    await mkdir(spec.dataDir, { recursive: true });
    const peers = this.memberIds.map((m) => `${m}=127.0.0.1:${this.spec(m).raftPort}`).join(',');
    const clientPeers = this.memberIds.map((m) => `${m}=127.0.0.1:${this.spec(m).clientPort}`).join(',');
    const args = [
      ...(this.options.nodeArgs ?? []), '--import', 'tsx', mainScript, '--id', id, '--peers', peers, '--client-peers', clientPeers, '--data', spec.dataDir,
      '--client-port', String(spec.clientPort), '--election-timeout-ms', String(this.options.electionTimeoutMs ?? 1000),
      '--heartbeat-interval-ms', String(this.options.heartbeatIntervalMs ?? 100), ...(this.options.extraArgs ?? []),
    ];
    const env = { ...process.env, CONSTELLATION_CLUSTER_SECRET: this.options.secret ?? 'bench-cluster-secret' };
    const watched = new WatchedProcess(id, process.execPath, args, { env, cwd: repoRoot, ...(this.options.echo ? { echo: true } : {}) });
    this.processes.set(id, watched);
    await watched.waitForLine((line) => line.includes('"raft member ready"'), 30_000, `${id} to be ready`);
    return watched;
  }

  async kill(id: string): Promise<void> {
    await this.processes.get(id)?.kill('SIGKILL');
  }

  /** Graceful stop (SIGTERM): the member closes its storage and exits 0. */
  async terminate(id: string): Promise<void> {
    await this.processes.get(id)?.kill('SIGTERM');
  }

  async status(agent: Agent, id: string): Promise<{ role: string; term: number; leaderId?: string; commitIndex: number; appliedIndex: number; lastLogIndex: number; snapshotIndex: number } | undefined> {
    try {
      const reply = await httpRequest(agent, 'GET', `${this.clientUrl(id)}/status`, undefined, 1000);
      return reply.status === 200 ? JSON.parse(reply.body) : undefined;
    } catch {
      return undefined;
    }
  }

  /** The running member that reports itself leader, once exactly one does. */
  async findLeader(agent: Agent, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const statuses = await Promise.all(this.runningIds().map(async (id) => [id, await this.status(agent, id)] as const));
      const leaders = statuses.filter(([, status]) => status?.role === 'leader');
      const top = Math.max(...statuses.map(([, status]) => status?.term ?? 0));
      const leader = leaders.find(([, status]) => status?.term === top);
      if (leader) return leader[0];
      if (Date.now() > deadline) throw new Error(`no leader among ${this.runningIds().join(', ')} within ${timeoutMs} ms: ${JSON.stringify(statuses)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.processes.values()].map((watched) => watched.kill('SIGKILL')));
    this.processes.clear();
  }

  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.options.dir, { recursive: true, force: true });
  }

  private spec(id: string): MemberSpec {
    const spec = this.specs.get(id);
    if (!spec) throw new Error(`unknown member ${id}`);
    return spec;
  }
}
