import type { Logger } from 'pino';
import type { ComposeDiagnostic, StackSpec } from '../compose/types.ts';
import type { StateStore } from '../seams/state-store.ts';
import type { DaemonMetrics } from '../metrics/daemon-metrics.ts';

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
  /** When non-empty, every request but /healthz needs `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Largest accepted request body; bigger ones get 413. */
  readonly bodyLimitBytes?: number;
}

/** The node agent as the API sees it (the DaemonSystem facade satisfies it). */
export interface AgentView {
  containers(): readonly ContainerInfo[];
  services(): readonly ServiceInfo[];
}

export interface ContainerInfo {
  readonly id: string;
  readonly name: string;
  readonly stack: string;
  readonly service: string;
  readonly slot: number;
  readonly image: string;
  readonly state: string;
  readonly [key: string]: unknown;
}

export interface ServiceInfo {
  readonly stack: string;
  readonly service: string;
  readonly image: string;
  readonly desiredReplicas: number;
  readonly running: number;
  readonly healthy: number;
  readonly converged: boolean;
  readonly failed: boolean;
  readonly message?: string;
}

export interface ComposeLoadInput {
  readonly content: string;
  readonly file?: string;
  readonly workingDir?: string;
  readonly stackName?: string;
  readonly env?: Record<string, string>;
}

export type ComposeLoadResult =
  | { readonly ok: true; readonly stack: StackSpec; readonly warnings: readonly ComposeDiagnostic[] }
  | { readonly ok: false; readonly errors: readonly ComposeDiagnostic[]; readonly warnings: readonly ComposeDiagnostic[] };

/** The compose loader's contract (src/compose/load-compose.ts): never throws for bad input. */
export type ComposeLoader = (input: ComposeLoadInput) => ComposeLoadResult;
