import type { LinkState, LinkView } from '../machines/vpn-link-types.ts';
import type { HealthState, PublishedPort } from '../seams/container-runtime.ts';
import type { ContainerPhase } from '../machines/container-types.ts';

/** One replica as the API shows it (`GET /v1/containers`). */
export interface ContainerView {
  readonly name: string;
  readonly stack: string;
  readonly service: string;
  readonly slot: number;
  readonly image: string;
  readonly specHash: string;
  /** Lifecycle phase of the container machine (running, backoff, failed, …). */
  readonly state: ContainerPhase;
  readonly health: HealthState;
  readonly containerId?: string;
  readonly exitCode?: number;
  readonly restarts: number;
  readonly message?: string;
  /** Where its ports are published on its node (the ingress forwarders' backends), once known. */
  readonly ports?: readonly PublishedPort[];
}

export interface ServiceStatus {
  readonly stack: string;
  readonly service: string;
  readonly image: string;
  readonly desiredReplicas: number;
  /** Replicas with the current spec that are running. */
  readonly running: number;
  /** Of those, how many a healthcheck reported healthy; a replica without a healthcheck is never counted. */
  readonly healthy: number;
  /** Replicas on their way out (scaled away, replaced by a new spec): stopping or being removed. */
  readonly removing?: number;
  /** Whether the service's replicas have a healthcheck (the file's or the image's); without one, `healthy` is 0 and running is all that is known. */
  readonly healthcheck: boolean;
  /**
   * Exactly the desired replicas exist with the current spec and nothing else, each running
   * (healthy where a healthcheck exists) or completed (exited 0 and not to be restarted).
   */
  readonly converged: boolean;
  /** A replica gave up: restart attempts exhausted, a spec the engine refuses, or a non-zero exit its policy does not restart. */
  readonly failed: boolean;
  readonly message?: string;
  /** A member of a VPN group: the group's link state (the worst of its slots on this node). */
  readonly vpn?: ServiceVpnLink;
}

export interface ServiceVpnLink {
  /** The VPN service whose namespace the group shares. */
  readonly group: string;
  readonly role: 'vpn' | 'dependent';
  readonly state: LinkState;
  /** `up`, `recovering (restarting 3 dependents)`, `down (gw unhealthy; kill switch stop: 3 dependents stopped)`. */
  readonly detail: string;
}

export type AgentEvent =
  | { readonly type: 'container'; readonly container: ContainerView }
  | { readonly type: 'container-removed'; readonly name: string }
  /** A stack network of this node was removed (its stack, or the file's use of it, is gone). */
  | { readonly type: 'network-removed'; readonly name: string }
  | { readonly type: 'reconciled'; readonly actions: number; readonly durationMs: number }
  | { readonly type: 'engine-listed'; readonly containers: number }
  | { readonly type: 'engine-stream'; readonly connected: boolean; readonly error?: string }
  | { readonly type: 'desired-changed'; readonly services: number }
  | { readonly type: 'child-crashed'; readonly child: string; readonly error: string }
  /** A VPN group slot's link changed state (recoveredSeconds on the report that ends a recovery). */
  | { readonly type: 'vpn-link'; readonly link: LinkView; readonly recoveredSeconds?: number }
  | { readonly type: 'vpn-link-removed'; readonly link: string }
  /** A bug in the agent's own handler; it was contained and the agent keeps running. */
  | { readonly type: 'agent-error'; readonly event: string; readonly error: string };
