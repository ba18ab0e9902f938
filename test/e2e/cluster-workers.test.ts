import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { workerKey } from '../../src/cluster-mode/worker/worker-key.ts';
import { eventually } from '../support/eventually.ts';
import { freeLoopbackPort as freePort } from '../support/free-port.ts';
import { DaemonProcess } from './support/daemon-process.ts';
import { removeStackContainers, stackContainers, type EngineContainer } from './support/engine-inspect.ts';

// One manager and two workers as real daemon processes on loopback, sharing the suite's private
// engine (each agent lists only containers labelled with its own node): workers join with the
// worker token, a deploy made through a worker's API spreads onto them, a worker killed with
// SIGKILL adopts its containers again, and when a second manager exists a worker whose manager is
// killed moves its session there and keeps running what it has.
const dockerHost = `unix://${inject('dockerSocket')}`;
const image = inject('testImage');
const stack = 'e2e-workers';

interface Node {
  readonly id: string;
  readonly dir: string;
  readonly configFile: string;
  readonly dataDir: string;
  readonly apiPort: number;
  readonly clusterPort: number;
  daemon?: DaemonProcess;
}

const nodes: Node[] = [];

afterAll(async () => {
  for (const node of nodes) await node.daemon?.kill('SIGKILL');
  await removeStackContainers(dockerHost, [stack]);
  for (const node of nodes) await rm(node.dir, { recursive: true, force: true });
});

async function createNode(id: string, cluster: string): Promise<Node> {
  const dir = await mkdtemp(join(tmpdir(), `cst-${id}-`));
  const node: Node = { id, dir, configFile: join(dir, 'constellation.yml'), dataDir: join(dir, 'data'), apiPort: await freePort(), clusterPort: await freePort() };
  await mkdir(node.dataDir);
  // A long grace: a worker killed and restarted within it is never down, so nothing but its own
  // agent could touch its replicas (a down node's replicas move: issue 7). A restart can take
  // tens of seconds on a loaded machine, so the grace is a minute.
  await writeFile(node.configFile, `node:\n  id: ${id}\n  dataDir: ${node.dataDir}\napi:\n  port: ${node.apiPort}\nreconcile:\n  intervalMs: 1000\n`
    + `raft:\n  electionTimeoutMs: 300\n  heartbeatIntervalMs: 50\ncluster:\n  listen:\n    port: ${node.clusterPort}\n  heartbeatIntervalMs: 200\n  nodeDownAfterMs: 60000\n${cluster}`);
  nodes.push(node);
  return node;
}

async function start(node: Node): Promise<DaemonProcess> {
  const { daemon } = await DaemonProcess.start({ configFile: node.configFile, dockerHost, dataDir: node.dataDir, apiPort: node.apiPort, readyTimeoutMs: 60_000 });
  node.daemon = daemon;
  return daemon;
}

async function api(node: Node, path: string, init: RequestInit = {}): Promise<Response> {
  const token = (await readFile(join(node.dataDir, 'api-token'), 'utf8')).trim();
  return fetch(`http://127.0.0.1:${node.apiPort}${path}`, { ...init, headers: { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${token}` } });
}

async function json<T>(node: Node, path: string): Promise<T> {
  const response = await api(node, path);
  if (response.status !== 200) throw new Error(`${path} on ${node.id} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

function compose(replicas: number): string {
  return `services:
  web:
    image: ${image}
    command: ["sleep", "3600"]
    network_mode: bridge
    stop_grace_period: 1s
    deploy:
      replicas: ${replicas}
`;
}

async function running(): Promise<EngineContainer[]> {
  return (await stackContainers(dockerHost, stack)).filter((container) => container.running);
}

function perNode(containers: readonly EngineContainer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const container of containers) {
    const node = container.labels['constellation.node'] ?? '?';
    counts[node] = (counts[node] ?? 0) + 1;
  }
  return counts;
}

const sessionOpen = (manager: string) => (line: { msg?: string; manager?: unknown }) => line.msg === 'worker session open' && line.manager === manager;

describe('worker nodes on loopback', () => {
  it('join with the worker token, take a deploy made through a worker, re-adopt after kill -9, and move to another manager', async () => {
    await removeStackContainers(dockerHost, [stack]);
    const m1 = await createNode('m1', '  bootstrap: true\n');
    await start(m1);
    const tokens = await eventually(async () => {
      const response = await api(m1, '/v1/cluster/tokens');
      return response.status === 200 ? ((await response.json()) as { manager: string; worker: string }) : undefined;
    }, { timeoutMs: 20_000, what: 'the bootstrap leader to issue join tokens' });
    const seeds = `  seeds: ["127.0.0.1:${m1.clusterPort}"]\n`;
    const w1 = await createNode('w1', `${seeds}  token: ${tokens.worker}\n`);
    const w2 = await createNode('w2', `${seeds}  token: ${tokens.worker}\n`);
    await Promise.all([start(w1), start(w2)]);
    await w1.daemon!.waitForLog(sessionOpen('m1'), 20_000);

    // A worker is no Raft member and holds its own key, never the cluster secret.
    expect(existsSync(join(w1.dataDir, 'raft'))).toBe(false);
    const managerIdentity = JSON.parse(await readFile(join(m1.dataDir, 'cluster', 'identity.json'), 'utf8')) as { secret: string };
    const workerIdentity = JSON.parse(await readFile(join(w1.dataDir, 'cluster', 'identity.json'), 'utf8')) as { role: string; secret: string; peers: Record<string, string> };
    expect(workerIdentity.role).toBe('worker');
    expect(workerIdentity.secret).not.toBe(managerIdentity.secret);
    expect(workerIdentity.secret).toBe(workerKey(managerIdentity.secret, 'w1'));
    expect(workerIdentity.peers).toEqual({ m1: `127.0.0.1:${m1.clusterPort}` });

    // The API on a worker shows the cluster: three ready nodes with their roles.
    await eventually(async () => {
      const list = await json<{ id: string; role: string; status: string }[]>(w1, '/v1/nodes');
      return JSON.stringify(list.map((n) => [n.id, n.role, n.status])) === JSON.stringify([['m1', 'manager', 'ready'], ['w1', 'worker', 'ready'], ['w2', 'worker', 'ready']]);
    }, { timeoutMs: 30_000, what: 'three ready nodes seen from a worker' });
    // Join tokens never leave the managers through a worker.
    expect((await api(w1, '/v1/cluster/tokens')).status).toBe(503);

    // A write on a worker is forwarded to the leader, and read back on the worker at once.
    const deployed = await api(w2, '/v1/deploy', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ stack, compose: compose(6) }) });
    expect(deployed.status, await deployed.clone().text()).toBe(202);
    expect((await json<{ name: string }>(w2, `/v1/stacks/${stack}`)).name).toBe(stack);
    const spread = await eventually(async () => {
      const containers = await running();
      return containers.length === 6 ? containers : undefined;
    }, { timeoutMs: 60_000, what: 'six replicas running' });
    expect(perNode(spread)).toEqual({ m1: 2, w1: 2, w2: 2 });
    await eventually(async () => {
      const seen = await json<{ node: string; state: string }[]>(w1, `/v1/containers?stack=${stack}`);
      const runningOn = (node: string): number => seen.filter((c) => c.node === node && c.state === 'running').length;
      return seen.length === 6 && runningOn('m1') === 2 && runningOn('w1') === 2 && runningOn('w2') === 2;
    }, { timeoutMs: 20_000, what: 'the six replicas in the containers list of a worker' });

    // kill -9 of a worker: its containers keep running, and the restarted worker adopts them
    // (same container ids, same start times) from its saved assignments.
    const onW1 = spread.filter((c) => c.labels['constellation.node'] === 'w1').map((c) => ({ id: c.id, startedAt: c.startedAt }));
    expect(await w1.daemon!.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    expect((await running()).length).toBe(6);
    await start(w1);
    await w1.daemon!.waitForLog(sessionOpen('m1'), 20_000);
    await eventually(async () => (await json<{ converged: boolean }[]>(w1, `/v1/services?stack=${stack}`)).every((s) => s.converged), { timeoutMs: 30_000, what: 'the stack converged after the worker restarted' });
    const afterRestart = await running();
    expect(afterRestart.filter((c) => c.labels['constellation.node'] === 'w1').map((c) => ({ id: c.id, startedAt: c.startedAt }))).toEqual(onW1);
    expect(afterRestart.length).toBe(6);

    // A second manager: the workers learn its address from their sessions. Kill the first:
    // the workers move their sessions to the second and keep their replicas running.
    const m2 = await createNode('m2', `${seeds}  token: ${tokens.manager}\n`);
    await start(m2);
    await eventually(async () => {
      const identity = JSON.parse(await readFile(join(w1.dataDir, 'cluster', 'identity.json'), 'utf8')) as { peers: Record<string, string> };
      return identity.peers.m2 === `127.0.0.1:${m2.clusterPort}`;
    }, { timeoutMs: 20_000, what: 'the worker to learn the second manager' });
    await eventually(async () => {
      const list = await json<{ id: string; status: string }[]>(m2, '/v1/nodes');
      return list.length === 4 && list.every((n) => n.status === 'ready');
    }, { timeoutMs: 30_000, what: 'four ready nodes' });
    const beforeMove = await running();
    await m1.daemon!.kill('SIGKILL');
    await Promise.all([w1.daemon!.waitForLog(sessionOpen('m2'), 20_000), w2.daemon!.waitForLog(sessionOpen('m2'), 20_000)]);
    // Without a quorum (one of two managers) nothing can be decided, and nothing stops: the
    // workers' replicas run on, and a worker's API still reads the cluster through m2.
    expect((await json<{ name: string }>(w1, `/v1/stacks/${stack}`)).name).toBe(stack);
    const workerIds = (containers: readonly EngineContainer[]) => containers.filter((c) => c.labels['constellation.node'] !== 'm1').map((c) => c.id);
    expect(workerIds(await running())).toEqual(workerIds(beforeMove));

    // The first manager back: the cluster has a leader again, the workers' heartbeats reach it
    // through m2 (a follower relays them), and a write on a worker goes through.
    await start(m1);
    await eventually(async () => {
      const list = await json<{ id: string; status: string }[]>(m1, '/v1/nodes');
      return list.length === 4 && list.every((n) => n.status === 'ready');
    }, { timeoutMs: 30_000, what: 'four ready nodes after the first manager returned' });
    const scaled = await api(w1, '/v1/deploy', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ stack, compose: compose(8) }) });
    expect(scaled.status, await scaled.clone().text()).toBe(202);
    const final = await eventually(async () => {
      const containers = await running();
      return containers.length === 8 ? containers : undefined;
    }, { timeoutMs: 60_000, what: 'eight replicas running after scaling through a worker' });
    expect(Object.values(perNode(final)).every((count) => count === 2)).toBe(true);
  });
});
