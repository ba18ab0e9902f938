import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { systemClock } from '../../../src/adapters/system-clock.ts';
import { PEER_AUTH_HEADER, signPeerRequest } from '../../../src/cluster-mode/peer-auth.ts';
import type { ClusterNode } from '../../../src/cluster-mode/start-cluster-node.ts';
import type { Heartbeat } from '../../../src/cluster-mode/status-board.ts';
import { startWorkerSessionClient, type WorkerSessionClient } from '../../../src/cluster-mode/worker/session-client.ts';
import { SESSION_NODE_HEADER, SESSION_NONCE_HEADER, sessionBody, WORKER_SESSION_PATH, type ManagerFrame } from '../../../src/cluster-mode/worker/session-protocol.ts';
import { startWorkerSessionServer, type WorkerSessionServer } from '../../../src/cluster-mode/worker/session-server.ts';
import { workerKey } from '../../../src/cluster-mode/worker/worker-key.ts';
import { sessionUpgrade, type SessionAdmission } from '../../../src/cluster-mode/worker/session-socket.ts';
import type { ClusterCommand } from '../../../src/cluster/commands.ts';
import { ClusterState, type ClusterStateData } from '../../../src/cluster/state.ts';
import { createLogger } from '../../../src/log/create-logger.ts';
import { service, stack } from '../agent/fixtures.ts';
import type { IngressListener } from '../../../src/ingress/ingress-table.ts';
import { eventually } from '../../support/eventually.ts';

const secret = 'cluster-secret-for-tests';
const logger = createLogger({ level: 'silent', format: 'json', destination: new PassThrough() });
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A manager's cluster port with just what the session server uses: state, identity, upgrades. */
async function fakeManager(id = 'm1', managerSecret = secret, leaderIndex: () => number | undefined = () => undefined, ingress?: () => IngressListener[]) {
  const state = new ClusterState();
  let seq = 0;
  const listeners = new Set<(view: Readonly<ClusterStateData>) => void>();
  const run = (command: ClusterCommand): void => {
    seq += 1;
    const result = state.apply(state.appliedIndex + 1, { clientId: 't', seq, command });
    if (!result.ok) throw new Error(result.message);
    for (const listener of listeners) listener(state.view());
  };
  let upgrade: ((request: IncomingMessage, socket: Duplex, head: Buffer) => void) | undefined;
  const http: Server = createServer();
  const sessionSockets = new WebSocketServer({ noServer: true, clientTracking: false });
  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => upgrade?.(request, socket, head));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const address = `127.0.0.1:${(http.address() as AddressInfo).port}`;
  run({ type: 'register-node', node: { id, address, labels: {}, role: 'manager' } });
  for (const worker of ['w1', 'w2']) run({ type: 'register-node', node: { id: worker, address: `${worker}:0`, labels: {}, role: 'worker' } });
  const cluster = {
    identity: { version: 1, clusterId: 'c', nodeId: id, role: 'manager', secret: managerSecret, bootstrapVoters: [id], peers: {} },
    raft: { status: () => ({ appliedIndex: state.appliedIndex }) },
    store: { current: () => state.view(), subscribe: (listener: (view: Readonly<ClusterStateData>) => void) => (listeners.add(listener), () => listeners.delete(listener)) },
    addSessionRoute: (_path: string, admit: SessionAdmission) => {
      upgrade = sessionUpgrade(sessionSockets, admit);
    },
  } as unknown as ClusterNode;
  const beats: Heartbeat[] = [];
  const beatWaiters: (() => void)[] = [];
  const server: WorkerSessionServer = startWorkerSessionServer({
    cluster, clock: systemClock, logger, heartbeatIntervalMs: 50,
    ...(ingress ? { ingress } : {}),
    onBeat: (beat) => {
      beats.push(beat);
      for (const waiter of beatWaiters.splice(0)) waiter();
      const index = leaderIndex();
      return Promise.resolve({ needFull: false, ...(index === undefined ? {} : { leaderIndex: index }) });
    },
  });
  cleanups.push(() => new Promise<void>((resolve) => {
    server.stop();
    sessionSockets.close();
    http.closeAllConnections();
    http.close(() => resolve());
  }));
  const nextBeat = (): Promise<void> => new Promise((resolve) => beatWaiters.push(resolve));
  return { address, run, beats, nextBeat, server, http };
}

function worker(options: { nodeId: string; key: string; managers: string[] }) {
  const frames: ManagerFrame[] = [];
  const waiters: { match: (frame: ManagerFrame) => boolean; resolve: (frame: ManagerFrame) => void }[] = [];
  const managersSeen: string[][] = [];
  const leases: number[] = [];
  const ingressSeen: (readonly IngressListener[])[] = [];
  const client: WorkerSessionClient = startWorkerSessionClient({
    ...options, clock: systemClock, logger, heartbeatIntervalMs: 50,
    managers: () => options.managers,
    status: () => ({ containers: [], services: [] }),
    onAssign: (frame) => {
      frames.push(frame);
      for (const waiter of [...waiters]) {
        if (waiter.match(frame)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(frame);
        }
      }
    },
    onManagers: (list) => managersSeen.push(list.map((m) => m.id)),
    onLease: (sentAtMs) => leases.push(sentAtMs),
    onIngress: (listeners) => ingressSeen.push(listeners),
  });
  cleanups.push(() => client.stop());
  const until = (match: (frame: ManagerFrame) => boolean): Promise<ManagerFrame> => {
    const seen = frames.find(match);
    return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ match, resolve }));
  };
  return { client, frames, until, managersSeen, leases, ingressSeen };
}

/** Opens the upgrade by hand and resolves with the HTTP status the manager answered (101 = opened). */
function rawUpgrade(address: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://${address}${WORKER_SESSION_PATH}`, { headers });
    ws.on('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(101);
      ws.terminate();
    });
    ws.on('error', () => undefined);
  });
}

function signedHeaders(nodeId: string, key: string, nonce = randomBytes(32).toString('hex')): Record<string, string> {
  return { [SESSION_NODE_HEADER]: nodeId, [SESSION_NONCE_HEADER]: nonce, [PEER_AUTH_HEADER]: signPeerRequest(key, Date.now(), 'GET', WORKER_SESSION_PATH, sessionBody(nodeId, nonce)) };
}

describe('worker session over a real socket', () => {
  it('sends the full assignment on open, then only deltas for this worker; heartbeats arrive as the authenticated node', async () => {
    const manager = await fakeManager();
    manager.run({ type: 'deploy-stack', stack: stack('a', [service('web', { replicas: 2 })]), specHash: 'h1', atMs: 1 });
    manager.run({ type: 'place-service', stack: 'a', service: 'web', stackVersion: 1, slots: { 1: 'w1', 2: 'w2' } });
    const w1 = worker({ nodeId: 'w1', key: workerKey(secret, 'w1'), managers: [manager.address] });
    const full = await w1.until((frame) => frame.t === 'assign' && frame.full);
    expect(full).toMatchObject({ full: true, upsert: [{ name: 'a', placements: { web: { slots: { 1: 'w1' } } } }], remove: [] });
    await manager.nextBeat();
    expect(manager.beats.every((beat) => beat.nodeId === 'w1')).toBe(true);
    expect(manager.beats[0]!.status).toEqual({ containers: [], services: [] });
    expect(w1.managersSeen[0]).toEqual(['m1']);
    expect(w1.client.connected()).toEqual({ id: 'm1', address: manager.address });

    // A stack placed only on w2 is none of w1's business: w1 hears of the next change to its own.
    manager.run({ type: 'deploy-stack', stack: stack('b', [service('api')]), specHash: 'h2', atMs: 1 });
    manager.run({ type: 'place-service', stack: 'b', service: 'api', stackVersion: 1, slots: { 1: 'w2' } });
    manager.run({ type: 'remove-stack', name: 'a', atMs: 2 });
    const delta = await w1.until((frame) => frame.t === 'assign' && !frame.full);
    expect(delta).toEqual({ t: 'assign', full: false, upsert: [], remove: ['a'] });
    expect(w1.frames).toHaveLength(2);
  });

  it('renews the worker\'s lease from the send time of a beat the leader took, only once this manager is caught up with the leader', async () => {
    let leaderIndex: number | undefined;
    const manager = await fakeManager('m1', secret, () => leaderIndex);
    const w1 = worker({ nodeId: 'w1', key: workerKey(secret, 'w1'), managers: [manager.address] });
    await w1.until((frame) => frame.t === 'assign' && frame.full);
    // The leader did not take the beats (a relay that failed): no lease.
    for (let i = 0; i < 3; i++) await manager.nextBeat();
    expect(w1.leases).toEqual([]);
    // The leader took them but had applied more than this manager: still none.
    leaderIndex = 1_000;
    for (let i = 0; i < 3; i++) await manager.nextBeat();
    expect(w1.leases).toEqual([]);
    // Caught up: each beat's ack renews from when that beat left the worker (never later than now).
    leaderIndex = 1;
    const before = systemClock.nowMs();
    for (let i = 0; i < 4; i++) await manager.nextBeat();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(w1.leases.length).toBeGreaterThanOrEqual(2);
    for (const sentAt of w1.leases) {
      expect(sentAt).toBeGreaterThanOrEqual(before - 60);
      expect(sentAt).toBeLessThanOrEqual(systemClock.nowMs());
    }
  });

  it('streams the cluster\'s ingress table: on open, then only when it changed', async () => {
    const listener = (backends: IngressListener['backends']): IngressListener => ({ key: 'tcp/*/8080', protocol: 'tcp', published: 8080, stack: 'a', service: 'web', target: 80, backends });
    let table = [listener([{ host: '10.0.0.1', port: 32768, replica: 'a_web_1', node: 'm1' }])];
    const manager = await fakeManager('m1', secret, () => undefined, () => table);
    const w1 = worker({ nodeId: 'w1', key: workerKey(secret, 'w1'), managers: [manager.address] });
    await eventually(() => w1.ingressSeen.length === 1, { timeoutMs: 5_000, what: 'the ingress table on open' });
    expect(w1.ingressSeen[0]).toEqual(table);
    // Several periods pass with nothing new: no frame. Then a replica leaves: one frame.
    for (let i = 0; i < 3; i++) await manager.nextBeat();
    expect(w1.ingressSeen).toHaveLength(1);
    table = [listener([])];
    await eventually(() => w1.ingressSeen.length === 2, { timeoutMs: 5_000, what: 'the changed ingress table' });
    expect(w1.ingressSeen[1]).toEqual(table);
  });

  it('refuses an upgrade with the wrong key, a replayed nonce, or a node that is not a worker', async () => {
    const manager = await fakeManager();
    expect(await rawUpgrade(manager.address, signedHeaders('w1', workerKey('another-secret', 'w1')))).toBe(401);
    expect(await rawUpgrade(manager.address, signedHeaders('w1', workerKey(secret, 'w2')))).toBe(401);
    expect(await rawUpgrade(manager.address, signedHeaders('m1', workerKey(secret, 'm1')))).toBe(401);
    expect(await rawUpgrade(manager.address, { [SESSION_NODE_HEADER]: 'w1', [SESSION_NONCE_HEADER]: randomBytes(32).toString('hex') })).toBe(401);
    const nonce = randomBytes(32).toString('hex');
    expect(await rawUpgrade(manager.address, signedHeaders('w1', workerKey(secret, 'w1'), nonce))).toBe(101);
    expect(await rawUpgrade(manager.address, signedHeaders('w1', workerKey(secret, 'w1'), nonce))).toBe(401);
  });

  it('a worker never applies what a manager that cannot prove its key sends, and moves on to the next manager', async () => {
    // An impostor accepts any upgrade and sends a welcome with a made-up proof, then an assignment.
    const impostor = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    let impostorSessions = 0;
    impostor.on('connection', (socket) => {
      impostorSessions += 1;
      socket.send(JSON.stringify({ t: 'welcome', managerId: 'evil', proof: '0'.repeat(64), managers: [] }));
      socket.send(JSON.stringify({ t: 'assign', full: true, upsert: [], remove: [] }));
    });
    cleanups.push(() => new Promise<void>((resolve) => impostor.close(() => resolve())));
    await new Promise((resolve) => impostor.once('listening', resolve));
    const impostorAddress = `127.0.0.1:${(impostor.address() as AddressInfo).port}`;
    const manager = await fakeManager();
    const w1 = worker({ nodeId: 'w1', key: workerKey(secret, 'w1'), managers: [impostorAddress, manager.address] });
    const full = await w1.until((frame) => frame.t === 'assign');
    expect(impostorSessions).toBe(1);
    expect(w1.client.connected()?.id).toBe('m1');
    expect(w1.frames).toEqual([full]);
  });

  it('when its manager goes away the worker reconnects to another one, which sends it everything again', async () => {
    const first = await fakeManager('m1');
    const second = await fakeManager('m2');
    for (const manager of [first, second]) {
      manager.run({ type: 'deploy-stack', stack: stack('a', [service('web')]), specHash: 'h1', atMs: 1 });
      manager.run({ type: 'place-service', stack: 'a', service: 'web', stackVersion: 1, slots: { 1: 'w1' } });
    }
    const w1 = worker({ nodeId: 'w1', key: workerKey(secret, 'w1'), managers: [first.address, second.address] });
    await w1.until((frame) => frame.t === 'assign');
    expect(w1.client.connected()?.id).toBe('m1');
    first.server.stop();
    first.http.closeAllConnections();
    await second.nextBeat();
    expect(w1.client.connected()?.id).toBe('m2');
    expect(w1.frames.filter((frame) => frame.t === 'assign' && frame.full)).toHaveLength(2);
  });
});
