import type { VpnOnUnhealthy } from '../compose/types.ts';
import type { DependentObservation, LinkCommand, LinkObservation, LinkState, VpnObservation } from './vpn-link-types.ts';

/**
 * The vpn-link's judgement of one observation, pure: whether X can carry the dependents, which
 * dependents sit in a namespace X no longer has, and what to tell the agent. The machine
 * (vpn-link.ts) decides *when* (its state); this decides *what*.
 */

/** X runs (and, with a healthcheck, reports healthy): dependents may run in its namespace. */
export function vpnReady(vpn: VpnObservation): boolean {
  return vpn.containerId !== undefined && vpn.running && (!vpn.hasHealthcheck || vpn.health === 'healthy');
}

/** Its network names a container that is not X's current one: X was recreated; only a new container can follow it. */
export function boundElsewhere(dependent: DependentObservation, vpn: VpnObservation): boolean {
  return dependent.containerId !== undefined && vpn.containerId !== undefined && dependent.networkTarget !== undefined && dependent.networkTarget !== vpn.containerId;
}

/** It runs, but started before X's current run: it holds the namespace of X's previous life, which has no network. */
export function inDeadNamespace(dependent: DependentObservation, vpn: VpnObservation): boolean {
  return dependent.phase === 'running' && vpn.startedAtMs !== undefined && dependent.startedAtMs !== undefined && dependent.startedAtMs < vpn.startedAtMs;
}

/** Running in X's current namespace. */
export function linked(dependent: DependentObservation, vpn: VpnObservation): boolean {
  return dependent.phase === 'running' && !boundElsewhere(dependent, vpn) && !inDeadNamespace(dependent, vpn);
}

/** X is ready and every dependent runs in its current namespace. */
export function settled(observation: LinkObservation): boolean {
  return vpnReady(observation.vpn) && observation.dependents.every((d) => linked(d, observation.vpn));
}

/** Something the link itself must repair: a dependent bound to an old X, in a dead namespace, or held/paused by the kill switch. */
export function needsRepair(observation: LinkObservation): boolean {
  const { vpn } = observation;
  return observation.dependents.some((d) => boundElsewhere(d, vpn) || inDeadNamespace(d, vpn) || isSuspended(d));
}

function isSuspended(dependent: DependentObservation): boolean {
  return dependent.phase === 'holding' || dependent.phase === 'held' || dependent.phase === 'pausing' || dependent.phase === 'paused';
}

/** A dependent that a later one must wait for before it is released (start in depends_on order). */
function blocksLater(dependent: DependentObservation, vpn: VpnObservation): boolean {
  return isSuspended(dependent) || dependent.phase === 'busy' || inDeadNamespace(dependent, vpn);
}

/**
 * The commands an observation calls for. Only what is not already under way is asked for (a
 * held container is not held again), so repeating a drive is harmless; the agent drops a command
 * whose container id is no longer the dependent's.
 */
export function commandsFor(link: string, onUnhealthy: VpnOnUnhealthy, observation: LinkObservation): LinkCommand[] {
  const { vpn, dependents } = observation;
  const out: LinkCommand[] = [];
  const ask = (d: DependentObservation, command: LinkCommand['command']) => {
    if (d.containerId !== undefined) out.push({ type: 'vpn.command', link, name: d.name, containerId: d.containerId, command });
  };
  if (!vpnReady(vpn)) {
    // The kill switch: nothing of the group may reach the network while X cannot carry it.
    for (const d of dependents) {
      if (onUnhealthy === 'stop' && (d.phase === 'running' || d.phase === 'down' || d.phase === 'paused')) ask(d, 'hold');
      else if (onUnhealthy === 'pause' && d.phase === 'running') ask(d, 'pause');
    }
    return out;
  }
  let blocked = false;
  for (const d of dependents) {
    if (boundElsewhere(d, vpn)) {
      // Its container can never start again (its network container is gone): only a new one can.
      if (d.phase !== 'removing' && d.phase !== 'absent') ask(d, 'recreate');
      continue;
    }
    if (inDeadNamespace(d, vpn)) {
      // A restart into the new namespace: hold now, release below in order once stopped.
      if (d.phase === 'running') ask(d, 'hold');
      blocked = true;
      continue;
    }
    if ((d.phase === 'held' || d.phase === 'paused') && !blocked) {
      ask(d, 'release');
      blocked = true;
      continue;
    }
    if (blocksLater(d, vpn)) blocked = true;
  }
  return out;
}

/** One line for `constellation services` and the API. */
export function describeLink(state: LinkState, vpnName: string, onUnhealthy: VpnOnUnhealthy, observation: LinkObservation | undefined): string {
  if (observation === undefined) return state === 'starting' ? `starting (waiting for ${vpnName})` : state;
  const { vpn, dependents } = observation;
  const total = dependents.length;
  const plural = (n: number) => `${n} dependent${n === 1 ? '' : 's'}`;
  switch (state) {
    case 'up':
      return 'up';
    case 'starting': {
      if (!vpnReady(vpn)) return `starting (waiting for ${vpnName} to be ${vpn.hasHealthcheck && vpn.running ? 'healthy' : 'running'})`;
      const running = dependents.filter((d) => linked(d, vpn)).length;
      return `starting (${running} of ${total} dependents running)`;
    }
    case 'down': {
      const why = vpn.containerId === undefined ? 'no container' : !vpn.running ? 'not running' : vpn.health === 'unhealthy' ? 'unhealthy' : 'not healthy yet';
      const stopped = dependents.filter((d) => d.phase !== 'running' && d.phase !== 'paused' && d.phase !== 'pausing').length;
      const paused = dependents.filter((d) => d.phase === 'paused' || d.phase === 'pausing').length;
      const switched = onUnhealthy === 'keep' ? 'dependents kept as they are' : onUnhealthy === 'pause' ? `${plural(paused)} paused` : `${plural(stopped)} stopped`;
      return `down (${vpnName} ${why}; kill switch ${onUnhealthy}: ${switched})`;
    }
    case 'recovering': {
      const pending = dependents.filter((d) => !linked(d, vpn));
      const recreating = pending.some((d) => boundElsewhere(d, vpn) || d.phase === 'absent' || d.phase === 'removing');
      return `recovering (${recreating ? 'recreating' : 'restarting'} ${plural(pending.length)})`;
    }
  }
}
