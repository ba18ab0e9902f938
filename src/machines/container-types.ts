import type { RestartPolicySpec } from '../compose/types.ts';
import type { ContainerState, CreateContainerRequest, HealthState, RuntimeErrorCode } from '../seams/container-runtime.ts';

/**
 * Types shared by the container machine and the actor that performs its effects. Effects resolve
 * with a result object instead of rejecting, and every result carries the time it completed, so
 * the machine can make time-based decisions (restart windows) without reading a clock.
 */
export type EffectResult<T> =
  | { readonly ok: true; readonly value: T; readonly atMs: number }
  | { readonly ok: false; readonly code: RuntimeErrorCode | 'unknown' | 'pull_failed'; readonly message: string; readonly atMs: number };

/** What the engine says right after a start: a process may exit before we even look. */
export interface StartObservation {
  readonly state: ContainerState;
  readonly health: HealthState;
  readonly exitCode?: number;
}

export interface ContainerMachineInput {
  /** `<stack>_<service>_<slot>`; identifies the replica for the parent. */
  readonly name: string;
  /** Absent for containers we only adopt in order to remove them (orphans). */
  readonly request?: CreateContainerRequest;
  readonly restartPolicy: RestartPolicySpec;
  readonly hasHealthcheck: boolean;
  readonly stopGracePeriodMs: number;
  /**
   * How long a replica stays reported `stopping` before the engine's stop (SIGTERM) is sent: the
   * time every node's ingress forwarder needs to hear it left the backend set, so no new request
   * reaches it and those under way finish (src/ingress). 0 for a replica that publishes no ingress port.
   */
  readonly drainMs?: number;
  /**
   * Restarts before this actor (an adopted container's, kept by the daemon that restarted it).
   * They count toward max_attempts with the default window 0 ("the whole life"), never inside a
   * finite window: their times belonged to another process's clock.
   */
  readonly restartsBefore?: number;
}

export type ContainerPhase =
  | 'pending' | 'creating' | 'starting' | 'running' | 'exited' | 'backoff' | 'engine-backoff'
  | 'failed' | 'stopping' | 'removing' | 'removed'
  /** Stopped (or frozen) by its VPN group's link, outside the restart policy: see vpn-link.ts. */
  | 'holding' | 'held' | 'pausing' | 'paused';

/** Sent to the parent on every state entry: the supervisor's whole view of a replica. */
export interface ContainerReport {
  readonly type: 'container.report';
  readonly name: string;
  readonly phase: ContainerPhase;
  readonly health: HealthState;
  readonly containerId?: string;
  readonly exitCode?: number;
  readonly restarts: number;
  readonly message?: string;
  /** On `exited`: whether the restart policy restarts it (backoff follows), so an exit is not mistaken for a failed service in between. */
  readonly willRestart?: boolean;
}

export type ContainerEvent =
  | { readonly type: 'START' }
  | { readonly type: 'ADOPT'; readonly containerId: string; readonly state: ContainerState; readonly health: HealthState; readonly exitCode?: number; readonly atMs: number }
  | { readonly type: 'EXITED'; readonly exitCode: number; readonly atMs: number }
  | { readonly type: 'HEALTH'; readonly health: HealthState }
  /** The container no longer exists in the engine (removed behind our back). */
  | { readonly type: 'GONE' }
  /** Desired state no longer wants this replica: stop and remove it. */
  | { readonly type: 'REMOVE' }
  /** The engine started the container itself (`docker restart`) while we waited to restart it. */
  | { readonly type: 'STARTED'; readonly atMs: number }
  /** From the vpn-link: stop it and keep it stopped, whatever its restart policy says (kill switch). */
  | { readonly type: 'HOLD' }
  /** From the vpn-link: freeze it (kill switch `pause`). */
  | { readonly type: 'PAUSE' }
  /** From the vpn-link: start a held container, or thaw a paused one. */
  | { readonly type: 'RELEASE' };
