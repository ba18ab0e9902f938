import type { Logger } from 'pino';
import type { Clock } from '../seams/clock.ts';
import type { ContainerRuntime } from '../seams/container-runtime.ts';
import type { RestartLedger } from '../seams/restart-ledger.ts';
import type { StateStore } from '../seams/state-store.ts';
import type { ClusterStateData } from '../cluster/state.ts';
import type { ContainerEvent } from '../machines/container-types.ts';
import type { LinkCommand, LinkReport, LinkView, VpnLinkEvent } from '../machines/vpn-link-types.ts';
import type { DesiredService } from '../agent/desired.ts';
import type { EngineContainer, EngineNetwork, Plan } from '../agent/plan.ts';
import type { AgentTelemetry } from './agent-telemetry.ts';
import type { AgentEvent } from './agent-types.ts';
import type { ChildEntry } from './agent-children.ts';
import type { ContainerActorLogic, ContainerReportMessage } from './container-actor.ts';
import type { EngineWatchEvent } from './engine-watch.ts';

// Types shared by the node agent machine (node-agent.ts) and its handler modules.

export interface NodeAgentDeps {
  readonly nodeId: string;
  /** In a cluster: run only the replica slots placed on `nodeId`, never a whole service. */
  readonly runPlacedOnly?: boolean;
  readonly runtime: ContainerRuntime;
  readonly store: StateStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly telemetry: AgentTelemetry;
  /** Periodic full resync (config reconcile.intervalMs): a missed event is fixed by the next pass. */
  readonly resyncIntervalMs: number;
  /** Restart counts kept across daemon restarts (default: in memory, lost with the process). */
  readonly restartLedger?: RestartLedger;
  /** Tests only: wraps the replica logic (e.g. to inject a crash and watch supervision). */
  readonly wrapContainerLogic?: (logic: ContainerActorLogic) => ContainerActorLogic;
}

export interface NodeAgentContext {
  desired: DesiredService[];
  children: Record<string, ChildEntry>;
  /** Our containers as last listed (and updated by events), by name. */
  engine: Record<string, EngineContainer>;
  /** This node's stack networks as last listed, by name. */
  networks: Record<string, EngineNetwork>;
  /** Networks whose removal is in flight, by name. */
  networksRemoving: Record<string, true>;
  blockedUntilMs: Record<string, number>;
  crashCounts: Record<string, number>;
  waiting: Plan['waiting'];
  streamConnected: boolean;
  streamFailures: number;
  listFailures: number;
  listing: boolean;
  relistWanted: boolean;
  listedOnce: boolean;
  listSeq: number;
  listStartedEpoch: number;
  epoch: number;
  generation: number;
  storeFailures: number;
  /** VPN group slots with a link actor, and what each was last shown (src/orchestrator/vpn-link/agent-vpn-links.ts). */
  vpnObserved?: Record<string, string>;
  /** Each link's last report, by link id (X's container name). */
  vpnLinks?: Record<string, LinkView>;
}

export type AgentMachineEvent =
  | ContainerReportMessage
  | EngineWatchEvent
  | { type: 'desired.changed'; state: Readonly<ClusterStateData> }
  | { type: 'engine.resubscribe' }
  | { type: 'store.resubscribe' }
  | { type: 'resync' }
  | { type: 'reconcile' }
  | LinkCommand
  | LinkReport
  | { type: `xstate.done.actor.${string}`; output: unknown; actorId: string }
  | { type: `xstate.error.actor.${string}`; error: unknown; actorId: string };

export const CONTAINER_PREFIX = 'container.';
export const LIST_PREFIX = 'list.';
export const NETWORK_REMOVAL_PREFIX = 'network-removal.';
export const ENGINE_WATCH_ID = 'engine-events';
export const STORE_WATCH_ID = 'store-watch';

/** What the handlers need from the agent's dependencies. */
export type HandlerDeps = Pick<NodeAgentDeps, 'nodeId' | 'clock' | 'logger' | 'telemetry' | 'resyncIntervalMs'> & { readonly restartLedger: RestartLedger };

/** The subset of XState's action enqueuer the helpers use (its full generic type does not travel well). */
export interface Enqueue {
  assign(update: Partial<NodeAgentContext>): void;
  spawnChild(src: 'container' | 'list' | 'engineWatch' | 'storeWatch' | 'removeNetwork' | 'vpnLink', options: { id: string; input?: unknown }): void;
  sendTo(actorId: string, event: ContainerEvent | VpnLinkEvent): void;
  emit(event: AgentEvent): void;
  raise(event: AgentMachineEvent, options?: { id?: string; delay?: number }): void;
  cancel(id: string): void;
  stopChild(actorId: string): void;
}
