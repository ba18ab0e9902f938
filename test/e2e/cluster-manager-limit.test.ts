import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { NodeView } from '../../src/api/routes/nodes.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { startDaemon, type RunningDaemon } from '../../src/daemon/start-daemon.ts';
import { createLogger } from '../../src/log/create-logger.ts';
import { eventually } from '../support/eventually.ts';
import { freeLoopbackPort as freePort } from '../support/free-port.ts';

// Five managers is the most a cluster takes (Raft voters): a sixth joining with the manager
// token is refused, and so is promoting a worker past five; neither changes the node records.
// A worker (no Raft member) cannot be promoted at all yet.
const dockerHost = `unix://${inject('dockerSocket')}`;
const daemons: RunningDaemon[] = [];
const dataDirs: string[] = [];

afterAll(async () => {
  for (const daemon of daemons.reverse()) await daemon.stop();
  for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
});

async function start(nodeId: string, cluster: Record<string, string>): Promise<RunningDaemon> {
  const dataDir = await mkdtemp(join(tmpdir(), `cst-${nodeId}-`));
  dataDirs.push(dataDir);
  const loaded = loadConfig({
    env: {},
    overrides: {
      'docker.host': dockerHost, 'node.dataDir': dataDir, 'node.id': nodeId, 'api.port': String(await freePort()),
      'cluster.listen.port': String(await freePort()), 'cluster.heartbeatIntervalMs': '200', 'raft.electionTimeoutMs': '500', 'raft.heartbeatIntervalMs': '50', ...cluster,
    },
  });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
  const daemon = await startDaemon(loaded.config, createLogger({ level: 'silent', format: 'json', destination: new PassThrough() }));
  daemons.push(daemon);
  return daemon;
}

async function api<T>(daemon: RunningDaemon, path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const token = (await readFile(daemon.tokenFile!, 'utf8')).trim();
  const response = await fetch(`${daemon.address}${path}`, { ...init, headers: { ...(init.headers ?? {}), authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
  return { status: response.status, body: (await response.json()) as T };
}

describe('at most five managers', () => {
  it('refuses a sixth manager at join and at promote, changing nothing', async () => {
    const first = await start('k1', { 'cluster.bootstrap': 'true' });
    const tokens = await eventually(async () => {
      const answer = await api<{ manager: string; worker: string }>(first, '/v1/cluster/tokens');
      return answer.status === 200 ? answer.body : undefined;
    }, { timeoutMs: 30_000, what: 'join tokens' });
    const seed = { 'cluster.seeds': first.clusterAddress!, 'cluster.token': tokens.manager };
    for (const id of ['k2', 'k3', 'k4', 'k5']) await start(id, seed);
    await eventually(async () => {
      const nodes = (await api<NodeView[]>(first, '/v1/nodes')).body;
      return nodes.length === 5 && nodes.every((node) => node.raft === 'voter');
    }, { timeoutMs: 60_000, what: 'five voters' });

    await expect(start('k6', seed)).rejects.toMatchObject({ code: 'too_many_managers', message: expect.stringContaining('already has 5 managers') });
    const worker = await start('w6', { 'cluster.seeds': first.clusterAddress!, 'cluster.token': tokens.worker });
    expect(worker).toBeDefined();
    const records = async () => (await api<NodeView[]>(first, '/v1/nodes')).body.map(({ id, role, raft }) => `${id} ${role} ${raft}`);
    await eventually(async () => (await records()).length === 6, { timeoutMs: 30_000, what: 'the worker listed' });
    const before = await records();
    expect(before).toEqual(['k1 manager voter', 'k2 manager voter', 'k3 manager voter', 'k4 manager voter', 'k5 manager voter', 'w6 worker none']);

    const promote = await api<{ error: { code: string; message: string } }>(first, '/v1/nodes/w6', { method: 'PATCH', body: JSON.stringify({ role: 'manager' }) });
    expect(promote.status).toBe(409);
    expect(promote.body.error.code).toBe('too_many_managers');
    expect(await records()).toEqual(before);

    // Below five, a worker still cannot become a manager: it runs no Raft member to promote.
    expect((await api(first, '/v1/nodes/k5', { method: 'PATCH', body: JSON.stringify({ role: 'worker' }) })).status).toBe(200);
    const noMember = await api<{ error: { code: string } }>(first, '/v1/nodes/w6', { method: 'PATCH', body: JSON.stringify({ role: 'manager' }) });
    expect(noMember.status).toBe(409);
    expect(noMember.body.error.code).toBe('promote_needs_raft_member');
    await eventually(async () => (await records()).includes('k5 worker learner'), { timeoutMs: 30_000, what: 'k5 demoted to a learner' });
    expect((await records()).filter((line) => line.startsWith('w6'))).toEqual(['w6 worker none']);
  }, 300_000);
});
