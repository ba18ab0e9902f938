import { sendParent } from 'xstate';
import type { ContainerRuntime, ContainerSummary } from '../../seams/container-runtime.ts';
import { vpnLinkMachine } from '../../machines/vpn-link.ts';
import type { LinkCommand, LinkReport } from '../../machines/vpn-link-types.ts';

/**
 * The supervising vpn-link actor: one per VPN group slot on this node, a child of the node agent.
 * It wraps the pure machine (src/machines/vpn-link.ts) and hands its commands and reports to the
 * agent, which owns the containers: a command becomes an event to a dependent's replica actor
 * (HOLD, PAUSE, RELEASE) or a removal the planner follows with a create against X's current id.
 *
 * Supervision: it has no children and performs no I/O; the agent feeds it observations. If it
 * fails, the agent stops it and spawns a new one at its next pass (agent-vpn-links.ts), which
 * rebuilds every decision from the next observation — as a restarted daemon does after kill -9.
 */
export const vpnLinkActorLogic = vpnLinkMachine.provide({
  actions: {
    command: sendParent((_args, params: LinkCommand) => params),
    report: sendParent((_args, params: LinkReport) => params),
  },
});

export const VPN_LINK_PREFIX = 'vpn-link.';

/**
 * The engine's listing has no start times; the vpn-link needs them for the members of VPN groups
 * (a dependent that started before its VPN's current run sits in a dead namespace). Inspect just
 * those: containers in another container's namespace, and the containers they name. A failed
 * inspect leaves the row as listed (the next listing tries again).
 */
export async function withVpnStartTimes(runtime: ContainerRuntime, containers: readonly ContainerSummary[]): Promise<ContainerSummary[]> {
  const members = new Set<string>();
  for (const c of containers) {
    if (!c.networkMode?.startsWith('container:')) continue;
    members.add(c.id);
    members.add(c.networkMode.slice('container:'.length));
  }
  if (members.size === 0) return [...containers];
  return Promise.all(containers.map(async (c) => {
    if (!members.has(c.id) || c.startedAtMs !== undefined || c.state !== 'running') return c;
    const inspected = await runtime.inspect(c.id).catch(() => undefined);
    return inspected?.startedAtMs !== undefined ? { ...c, startedAtMs: inspected.startedAtMs } : c;
  }));
}
