import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../../src/cli/program.ts';
import type { NodeView } from '../../src/api/routes/nodes.ts';
import { eventually } from '../support/eventually.ts';
import { runConstellation } from './support/cli-process.ts';
import { ClusterMemberEnvironment } from './support/cluster-member-environment.ts';
import type { DaemonProcess } from './support/daemon-process.ts';

// Operating a cluster of real daemon processes on loopback with the real CLI: `cluster init`,
// joining with the printed token, node ls, demote/promote through the Raft membership with the
// quorum guard, token rotation, and the refusals that must change nothing.
const dockerHost = `unix://${inject('dockerSocket')}`;
const members: ClusterMemberEnvironment[] = [];

afterAll(async () => {
  for (const member of members) await member.dispose();
});

async function member(nodeId: string): Promise<ClusterMemberEnvironment> {
  const created = await ClusterMemberEnvironment.create(nodeId, { dockerHost });
  members.push(created);
  return created;
}

async function listening(daemon: DaemonProcess): Promise<void> {
  await daemon.waitForLog((line) => line.msg === 'api listening', 60_000);
}

/** The real CLI, in this process (a process per command costs seconds of start-up on a loaded machine). */
async function cli(env: ClusterMemberEnvironment, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (chunk) => out.push(String(chunk)));
  stderr.on('data', (chunk) => err.push(String(chunk)));
  const code = await runCli([...args, '--config', env.configFile], { stdout, stderr, env: {} });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

async function nodes(env: ClusterMemberEnvironment): Promise<Map<string, NodeView>> {
  return new Map((await env.json<NodeView[]>('/v1/nodes')).map((node) => [node.id, node]));
}

describe('cluster operations with the CLI', () => {
  it('init, join, demote/promote with the quorum guard, rotate tokens; refusals change nothing', async () => {
    const o1 = await member('o1');
    const o2 = await member('o2');
    const o3 = await member('o3');

    // cluster init: a daemon that bootstraps and prints both tokens once issued.
    const first = o1.spawn(['cluster', 'init']);
    const managerLine = await first.waitForLog((line) => line.raw === true && String(line.msg).startsWith('manager token: '), 60_000);
    const workerLine = await first.waitForLog((line) => line.raw === true && String(line.msg).startsWith('worker token:  '), 1000);
    const managerToken = String(managerLine.msg).slice('manager token: '.length);
    expect(managerToken).toMatch(/^CST1-[0-9a-f]{16}-M1-[a-z2-7]{52}-[0-9a-f]{8}$/);
    expect(String(workerLine.msg)).toMatch(/-W1-/);
    await first.waitForLog((line) => line.raw === true && String(line.msg).includes(`--join ${o1.clusterAddress} --token ${managerToken}`), 1000);

    // A second init into the same data dir is refused before anything is touched.
    const identityFile = join(o1.dataDir, 'cluster', 'identity.json');
    const identityBefore = await readFile(identityFile, 'utf8');
    const again = await runConstellation(['cluster', 'init', '--config', o1.configFile]);
    expect(again.code).toBe(2);
    expect(again.stdout).toContain('already_in_cluster');
    expect(again.stdout).toContain('already belongs to a cluster');
    expect(await readFile(identityFile, 'utf8')).toBe(identityBefore);

    await Promise.all([o2, o3].map((env) => listening(env.spawn(['--join', o1.clusterAddress, '--token', managerToken]))));
    await listening(first);
    await eventually(async () => {
      const seen = await nodes(o2);
      return seen.size === 3 && [...seen.values()].every((node) => node.status === 'ready' && node.raft === 'voter');
    }, { timeoutMs: 30_000, what: 'three ready voters' });

    const ls = await cli(o2, ['node', 'ls']);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(/^ID\s+HOSTNAME\s+ROLE\s+STATUS\s+AVAILABILITY\s+LEADER\s+ADDRESS\s+CONTAINERS/);
    const rows = ls.stdout.trimEnd().split('\n').slice(1);
    expect(rows.map((row) => row.split(/\s+/)[0])).toEqual(['o1', 'o2', 'o3']);
    for (const row of rows) expect(row).toMatch(/^o\d\s+\S+\s+manager\s+ready\s+active\s+(leader\s+)?127\.0\.0\.1:\d+\s+0$/);
    expect(rows.filter((row) => /\sleader\s/.test(row))).toHaveLength(1);

    // o3 dies: demoting o2 would leave o1 and the dead o3, no quorum. Refused, nothing written.
    await o3.dispose();
    members.splice(members.indexOf(o3), 1);
    await eventually(async () => (await nodes(o1)).get('o3')?.status === 'down', { timeoutMs: 20_000, what: 'o3 seen down' });
    const lose = await cli(o1, ['node', 'demote', 'o2']);
    expect(lose.code).toBe(2);
    expect(lose.stderr).toContain('[demote_would_lose_quorum]');
    expect(lose.stderr).toContain('o3 not');
    expect((await nodes(o1)).get('o2')).toMatchObject({ role: 'manager', raft: 'voter' });

    // Demoting the dead o3 is how the cluster shrinks around it.
    const demoteDead = await cli(o2, ['node', 'demote', 'o3']);
    expect(demoteDead.stderr).toBe('');
    expect(demoteDead.stdout).toBe('node o3 demoted to worker (raft learner)\n');

    // The leader demotes itself: it hands leadership to o2 first, then o2 takes its vote.
    const demoteLeader = await cli(o2, ['node', 'demote', 'o1']);
    expect(demoteLeader.stderr).toBe('');
    expect(demoteLeader.code).toBe(0);
    const afterLeader = await nodes(o2);
    expect(afterLeader.get('o1')).toMatchObject({ role: 'worker', raft: 'learner', leader: false });
    expect(afterLeader.get('o2')).toMatchObject({ role: 'manager', raft: 'voter', leader: true });

    // The last manager cannot go; a down node cannot become a voter.
    const last = await cli(o1, ['node', 'demote', 'o2']);
    expect(last.code).toBe(2);
    expect(last.stderr).toContain('[last_manager]');
    const downPromote = await cli(o1, ['node', 'promote', 'o3']);
    expect(downPromote.code).toBe(2);
    expect(downPromote.stderr).toContain('[node_not_ready]');

    // o1 (a learner that kept the log, asked through its own API) comes back as a voter.
    const promote = await cli(o1, ['node', 'promote', 'o1']);
    expect(promote.stderr).toBe('');
    expect(promote.stdout).toBe('node o1 promoted to manager (raft voter)\n');

    // Rotation: the old manager token stops working at once; the refused join changes nothing.
    const rotated = await cli(o1, ['cluster', 'tokens', '--rotate', 'manager', '--json']);
    expect(rotated.code).toBe(0);
    const tokens = JSON.parse(rotated.stdout) as { manager: string; worker: string; managers: string[] };
    expect(tokens.manager).toMatch(/-M2-/);
    expect(tokens.managers.sort()).toEqual([o1.clusterAddress, o2.clusterAddress].sort());
    const listed = await cli(o2, ['cluster', 'tokens']);
    expect(listed.stdout).toContain(`manager token: ${tokens.manager}`);
    // What a refused join must not change (leadership may move meanwhile on a loaded machine).
    const records = async () => (await o2.json<NodeView[]>('/v1/nodes')).map(({ id, role, raft, availability, labels, address }) => ({ id, role, raft, availability, labels, address }));
    const before = await records();
    const late = await member('o4');
    const stale = late.spawn(['--join', o1.clusterAddress, '--token', managerToken]);
    expect((await stale.exited).code).toBe(2);
    expect(stale.lines.some((line) => String(line.err && (line.err as { code?: string }).code) === 'token_rotated')).toBe(true);
    // A duplicate node id with the current token: refused too.
    const twin = await member('o2');
    const duplicate = twin.spawn(['--join', o1.clusterAddress, '--token', tokens.manager]);
    expect((await duplicate.exited).code).toBe(2);
    expect(duplicate.lines.some((line) => String(line.err && (line.err as { code?: string }).code) === 'node_id_taken')).toBe(true);
    expect(await records()).toEqual(before);
  }, 300_000);
});
