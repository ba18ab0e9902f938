import type { Logger } from 'pino';
import type { loadCompose } from '../compose/load-compose.ts';
import type { StateStore } from '../seams/state-store.ts';
import type { DaemonMetrics } from '../metrics/daemon-metrics.ts';
import type { ContainerView, ServiceStatus } from '../actors/agent-types.ts';
import type { ApiBind } from './cross-site-guard.ts';
import type { NodeView } from './routes/nodes.ts';
import type { InspectionHub } from '../observe/inspection-hub.ts';
import type { EventLog } from '../observe/event-log.ts';

/**
 * What the REST API needs from the rest of the daemon, kept deliberately small: the routes read
 * desired state from the store, observed state from the agent, and write only through
 * `store.submit`. The composition root passes the real pieces; unit tests pass fakes.
 */
export interface ApiDeps {
  readonly nodeId: string;
  readonly store: Pick<StateStore, 'current' | 'submit'>;
  readonly agent: AgentView;
  readonly loadCompose: ComposeLoader;
  readonly logger: Logger;
  /** Wall-clock milliseconds since the epoch, stamped into commands (updatedAtMs survives restarts). */
  readonly wallClockMs: () => number;
  /** Unique per daemon process: with `seq`, makes each submitted command apply exactly once. */
  readonly clientId: string;
  readonly metrics?: DaemonMetrics;
  /**
   * Every request but /healthz and /docs needs `Authorization: Bearer <token>`. Never empty: the
   * daemon passes api.token, else the token it generated into `<dataDir>/api-token`.
   */
  readonly token: string;
  /**
   * A second token that may only read (GET): the API, /v1/events, /v1/inspect, /metrics and the
   * pages; every write answers 403 read_only_token. Absent: there is only the admin token.
   */
  readonly readOnlyToken?: string;
  /** The configured listen address: Host is validated against it when it is loopback. */
  readonly bind: ApiBind;
  /** Present in cluster mode: the nodes and their management. */
  readonly cluster?: ClusterApi;
  /** The actor inspection stream (`GET /v1/inspect`); absent in tests that do not need it. */
  readonly inspection?: InspectionHub;
  /** The cluster event log behind `GET /v1/events`; absent in tests that do not need it. */
  readonly events?: EventLog;
  /**
   * On a worker: fetches the cluster's state from a manager before each /v1 request, so the
   * routes read it as they read a manager's own (a failure answers 503 with its code).
   */
  readonly refresh?: () => Promise<void>;
  /** Largest accepted request body; bigger ones get 413. */
  readonly bodyLimitBytes?: number;
}

/** The node agent as the API sees it (the DaemonSystem facade satisfies it). */
export interface AgentView {
  containers(): readonly ContainerInfo[];
  services(): readonly ServiceInfo[];
}

export type ContainerInfo = ContainerView;
export type ServiceInfo = ServiceStatus;

/** The compose loader (src/compose/load-compose.ts): never throws for bad input. */
export type ComposeLoader = typeof loadCompose;

export interface JoinTokens {
  readonly clusterId: string;
  readonly manager: string;
  readonly worker: string;
  /** Cluster ports ("host:port") of the managers (Raft voters): what a joining node dials. */
  readonly managers: readonly string[];
}

/** What the node routes need in cluster mode. */
export interface ClusterApi {
  nodes(): NodeView[];
  /** The current join tokens (managers only hold them). */
  tokens(): JoinTokens;
  /** A new token for the role; the old one stops working at once. */
  rotateToken(role: 'manager' | 'worker'): Promise<JoinTokens>;
  /** Promote (manager) or demote (worker); refused with a coded error when it cannot work. */
  setRole(nodeId: string, role: 'manager' | 'worker'): Promise<{ readonly changed: boolean }>;
  /** Removes a node that is down: its record, and its Raft membership when it is a manager. */
  removeNode(id: string): Promise<void>;
}
