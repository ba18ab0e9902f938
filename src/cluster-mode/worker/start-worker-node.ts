import type { Logger } from 'pino';
import type { Clock } from '../../seams/clock.ts';
import { saveClusterIdentity, type ClusterIdentity } from '../cluster-identity.ts';
import { AssignmentStore } from './assignment-store.ts';
import { startWorkerSessionClient, type WorkerSessionClient } from './session-client.ts';
import type { ManagerAddress, WorkerStatus } from './session-protocol.ts';
import { WorkerApiClient } from './worker-api-client.ts';
import type { IngressListener } from '../../ingress/ingress-table.ts';

export interface WorkerNodeOptions {
  readonly identity: ClusterIdentity;
  readonly dataDir: string;
  readonly heartbeatIntervalMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

export interface WorkerNode {
  readonly identity: ClusterIdentity;
  /** The agent's desired state: this worker's assignments (persisted). */
  readonly store: AssignmentStore;
  /** The REST API's view of the cluster, read from and written through a manager. */
  readonly api: WorkerApiClient;
  /** The manager the session is open to, if any. */
  connectedManager(): ManagerAddress | undefined;
  /** The cluster's ingress table from the session's manager (empty until one sent it). */
  ingress(): readonly IngressListener[];
  /** Called whenever a manager sent a new ingress table; returns the unsubscribe function. */
  onIngress(listener: () => void): () => void;
  /** Opens the session once the agent runs: its heartbeats carry the agent's status; `onLease` renews the node lease. */
  startSession(status: () => WorkerStatus, onLease?: (sentAtMs: number) => void, engineDown?: () => boolean): void;
  stop(): Promise<void>;
}

/**
 * A worker: not a Raft member and no listener of its own on the cluster port. It keeps its node
 * identity and its own key (identity.json, as a manager keeps the cluster secret), its last
 * assignments (assignments.json), and one session to a manager; the managers' addresses it
 * learns from the session are saved, so a restarted worker finds one even if its first is gone.
 */
export async function startWorkerNode(options: WorkerNodeOptions): Promise<WorkerNode> {
  const { clock, logger } = options;
  let identity = options.identity;
  const store = new AssignmentStore(options.dataDir, logger);
  await store.open();
  let session: WorkerSessionClient | undefined;
  // The connected manager first, then the others, so the API reads where the session is.
  const managers = (): string[] => {
    const all = Object.values(identity.peers);
    const first = session?.connected()?.address;
    return first === undefined ? all : [first, ...all.filter((address) => address !== first)];
  };
  const api = new WorkerApiClient({ nodeId: identity.nodeId, key: identity.secret, managers });
  let saving: Promise<void> = Promise.resolve();
  const learnManagers = (list: readonly ManagerAddress[]): void => {
    if (list.length === 0) return;
    const peers: Record<string, string> = {};
    for (const manager of list) peers[manager.id] = manager.address;
    if (JSON.stringify(peers) === JSON.stringify(identity.peers)) return;
    identity = { ...identity, peers };
    const next = identity;
    saving = saving.then(() => saveClusterIdentity(options.dataDir, next)).catch((error: unknown) => logger.warn({ err: error }, 'could not save the managers\' addresses'));
    logger.info({ managers: list.map((manager) => manager.id) }, 'managers known to this worker');
  };
  let ingress: readonly IngressListener[] = [];
  const ingressListeners = new Set<() => void>();
  return {
    get identity() {
      return identity;
    },
    store,
    api,
    connectedManager: () => session?.connected(),
    ingress: () => ingress,
    onIngress: (listener) => {
      ingressListeners.add(listener);
      return () => ingressListeners.delete(listener);
    },
    startSession: (status, onLease, engineDown) => {
      session ??= startWorkerSessionClient({
        nodeId: identity.nodeId,
        key: identity.secret,
        clock,
        logger,
        heartbeatIntervalMs: options.heartbeatIntervalMs,
        managers: () => Object.values(identity.peers),
        status,
        onAssign: (frame) => store.apply(frame),
        onManagers: learnManagers,
        ...(onLease ? { onLease } : {}),
        onIngress: (listeners) => {
          ingress = listeners;
          for (const listener of ingressListeners) listener();
        },
        ...(engineDown ? { engineDown } : {}),
      });
    },
    stop: async () => {
      session?.stop();
      await saving;
      await store.close();
    },
  };
}
