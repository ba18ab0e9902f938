import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { cryptoRandom } from '../adapters/crypto-random.ts';
import { FileRaftStorage } from '../adapters/raft-wal/file-raft-storage.ts';
import { preloadedStorage } from '../adapters/raft-wal/preloaded-storage.ts';
import { startRaftWsTransport } from '../adapters/ws-transport/raft-ws-transport.ts';
import { RAFT_WS_PATH, type WsTransport } from '../adapters/ws-transport/ws-transport.ts';
import type { ClientRequest, ClusterCommand, CommandResult, NodeRecord } from '../cluster/commands.ts';
import type { Config } from '../config/config-schema.ts';
import type { RaftMessage } from '../raft/messages.ts';
import { createRaftNode, type RaftNode } from '../raft/raft-node.ts';
import type { RaftTelemetry } from '../metrics/raft-metrics.ts';
import { timedProposals, timedStorage } from './raft-instrumentation.ts';
import type { Clock } from '../seams/clock.ts';
import { loadClusterIdentity, saveClusterIdentity, type ClusterIdentity } from './cluster-identity.ts';
import { createPeerRpcHandler, PeerRpcError, callPeer, type PeerRoute } from './peer-rpc.ts';
import { RaftStateStore, type ForwardedResult } from './raft-state-store.ts';
import { workerKey } from './worker/worker-key.ts';
import { MAX_SESSION_FRAME_BYTES } from './worker/session-protocol.ts';
import { sessionUpgrade, type SessionAdmission } from './worker/session-socket.ts';

/** What this node tells the cluster about itself when it registers. */
export interface NodeDescription {
  readonly hostname: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly platform: { readonly os: string; readonly arch: string };
  readonly capacity: { readonly nanoCpus: number; readonly memoryBytes: number };
}

export interface ClusterNodeOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly describe: () => NodeDescription;
  /** Obtains an identity when this data directory has none and the node does not bootstrap. */
  readonly join?: (advertise: string) => Promise<ClusterIdentity>;
  /** Raft metrics (WAL flushes, proposal latency, leader changes); absent: nothing is measured. */
  readonly telemetry?: RaftTelemetry;
}

export interface ClusterNode {
  readonly identity: ClusterIdentity;
  readonly raft: RaftNode;
  readonly store: RaftStateStore;
  readonly transport: WsTransport<RaftMessage>;
  /** "host:port" of this node's cluster port as peers dial it. */
  readonly advertise: string;
  /** Resolves once the member has applied all it held at start (see RaftStateStore.synced). */
  synced(): Promise<void>;
  /** Submits a command as this node (its own client session). */
  submit(command: ClusterCommand): Promise<CommandResult>;
  isLeader(): boolean;
  /** The cluster-port address of a node (from its record, else the saved peer list). */
  addressOf(nodeId: string): string | undefined;
  /**
   * Runs `local` on the leader: here when this node leads, else through the leader's peer RPC at
   * `path` (which the leader serves with the same function, see addLeaderRoute).
   */
  onLeader<T>(path: string, body: unknown): Promise<T>;
  /** Serves `path` on the leader only (a follower answers not_leader and the caller retries). */
  addLeaderRoute(path: string, handle: (body: unknown) => Promise<unknown>): void;
  /**
   * Calls a peer's RPC route with this cluster's proof (heartbeats to the leader, relayed worker
   * beats): the one way the cluster services reach a peer, so the simulator can carry it.
   */
  callPeer<T>(address: string, path: string, body: unknown, timeoutMs?: number): Promise<T>;
  /** Adds a peer RPC route on the cluster port (heartbeats, join, reads served by the leader). */
  addRoute(path: string, route: PeerRoute): void;
  /** Serves session connections on `path` of the cluster port (worker sessions); /raft is the mesh's. */
  addSessionRoute(path: string, admit: SessionAdmission): void;
  stop(): Promise<void>;
}

export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

export class ClusterStartError extends Error {
  constructor(readonly code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClusterStartError';
  }
}

export function advertisedAddress(config: Config): string {
  return config.cluster.advertiseAddress !== '' ? config.cluster.advertiseAddress : `${config.cluster.listen.host}:${config.cluster.listen.port}`;
}

/**
 * Runs this node's Raft member on the cluster port: loads (or creates, at bootstrap) the cluster
 * identity, opens the WAL, listens, and exposes the replicated state as a StateStore. Whatever
 * started is closed again when a later step fails.
 */
export async function startClusterNode(options: ClusterNodeOptions): Promise<ClusterNode> {
  const { config, logger, clock } = options;
  const nodeId = config.node.id;
  const dataDir = config.node.dataDir;
  const advertise = advertisedAddress(config);
  let identity = await loadClusterIdentity(dataDir, nodeId);
  if (!identity) {
    if (config.cluster.bootstrap) {
      identity = {
        version: 1,
        clusterId: randomBytes(8).toString('hex'),
        nodeId,
        role: 'manager',
        secret: config.cluster.secret !== '' ? config.cluster.secret : randomBytes(32).toString('base64url'),
        bootstrapVoters: [nodeId],
        peers: { [nodeId]: advertise },
      };
      logger.info({ clusterId: identity.clusterId }, 'bootstrapping a new cluster');
    } else if (options.join) {
      identity = await options.join(advertise);
    } else {
      throw new ClusterStartError('not_in_cluster', 'this node is not a cluster member: set cluster.bootstrap to start a cluster, or cluster.seeds and cluster.token to join one');
    }
    await saveClusterIdentity(dataDir, identity);
  } else if (config.cluster.bootstrap) {
    logger.info({ clusterId: identity.clusterId }, 'already a cluster member: cluster.bootstrap ignored');
  }
  const current = identity;
  let lastLogIndexAtStart = 0;

  // Load (and check) the WAL before binding any port: a damaged log refuses to start with no side effect.
  const storage = new FileRaftStorage({ dir: join(dataDir, 'raft') });
  const persisted = await storage.load();

  const routes: Record<string, PeerRoute> = Object.create(null) as Record<string, PeerRoute>;
  const upgrades: Record<string, UpgradeHandler> = Object.create(null) as Record<string, UpgradeHandler>;
  const sessionSockets = new WebSocketServer({ noServer: true, maxPayload: MAX_SESSION_FRAME_BYTES, perMessageDeflate: false, clientTracking: false });
  // Worker routes authenticate with the key derived for the calling node, and only while that
  // node's record says it is a worker (a removed or promoted node's key opens nothing).
  let recordOf: (id: string) => NodeRecord | undefined = () => undefined;
  const keyOfWorker = (id: string): string | undefined => (recordOf(id)?.role === 'worker' ? workerKey(current.secret, id) : undefined);
  const http: Server = createServer(createPeerRpcHandler({ secret: () => current.secret, workerKey: keyOfWorker, logger, routes }));
  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (request.url ?? '').split('?')[0] ?? '';
    if (path === RAFT_WS_PATH) return; // the mesh's own listener takes it
    const handle = upgrades[path];
    if (handle) return handle(request, socket, head);
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', (error) => reject(new ClusterStartError('cluster_listen_failed', `cannot listen on the cluster port ${config.cluster.listen.host}:${config.cluster.listen.port}: ${error.message}`, { cause: error })));
    http.listen(config.cluster.listen.port, config.cluster.listen.host, () => resolve());
  }).catch(async (error: unknown) => {
    await storage.close();
    throw error;
  });

  const transport = await startRaftWsTransport({
    self: nodeId,
    listenPort: 0,
    httpServer: http,
    peers: current.peers,
    secret: current.secret,
    random: cryptoRandom,
    logger: logger.child({ component: 'transport' }),
  });
  // Set right after the member is created; the hooks below only fire once it has started.
  // eslint-disable-next-line prefer-const -- assigned after the member it listens to is created
  let store: RaftStateStore | undefined;
  let started = false;
  const member = createRaftNode({
    id: nodeId,
    initialMembership: { voters: [...current.bootstrapVoters], learners: [] },
    storage: timedStorage(preloadedStorage(storage, persisted), options.telemetry),
    transport,
    clock,
    random: cryptoRandom,
    electionTimeoutMs: config.raft.electionTimeoutMs,
    heartbeatIntervalMs: config.raft.heartbeatIntervalMs,
    snapshotEveryEntries: config.raft.snapshotEveryEntries,
    // start() replays the log before the member can answer status(): announce once it is up.
    onApplied: () => {
      if (started) store?.stateChanged();
    },
    onStateRestored: () => {
      if (started) store?.stateChanged();
    },
    onFatalError: (error) => logger.fatal({ err: error }, 'raft member stopped itself; restart the daemon'),
  });
  // Everyone below proposes through this one, so every proposal on the leader is timed.
  const raft = timedProposals(member, options.telemetry);
  recordOf = (id) => raft.state().view().nodes[id];
  const peerAddress = (id: string): string | undefined => raft.state().view().nodes[id]?.address ?? current.peers[id];
  const forward = async (leaderId: string, request: ClientRequest): Promise<ForwardedResult> => {
    const address = peerAddress(leaderId);
    if (!address) throw new PeerRpcError('peer_unreachable', `no address known for leader ${leaderId}`, 503);
    return callPeer<ForwardedResult>(address, '/cluster/submit', { request }, { secret: current.secret });
  };
  store = new RaftStateStore({ node: raft, clock, forward });
  const leaderHandlers = new Map<string, (body: unknown) => Promise<unknown>>();
  const clientId = `node:${nodeId}:${randomUUID()}`;
  let seq = 0;
  const node: ClusterNode = {
    identity: current,
    raft,
    store,
    transport,
    advertise,
    submit: (command) => store.submit({ clientId, seq: ++seq, command }),
    isLeader: () => raft.status().role === 'leader',
    callPeer: (address, path, body, timeoutMs) => callPeer(address, path, body, { secret: current.secret }, timeoutMs),
    synced: () => store.synced(lastLogIndexAtStart),
    addressOf: peerAddress,
    addRoute: (path, route) => {
      routes[path] = route;
    },
    addSessionRoute: (path, admit) => {
      upgrades[path] = sessionUpgrade(sessionSockets, admit);
    },
    addLeaderRoute: (path, handle) => {
      leaderHandlers.set(path, handle);
      routes[path] = {
        auth: 'cluster-secret',
        handle: (body) => (node.isLeader() ? handle(body) : Promise.reject(new PeerRpcError('not_leader', `${nodeId} is not the leader`, 503))),
      };
    },
    onLeader: async <T>(path: string, body: unknown): Promise<T> => {
      if (node.isLeader()) return (await leaderHandlers.get(path)!(body)) as T;
      const leaderId = raft.status().leaderId;
      const address = leaderId === undefined ? undefined : peerAddress(leaderId);
      if (!address) throw new PeerRpcError('no_leader', 'the cluster has no leader right now; retry shortly', 503);
      return callPeer<T>(address, path, body, { secret: current.secret });
    },
    stop: async () => {
      unsubscribe();
      await store.close();
      await raft.stop();
      await transport.close();
      sessionSockets.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await storage.close();
    },
  };
  node.addRoute('/cluster/submit', {
    auth: 'cluster-secret',
    handle: async (body) => {
      const request = (body as { request?: ClientRequest }).request;
      if (!request || typeof request.clientId !== 'string' || typeof request.seq !== 'number' || typeof request.command !== 'object') {
        throw new PeerRpcError('invalid_request', 'submit needs {request: {clientId, seq, command}}', 400);
      }
      // Only the leader proposes: a follower answering here would forward again and could loop.
      if (!node.isLeader()) throw new PeerRpcError('not_leader', `${nodeId} is not the leader`, 503);
      const result = await raft.propose(request);
      return { result, appliedIndex: raft.status().appliedIndex } satisfies ForwardedResult;
    },
  });

  const unsubscribe = store.subscribe((state) => {
    keepPeersCurrent(state.nodes);
    if (node.isLeader() && !state.nodes[nodeId]) void registerSelf();
  });
  let knownPeers = { ...current.peers };
  const keepPeersCurrent = (nodes: Readonly<Record<string, NodeRecord>>): void => {
    const membership = raft.status().membership;
    const members = new Set([...membership.voters, ...membership.learners]);
    let changed = false;
    for (const record of Object.values(nodes)) {
      if (!members.has(record.id) || record.id === nodeId || knownPeers[record.id] === record.address) continue;
      transport.setPeer(record.id, record.address);
      knownPeers = { ...knownPeers, [record.id]: record.address };
      changed = true;
    }
    if (changed) {
      saveClusterIdentity(dataDir, { ...current, peers: knownPeers }).catch((error: unknown) => logger.warn({ err: error }, 'could not save the peer list'));
    }
  };
  let registering = false;
  const registerSelf = async (): Promise<void> => {
    if (registering) return;
    registering = true;
    try {
      await node.submit({ type: 'register-node', node: { id: nodeId, address: advertise, role: 'manager', availability: 'active', joinedAtMs: clock.nowMs(), ...options.describe() } });
    } catch (error) {
      logger.warn({ err: error }, 'could not register this node yet; retrying on the next change');
    } finally {
      registering = false;
    }
  };

  try {
    await raft.start();
  } catch (error) {
    await node.stop().catch(() => undefined);
    throw error;
  }
  started = true;
  lastLogIndexAtStart = raft.status().lastLogIndex;
  store.stateChanged();
  if (storage.loadReport?.tornTail) logger.warn({ tornTail: storage.loadReport.tornTail }, 'truncated a torn WAL tail left by a crash');
  // The leader registers itself (a bootstrapped node's first act; later, a record lost to nothing).
  raft.actor.subscribe((snapshot) => {
    options.telemetry?.leaderSeen(snapshot.context.core.leaderId);
    if (node.isLeader() && !raft.state().view().nodes[nodeId]) void registerSelf();
  });
  return node;
}
