import { afterEach, describe, expect, it } from 'vitest';
import type { ClusterApi, JoinTokens } from '../../../src/api/api-deps.ts';
import type { NodeView } from '../../../src/api/routes/nodes.ts';
import { ExitCode } from '../../../src/cli/exit-codes.ts';
import type { TestDeps } from '../api/fake-deps.ts';
import { cli, startTestApi } from './cli-harness.ts';

/**
 * The node routes over a small in-memory cluster: the CLI is what is under test here (requests it
 * sends, what it prints, exit codes). The real membership logic runs in test/e2e/cluster-operations.
 */
class FakeCluster implements ClusterApi {
  readonly calls: string[] = [];
  /** Node records committed through the store show their availability and labels, as the real view does. */
  store: TestDeps['store'] | undefined;
  generation = { manager: 1, worker: 1 };
  nodeList: NodeView[] = [
    { id: 'm1', hostname: 'alpha', role: 'manager', status: 'ready', availability: 'active', leader: true, raft: 'voter', address: '10.0.0.1:7421', containers: 3, labels: { zone: 'east' }, platform: { os: 'linux', arch: 'x86_64' } },
    { id: 'm2', hostname: 'beta', role: 'manager', status: 'ready', availability: 'drain', leader: false, raft: 'voter', address: '10.0.0.2:7421', containers: 0, labels: {} },
    { id: 'm3', hostname: 'gamma', role: 'worker', status: 'down', availability: 'active', leader: false, raft: 'learner', address: '10.0.0.3:7421', containers: 1, labels: {} },
  ];

  nodes(): NodeView[] {
    const records = this.store?.current().nodes ?? {};
    return this.nodeList.map((node) => {
      const record = records[node.id];
      return record ? { ...node, labels: { ...record.labels }, availability: record.availability ?? node.availability } : { ...node };
    });
  }

  tokens(): JoinTokens {
    return { clusterId: '3f9c0a1be27d4c55', manager: `CST1-3f9c0a1be27d4c55-M${this.generation.manager}-secret-00000000`, worker: `CST1-3f9c0a1be27d4c55-W${this.generation.worker}-secret-00000000`, managers: ['10.0.0.1:7421', '10.0.0.2:7421'] };
  }

  rotateToken(role: 'manager' | 'worker'): Promise<JoinTokens> {
    this.calls.push(`rotate ${role}`);
    this.generation[role] += 1;
    return Promise.resolve(this.tokens());
  }

  setRole(nodeId: string, role: 'manager' | 'worker'): Promise<{ changed: boolean }> {
    this.calls.push(`role ${nodeId} ${role}`);
    if (role === 'worker' && nodeId === 'm1') {
      return Promise.reject(Object.assign(new Error('cannot demote m1: it would leave no quorum'), { code: 'demote_would_lose_quorum', status: 409 }));
    }
    const node = this.nodeList.find((candidate) => candidate.id === nodeId)!;
    this.nodeList = this.nodeList.map((candidate) => (candidate === node ? { ...candidate, role } : candidate));
    // Raft follows a moment later, as the leader's membership loop does.
    setTimeout(() => {
      this.nodeList = this.nodeList.map((candidate) => (candidate.id === nodeId ? { ...candidate, raft: role === 'manager' ? 'voter' : 'learner' } : candidate));
    }, 300);
    return Promise.resolve({ changed: true });
  }

  removeNode(id: string): Promise<void> {
    this.calls.push(`rm ${id}`);
    this.nodeList = this.nodeList.filter((node) => node.id !== id);
    return Promise.resolve();
  }
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function clusterApi() {
  const cluster = new FakeCluster();
  const started = await startTestApi({ cluster });
  cluster.store = started.deps.store;
  cleanups.push(() => started.app.close());
  return { ...started, cluster };
}

describe('constellation node / cluster', () => {
  it('--help on every node and cluster command; a bad flag value exits 2 before any request', async () => {
    for (const command of [['node'], ['node', 'ls'], ['node', 'inspect'], ['node', 'update'], ['node', 'promote'], ['node', 'demote'], ['node', 'rm'], ['cluster'], ['cluster', 'init'], ['cluster', 'tokens']]) {
      const help = await cli([...command, '--help']);
      expect(help.code, command.join(' ')).toBe(ExitCode.ok);
      expect(help.stdout).toContain(`Usage: constellation ${command.join(' ')}`);
      expect(help.stdout).toContain('Exit codes');
    }
    const { url, cluster } = await clusterApi();
    const badLabel = await cli(['node', 'update', 'm1', '--label-add', 'zone', '--api', url]);
    expect(badLabel.code).toBe(ExitCode.invalid);
    expect(badLabel.stderr).toContain('"zone" is not key=value');
    const badAvailability = await cli(['node', 'update', 'm1', '--availability', 'sleep', '--api', url]);
    expect(badAvailability.code).toBe(ExitCode.invalid);
    expect(badAvailability.stderr).toBe('error: --availability must be active, pause or drain, got "sleep"\n');
    expect((await cli(['node', 'update', 'm1', '--api', url])).stderr).toContain('nothing to change');
    expect((await cli(['cluster', 'tokens', '--rotate', 'admin', '--api', url])).code).toBe(ExitCode.invalid);
    expect(cluster.calls).toEqual([]);
  });

  it('node ls prints the table (leader, role as Raft has it) and --json the API objects', async () => {
    const { url } = await clusterApi();
    const table = await cli(['node', 'ls', '--api', url]);
    expect(table.code).toBe(ExitCode.ok);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+HOSTNAME\s+ROLE\s+STATUS\s+AVAILABILITY\s+LEADER\s+ADDRESS\s+CONTAINERS$/);
    expect(lines[1]).toMatch(/^m1\s+alpha\s+manager\s+ready\s+active\s+leader\s+10\.0\.0\.1:7421\s+3$/);
    expect(lines[2]).toMatch(/^m2\s+beta\s+manager\s+ready\s+drain\s+10\.0\.0\.2:7421\s+0$/);
    // A demoted manager that still holds the log as a learner says so.
    expect(lines[3]).toMatch(/^m3\s+gamma\s+worker \(raft learner\)\s+down\s+active\s+10\.0\.0\.3:7421\s+1$/);
    const json = await cli(['node', 'ls', '--json', '--api', url]);
    expect((JSON.parse(json.stdout) as NodeView[]).map((node) => [node.id, node.leader])).toEqual([['m1', true], ['m2', false], ['m3', false]]);
  });

  it('node inspect prints one node as JSON; an unknown id exits 5', async () => {
    const { url } = await clusterApi();
    const run = await cli(['node', 'inspect', 'm1', '--api', url]);
    expect(run.code).toBe(ExitCode.ok);
    expect(JSON.parse(run.stdout)).toMatchObject({ id: 'm1', labels: { zone: 'east' }, platform: { os: 'linux', arch: 'x86_64' }, raft: 'voter' });
    const missing = await cli(['node', 'inspect', 'nope', '--api', url]);
    expect(missing.code).toBe(ExitCode.notFound);
    expect(missing.stderr).toContain('no node with id "nope"');
    expect(missing.stderr).toContain('[node_not_found]');
  });

  it('node update sends availability and labels through the log, and prints the result', async () => {
    const { url, deps } = await clusterApi();
    // The routes check the node exists in the cluster view, then commit through the store.
    await deps.store.submit({ clientId: 'seed', seq: 1, command: { type: 'register-node', node: { id: 'm2', address: '10.0.0.2:7421', labels: { old: '1' } } } });
    const run = await cli(['node', 'update', 'm2', '--availability', 'drain', '--label-add', 'zone=west', '--label-add', 'tier=a=b', '--label-rm', 'old', '--api', url]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(ExitCode.ok);
    const last = deps.store.submitted.at(-1)!.command;
    expect(last).toEqual({ type: 'update-node', nodeId: 'm2', availability: 'drain', labelsAdd: { zone: 'west', tier: 'a=b' }, labelsRemove: ['old'] });
    expect(deps.store.current().nodes.m2!.labels).toEqual({ zone: 'west', tier: 'a=b' });
    expect(run.stdout).toBe('node m2 updated: availability drain, labels zone=west,tier=a=b\n');
    expect((await cli(['node', 'update', 'nope', '--availability', 'pause', '--api', url])).code).toBe(ExitCode.notFound);
  });

  it('node promote / demote wait until Raft follows; a refusal exits 2 with its code', async () => {
    const { url, cluster } = await clusterApi();
    const promoted = await cli(['node', 'promote', 'm3', '--api', url]);
    expect(promoted.stderr).toBe('');
    expect(promoted.code).toBe(ExitCode.ok);
    expect(promoted.stdout).toBe('node m3 promoted to manager (raft voter)\n');
    const again = await cli(['node', 'promote', 'm3', '--api', url]);
    expect(again.stdout).toBe('node m3 is already a manager\n');
    const demoted = await cli(['node', 'demote', 'm2', '--api', url]);
    expect(demoted.code).toBe(ExitCode.ok);
    expect(demoted.stdout).toBe('node m2 demoted to worker (raft learner)\n');
    const refused = await cli(['node', 'demote', 'm1', '--api', url]);
    expect(refused.code).toBe(ExitCode.invalid);
    expect(refused.stderr).toBe('error: cannot demote m1: it would leave no quorum [demote_would_lose_quorum]\n');
    expect(cluster.calls).toEqual(['role m3 manager', 'role m2 worker', 'role m1 worker']);
  });

  it('node rm removes; cluster tokens prints both tokens and the join line, --rotate replaces one', async () => {
    const { url, cluster } = await clusterApi();
    const removed = await cli(['node', 'rm', 'm3', '--api', url]);
    expect(removed.stdout).toBe('node m3 removed\n');
    expect(cluster.calls).toEqual(['rm m3']);
    const tokens = await cli(['cluster', 'tokens', '--api', url]);
    expect(tokens.code).toBe(ExitCode.ok);
    expect(tokens.stdout).toContain('manager token: CST1-3f9c0a1be27d4c55-M1-');
    expect(tokens.stdout).toContain('worker token:  CST1-3f9c0a1be27d4c55-W1-');
    expect(tokens.stdout).toContain('constellation --join 10.0.0.1:7421,10.0.0.2:7421 --token CST1-3f9c0a1be27d4c55-M1-');
    const rotated = await cli(['cluster', 'tokens', '--rotate', 'worker', '--json', '--api', url]);
    expect(JSON.parse(rotated.stdout)).toMatchObject({ worker: expect.stringContaining('-W2-'), manager: expect.stringContaining('-M1-') });
    expect(cluster.calls).toEqual(['rm m3', 'rotate worker']);
  });

  it('on a single node every node and token command exits 2 with not_a_cluster', async () => {
    const started = await startTestApi();
    cleanups.push(() => started.app.close());
    for (const command of [['node', 'ls'], ['node', 'inspect', 'x'], ['node', 'demote', 'x'], ['cluster', 'tokens'], ['cluster', 'tokens', '--rotate', 'manager']]) {
      const run = await cli([...command, '--api', started.url]);
      expect(run.code, command.join(' ')).toBe(ExitCode.invalid);
      expect(run.stderr, command.join(' ')).toContain('[not_a_cluster]');
    }
  });
});
