import { assign, enqueueActions, setup } from 'xstate';
import { commandsFor, describeLink, needsRepair, settled, vpnReady } from './vpn-link-assess.ts';
import type { LinkCommand, LinkObservation, LinkReport, LinkState, VpnLinkContext, VpnLinkEvent, VpnLinkInput } from './vpn-link-types.ts';

/**
 * One VPN group's link on this node (one replica slot of X with its dependents), pure. The node
 * agent sends OBSERVE after every change it sees (X's and the dependents' containers, with the
 * network each dependent names and when each run began); the machine answers with commands to the
 * agent (`command`, supplied by src/orchestrator/vpn-link/vpn-link-actor.ts) and a report of its state.
 *
 *   starting ─all dependents linked─► up
 *   up ─X down or unhealthy─► down ─X ready─► recovering ─all linked─► up
 *   up ─X back in a new run or a new container─► recovering
 *   recovering ─X lost again─► down
 *
 * - X restarts (same container, new namespace): a dependent that started before X's current run
 *   is held (stopped), then released (started) in depends_on order, into the new namespace.
 * - X recreated (new container id): a dependent whose network names another id is recreated;
 *   the planner creates the new one against X's current id.
 * - Kill switch: while X is down or unhealthy, dependents are held (`stop`), paused (`pause`) or
 *   left alone (`keep`); once X is ready they come back in order.
 * - A dependent updated on its own (absent, then created by the planner) changes nothing here:
 *   X is never commanded, and the others are commanded only for their own state.
 *
 * Time enters only through the observations' `atMs` and the `retry` delay on the injected clock:
 * a recovery or kill switch that saw no change for `retryMs` drives again from its last
 * observation (a command dropped in a race is sent anew).
 */
const defaultRetryMs = 5000;

type Observe = Extract<VpnLinkEvent, { type: 'OBSERVE' }>;

function observationOf(event: VpnLinkEvent | { type: string }): LinkObservation | undefined {
  return event.type === 'OBSERVE' ? (event as Observe).observation : undefined;
}

/** A reference to an action of this setup from inside another: setup's types cannot see its own actions yet. */
const named = (action: { type: 'command'; params: LinkCommand } | { type: 'report'; params: LinkReport }) => action as never;

export const vpnLinkMachine = setup({
  types: {
    context: {} as VpnLinkContext,
    events: {} as VpnLinkEvent,
    input: {} as VpnLinkInput,
  },
  actions: {
    /** Supplied by the actor (sendParent); no-ops here so the machine runs alone in tests. */
    command: (_args, _params: LinkCommand) => {},
    report: (_args, _params: LinkReport) => {},
    observe: assign(({ context, event }) => ({ observation: observationOf(event) ?? context.observation })),
    beginRecovery: assign(({ context, event }) => ({ recoveryStartedAtMs: observationOf(event)?.atMs ?? context.observation?.atMs ?? 0 })),
    drive: enqueueActions(({ context, enqueue }) => {
      if (context.observation === undefined) return;
      for (const command of commandsFor(context.input.link, context.input.onUnhealthy, context.observation)) enqueue(named({ type: 'command', params: command }));
    }),
    reportState: enqueueActions(({ context, enqueue }, params: { state: LinkState; recovered?: boolean }) => {
      const detail = describeLink(params.state, context.input.vpn, context.input.onUnhealthy, context.observation);
      const recovered = params.recovered === true && context.recoveryStartedAtMs !== undefined && context.observation !== undefined;
      const recoveries = context.recoveries + (recovered ? 1 : 0);
      if (detail === context.reportedDetail && !recovered) return;
      const { link, stack, vpn, slot, onUnhealthy } = context.input;
      const recoveredSeconds = recovered ? Math.max(0, context.observation!.atMs - context.recoveryStartedAtMs!) / 1000 : undefined;
      const lastRecoverySeconds = recoveredSeconds ?? context.lastRecoverySeconds;
      const report: LinkReport = {
        type: 'vpn.report',
        view: {
          link, stack, vpn, slot, state: params.state, detail, dependents: context.observation?.dependents.length ?? 0, onUnhealthy, recoveries,
          ...(lastRecoverySeconds !== undefined ? { lastRecoverySeconds } : {}),
        },
        ...(recoveredSeconds !== undefined ? { recoveredSeconds } : {}),
      };
      enqueue.assign({ reportedDetail: detail, recoveries, ...(recovered ? { recoveryStartedAtMs: undefined, lastRecoverySeconds } : {}) });
      enqueue(named({ type: 'report', params: report }));
    }),
  },
  guards: {
    settled: ({ event }) => settled((event as Observe).observation),
    vpnLost: ({ event }) => !vpnReady((event as Observe).observation.vpn),
    needsRepair: ({ event }) => needsRepair((event as Observe).observation),
    vpnReady: ({ event }) => vpnReady((event as Observe).observation.vpn),
  },
  delays: {
    retry: ({ context }) => context.input.retryMs ?? defaultRetryMs,
  },
}).createMachine({
  id: 'vpn-link',
  context: ({ input }) => ({ input, recoveries: 0 }),
  initial: 'starting',
  states: {
    starting: {
      entry: { type: 'reportState', params: { state: 'starting' } },
      on: {
        OBSERVE: [
          { guard: 'settled', target: 'up', actions: ['observe'] },
          { actions: ['observe', 'drive', { type: 'reportState', params: { state: 'starting' } }] },
        ],
      },
    },
    up: {
      entry: { type: 'reportState', params: { state: 'up', recovered: true } },
      on: {
        OBSERVE: [
          { guard: 'vpnLost', target: 'down', actions: ['observe', 'beginRecovery'] },
          { guard: 'needsRepair', target: 'recovering', actions: ['observe', 'beginRecovery'] },
          // A dependent being replaced on its own: nothing for the link to do.
          { actions: ['observe'] },
        ],
      },
    },
    down: {
      entry: ['drive', { type: 'reportState', params: { state: 'down' } }],
      after: { retry: { target: 'down', reenter: true } },
      on: {
        OBSERVE: [
          // X came back without a new run (it was unhealthy for a while): nothing was lost but time.
          { guard: 'settled', target: 'up', actions: ['observe'] },
          { guard: 'vpnReady', target: 'recovering', actions: ['observe'] },
          { target: 'down', reenter: true, actions: ['observe'] },
        ],
      },
    },
    recovering: {
      entry: ['drive', { type: 'reportState', params: { state: 'recovering' } }],
      after: { retry: { target: 'recovering', reenter: true } },
      on: {
        OBSERVE: [
          { guard: 'settled', target: 'up', actions: ['observe'] },
          { guard: 'vpnLost', target: 'down', actions: ['observe'] },
          { target: 'recovering', reenter: true, actions: ['observe'] },
        ],
      },
    },
  },
});

export type VpnLinkMachine = typeof vpnLinkMachine;
