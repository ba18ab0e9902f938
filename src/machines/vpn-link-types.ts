import type { VpnOnUnhealthy } from '../compose/types.ts';
import type { HealthState } from '../seams/container-runtime.ts';

/**
 * Types of the vpn-link machine (vpn-link.ts): one link is one replica slot of a VPN group — the
 * VPN container X and, in depends_on order, the dependent containers that live in X's network
 * namespace (`container:<X's id>`). Everything the machine decides comes from OBSERVE events, a
 * level snapshot of those containers taken by the node agent, so a daemon restarted in the middle
 * of a recovery rebuilds the same decisions from what the engine shows.
 */

/** X as the agent sees it. */
export interface VpnObservation {
  /** Absent while X has no container (not created yet, or removed for a recreate). */
  readonly containerId?: string;
  readonly running: boolean;
  readonly health: HealthState;
  /** When X's current run began, by the engine's clock; a dependent started before it is in a dead namespace. */
  readonly startedAtMs?: number;
  /** Whether X has a healthcheck: then it must report healthy before any dependent runs. */
  readonly hasHealthcheck: boolean;
}

/**
 * What a dependent's supervising actor is doing, narrowed to what the link needs:
 * `absent` (no container), `busy` (being created, started, stopped or removed by someone else),
 * `running`, `holding`/`held` (stopped by the link's kill switch), `pausing`/`paused`,
 * `down` (exited, waiting for its restart policy, failed).
 */
export type DependentPhase = 'absent' | 'busy' | 'running' | 'holding' | 'held' | 'pausing' | 'paused' | 'down' | 'removing';

export interface DependentObservation {
  /** Container name (`<stack>_<service>_<slot>`). */
  readonly name: string;
  readonly containerId?: string;
  readonly phase: DependentPhase;
  /** The container id its network mode names (`container:<id>`), when known. */
  readonly networkTarget?: string;
  /** When its current run began (engine clock), when known. */
  readonly startedAtMs?: number;
}

export interface LinkObservation {
  readonly vpn: VpnObservation;
  /** Every dependent of the link, in depends_on order. */
  readonly dependents: readonly DependentObservation[];
  /** When the snapshot was taken, on the agent's injected clock. */
  readonly atMs: number;
}

/**
 * What the link asks the agent to do to one dependent container:
 * - `hold`: stop it and keep it stopped, outside its restart policy (kill switch, or the first
 *   half of a restart into X's new namespace);
 * - `pause`: freeze it (kill switch `pause`);
 * - `release`: start a held container again, or unpause a paused one;
 * - `recreate`: remove it, so the planner creates it again against X's current container id.
 * Commands name the container id they were decided for: one for a container that has since been
 * replaced is dropped.
 */
export type LinkCommandKind = 'hold' | 'pause' | 'release' | 'recreate';

export interface LinkCommand {
  readonly type: 'vpn.command';
  readonly link: string;
  readonly name: string;
  readonly containerId: string;
  readonly command: LinkCommandKind;
}

/** starting: never up yet; up; down: X down or unhealthy (kill switch engaged); recovering: X is back, dependents are not yet. */
export type LinkState = 'starting' | 'up' | 'down' | 'recovering';

export interface LinkView {
  readonly link: string;
  readonly stack: string;
  /** The VPN service (the group's name). */
  readonly vpn: string;
  readonly slot: number;
  readonly state: LinkState;
  /** One line for people: `up`, `recovering (restarting 3 dependents)`, `down (kill switch: 3 dependents stopped)`. */
  readonly detail: string;
  readonly dependents: number;
  readonly onUnhealthy: VpnOnUnhealthy;
  /** Recoveries this link finished since its actor started. */
  readonly recoveries: number;
  /** How long the last of them took (from X seen down or changed to every dependent linked again). */
  readonly lastRecoverySeconds?: number;
}

export interface LinkReport {
  readonly type: 'vpn.report';
  readonly view: LinkView;
  /** Set once, on the report that ends a recovery: how long X's outage cost the dependents. */
  readonly recoveredSeconds?: number;
}

export interface VpnLinkInput {
  readonly link: string;
  readonly stack: string;
  readonly vpn: string;
  readonly slot: number;
  readonly onUnhealthy: VpnOnUnhealthy;
  /** How often a recovery that made no progress re-sends its commands (a command lost to a race). */
  readonly retryMs?: number;
}

export type VpnLinkEvent = { readonly type: 'OBSERVE'; readonly observation: LinkObservation };

export interface VpnLinkContext {
  readonly input: VpnLinkInput;
  /** The last observation: the retry timer re-drives from it. */
  observation?: LinkObservation;
  /** When the running recovery began (X seen down or changed), on the agent's clock. */
  recoveryStartedAtMs?: number;
  recoveries: number;
  lastRecoverySeconds?: number;
  /** What the last report said, so only changes are reported. */
  reportedDetail?: string;
}
