import { withVpnLinks } from '../orchestrator/vpn-link/agent-vpn-links.ts';
import type { LinkView } from '../machines/vpn-link-types.ts';
import { createActor, type AnyActorRef, type InspectionEvent, type Observer } from 'xstate';
import type { Logger } from 'pino';
import type { Clock } from '../seams/clock.ts';
import type { ContainerRuntime } from '../seams/container-runtime.ts';
import type { RestartLedger } from '../seams/restart-ledger.ts';
import type { StateStore } from '../seams/state-store.ts';
import type { AgentTelemetry } from './agent-telemetry.ts';
import type { AgentEvent, ContainerView, ServiceStatus } from './agent-types.ts';
import { serviceStatuses, toView } from './agent-children.ts';
import { createNodeAgentLogic } from './node-agent.ts';
import { safely } from './engine-call.ts';
import { startRolloutReconciler, type RolloutStep } from '../orchestrator/rollout/rollout-reconciler.ts';

/** Distinct default client ids for systems started in one process (tests restart agents). */
let systemsStarted = 0;

export type { AgentEvent, ContainerView, ServiceStatus } from './agent-types.ts';
export type { AgentTelemetry } from './agent-telemetry.ts';
export { noopTelemetry } from './agent-telemetry.ts';

export interface DaemonSystemOptions {
  readonly nodeId: string;
  /** In a cluster: run only the replica slots placed on this node. */
  readonly runPlacedOnly?: boolean;
  readonly runtime: ContainerRuntime;
  /** Must already be opened (`await store.open()`): the composition root owns its lifecycle. */
  readonly store: StateStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly telemetry: AgentTelemetry;
  /** Full resync period (config reconcile.intervalMs). Default 5000. */
  readonly reconcileIntervalMs?: number;
  /** Restart counts that outlive the process (the daemon's is a file in its data dir). */
  readonly restartLedger?: RestartLedger;
  /**
   * A single node leads itself: it runs the rollout reconciler over its own replicas (in a cluster
   * the leader's runs over the whole cluster instead). On unless `runPlacedOnly`.
   */
  readonly rollouts?: {
    /** The store client id of its commands: unique per process (sequence numbers restart at 1). */
    readonly clientId?: string;
    readonly wallClockMs?: () => number;
    readonly onStep?: (step: RolloutStep) => void;
    /** Each rollout machine as it starts and leaves (the inspector follows them). */
    readonly onMachine?: (actor: AnyActorRef, live: boolean) => void;
  };
}

export interface DaemonSystem {
  /** Every replica the agent supervises, sorted by name. */
  containers(): ContainerView[];
  /** One status per desired service, in desired order. */
  services(): ServiceStatus[];
  /** Each VPN group slot's link on this node (state and a line for people). */
  vpnLinks(): LinkView[];
  /**
   * Whether the engine answers: its event stream is up and the last listing worked. While it does
   * not, a cluster node reports itself unhealthy in its heartbeats and its replicas fail over.
   */
  engineReachable?(): boolean;
  /** Live agent events; returns an unsubscribe function. A throwing listener is logged and ignored. */
  subscribe(listener: (event: AgentEvent) => void): () => void;
  /** The root actor (the node agent): inspection walks its tree to replay live actors. */
  readonly root: AnyActorRef;
  /** Sees every actor event of the system while attached; returns the detach function. */
  attachInspector(observer: (inspectionEvent: InspectionEvent) => void): () => void;
  /** Stops the actors; containers keep running in the engine (a restarted daemon adopts them). */
  stop(): Promise<void>;
}

/**
 * Starts the node agent's actor system: the composition root calls this once with its seams.
 * The root actor has an error observer, so no actor failure takes the process down.
 */
export async function startDaemonSystem(options: DaemonSystemOptions): Promise<DaemonSystem> {
  const { logger } = options;
  const logic = createNodeAgentLogic({
    nodeId: options.nodeId,
    ...(options.runPlacedOnly ? { runPlacedOnly: true } : {}),
    runtime: options.runtime,
    store: options.store,
    clock: options.clock,
    logger,
    telemetry: options.telemetry,
    resyncIntervalMs: options.reconcileIntervalMs ?? 5000,
    ...(options.restartLedger ? { restartLedger: options.restartLedger } : {}),
  });
  const actor = createActor(logic, { clock: options.clock, systemId: 'node-agent' });
  let stopped = false;
  actor.subscribe({
    error: (error) => {
      // Nothing escalates here on purpose; if something does, say so loudly and stay up.
      logger.error({ err: error }, 'node agent actor failed');
    },
  });
  actor.start();

  const containers = (): ContainerView[] =>
    Object.values(actor.getSnapshot().context.children)
      .map(toView)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  systemsStarted += 1;
  const clientId = options.rollouts?.clientId ?? `rollout:${options.nodeId}:${systemsStarted}`;
  let seq = 0;
  const rollouts = options.runPlacedOnly ? undefined : startRolloutReconciler({
    isLeader: () => true,
    current: () => options.store.current(),
    subscribe: (listener) => options.store.subscribe(listener),
    containers,
    subscribeContainers: (listener) => {
      const subscription = actor.on('*', (event) => {
        if ((event as AgentEvent).type === 'container' || (event as AgentEvent).type === 'container-removed') listener();
      });
      return () => subscription.unsubscribe();
    },
    submit: (command) => {
      seq += 1;
      return options.store.submit({ clientId, seq, command });
    },
    clock: options.clock,
    wallClockMs: options.rollouts?.wallClockMs ?? (() => options.clock.nowMs()),
    logger: logger.child({ component: 'rollout' }),
    ...(options.rollouts?.onStep ? { onStep: options.rollouts.onStep } : {}),
    ...(options.rollouts?.onMachine ? { onMachine: options.rollouts.onMachine } : {}),
  });

  return {
    root: actor,
    containers,
    services: () => {
      const { desired, children, waiting, vpnLinks } = actor.getSnapshot().context;
      return withVpnLinks(serviceStatuses(desired, Object.values(children), waiting), desired, Object.values(vpnLinks ?? {}));
    },
    engineReachable: () => {
      const { streamConnected, listFailures } = actor.getSnapshot().context;
      return streamConnected && listFailures === 0;
    },
    vpnLinks: () => Object.values(actor.getSnapshot().context.vpnLinks ?? {}).sort((a, b) => (a.link < b.link ? -1 : a.link > b.link ? 1 : 0)),
    subscribe: (listener) => {
      const subscription = actor.on('*', (event) => safely(logger, () => listener(event as AgentEvent)));
      return () => subscription.unsubscribe();
    },
    attachInspector: (observer) => {
      const safe: Observer<InspectionEvent> = { next: (event) => safely(logger, () => observer(event)) };
      const subscription = actor.system.inspect(safe);
      return () => subscription.unsubscribe();
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      rollouts?.stop();
      actor.stop();
    },
  };
}
