import { execFileSync } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { freeLoopbackPort } from '../../test/support/free-port.ts';
import { httpRequest } from './raft-http.ts';
import { WatchedProcess } from './raft-process.ts';

interface EtcdMember {
  readonly id: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
}

/** Installs Debian's etcd-server when it is missing (the benchmark runs as root here). */
export function ensureEtcdInstalled(): string {
  try {
    return execFileSync('etcd', ['--version'], { encoding: 'utf8' }).split('\n')[0]!.replace('etcd Version: ', '').trim();
  } catch {
    execFileSync('apt-get', ['install', '-y', 'etcd-server'], { stdio: 'inherit' });
    return execFileSync('etcd', ['--version'], { encoding: 'utf8' }).split('\n')[0]!.replace('etcd Version: ', '').trim();
  }
}

/**
 * Three etcd members on loopback with their own data dirs and ports, etcd's default timing
 * (100 ms heartbeat, 1000 ms election timeout: the same as our members), fsync on (etcd's only
 * mode). Clients use the v3 JSON gateway.
 */
export class EtcdCluster {
  readonly memberIds: readonly string[] = ['e1', 'e2', 'e3'];
  private readonly members = new Map<string, EtcdMember>();
  private readonly processes = new Map<string, WatchedProcess>();

  private constructor(private readonly dir: string) {}

  static async start(dir: string, options: { echo?: boolean } = {}): Promise<EtcdCluster> {
    const cluster = new EtcdCluster(dir);
    for (const id of cluster.memberIds) {
      cluster.members.set(id, { id, clientPort: await freeLoopbackPort(), peerPort: await freeLoopbackPort(), dataDir: join(dir, id) });
    }
    try {
      await Promise.all(cluster.memberIds.map((id) => cluster.startMember(id, 'new', options.echo ?? false)));
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  clientUrl(id: string): string {
    return `http://127.0.0.1:${this.member(id).clientPort}`;
  }

  runningIds(): string[] {
    return this.memberIds.filter((id) => this.processes.get(id)?.isRunning());
  }

  async startMember(id: string, state: 'new' | 'existing', echo = false): Promise<void> {
    // etcd needs every founding member up before /health turns green, so callers start all three at once.
    const member = this.member(id);
    await mkdir(member.dataDir, { recursive: true });
    const initialCluster = this.memberIds.map((m) => `${m}=http://127.0.0.1:${this.member(m).peerPort}`).join(',');
    const watched = new WatchedProcess(id, 'etcd', [
      '--name', id, '--data-dir', member.dataDir,
      '--listen-client-urls', this.clientUrl(id), '--advertise-client-urls', this.clientUrl(id),
      '--listen-peer-urls', `http://127.0.0.1:${member.peerPort}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${member.peerPort}`,
      '--initial-cluster', initialCluster, '--initial-cluster-state', state, '--initial-cluster-token', 'constellation-bench',
      '--log-level', 'warn',
    ], { echo });
    this.processes.set(id, watched);
    // Ready once /health answers 200, i.e. the member serves and sees a leader.
    const agent = new Agent({ keepAlive: false });
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (!watched.isRunning()) throw new Error(`etcd ${id} exited during start-up:\n${watched.tail(20)}`);
      const healthy = await httpRequest(agent, 'GET', `${this.clientUrl(id)}/health`, undefined, 1000).then((reply) => reply.status === 200, () => false);
      if (healthy) break;
      if (Date.now() > deadline) throw new Error(`etcd ${id} not healthy within 30 s:\n${watched.tail(20)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async kill(id: string): Promise<void> {
    await this.processes.get(id)?.kill('SIGKILL');
  }

  async restart(id: string): Promise<void> {
    await this.startMember(id, 'existing');
  }

  /** The member every running member agrees is leader. */
  async findLeader(agent: Agent, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const byMemberId = new Map<string, string>();
      let leaderMemberId: string | undefined;
      for (const id of this.runningIds()) {
        try {
          const reply = await httpRequest(agent, 'POST', `${this.clientUrl(id)}/v3/maintenance/status`, '{}', 1000);
          if (reply.status !== 200) continue;
          const status = JSON.parse(reply.body) as { header?: { member_id?: string }; leader?: string };
          if (status.header?.member_id) byMemberId.set(status.header.member_id, id);
          if (status.leader && status.leader !== '0') leaderMemberId = status.leader;
        } catch {
          // not up yet
        }
      }
      const leader = leaderMemberId ? byMemberId.get(leaderMemberId) : undefined;
      if (leader) return leader;
      if (Date.now() > deadline) throw new Error(`etcd elected no leader within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.processes.values()].map((watched) => watched.kill('SIGKILL')));
    this.processes.clear();
  }

  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  private member(id: string): EtcdMember {
    const member = this.members.get(id);
    if (!member) throw new Error(`unknown etcd member ${id}`);
    return member;
  }
}
