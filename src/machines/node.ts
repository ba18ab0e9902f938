import { enqueueActions, setup } from 'xstate';
import type { NodeAvailability, NodeChange, NodeContext, NodeEvent, NodeMachineInput, NodeStatus } from './node-types.ts';

/**
 * Liveness and availability of one cluster node, as the leader sees it. Pure: heartbeats arrive
 * as events, silence is measured by `after` delays on the injected clock, and every change is
 * reported through the `report` action (emits by default; the membership actor supplies a
 * sendParent instead). Each timer restarts on every heartbeat, so both windows count from the
 * last heartbeat heard.
 *
 *   joining ─HEARTBEAT|JOINED─► ready ◄─HEARTBEAT── suspect
 *   unknown ─HEARTBEAT|JOINED─► ready ──suspectAfterMs─► suspect ──(downAfterMs − suspectAfterMs)─► down
 *   joining|unknown ──downAfterMs─► down ──HEARTBEAT|JOINED─► ready
 *   any ─LEAVE─► left (final)
 *
 * availability (parallel region): active ⇄ pause ⇄ drain, by SET_AVAILABILITY.
 */
/**
 * Calls the `report` action by name, so `.provide({ actions: { report } })` replaces it. setup's
 * types cannot name a sibling action from inside enqueueActions, hence the one cast.
 */
function report(enqueue: (action: never) => void, change: NodeChange): void {
  enqueue({ type: 'report', params: change } as never);
}

const machineSetup = setup({
  types: {
    context: {} as NodeContext,
    events: {} as NodeEvent,
    input: {} as NodeMachineInput,
    emitted: {} as NodeChange,
  },
  actions: {
    /** Replaced by the membership actor; standalone the machine emits its changes. */
    report: enqueueActions(({ enqueue }, change: NodeChange) => enqueue.emit(change)),
    become: enqueueActions(({ context, enqueue }, params: { status: NodeStatus }) => {
      if (context.status === params.status) return;
      enqueue.assign({ status: params.status });
      report(enqueue, { type: 'node.status', nodeId: context.nodeId, status: params.status, previous: context.status, availability: context.availability });
    }),
    announce: enqueueActions(({ context, enqueue }) => {
      report(enqueue, { type: 'node.status', nodeId: context.nodeId, status: context.status, previous: undefined, availability: context.availability });
    }),
    record: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'HEARTBEAT') return;
      enqueue.assign({ lastReport: event.report, heartbeats: context.heartbeats + 1 });
    }),
    setAvailability: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'SET_AVAILABILITY' || event.availability === context.availability) return;
      enqueue.assign({ availability: event.availability });
      report(enqueue, { type: 'node.availability', nodeId: context.nodeId, availability: event.availability, previous: context.availability, status: context.status });
    }),
  },
  guards: {
    startsUnknown: ({ context }) => context.startAs === 'unknown',
    availabilityIs: ({ event }, params: { availability: NodeAvailability }) => event.type === 'SET_AVAILABILITY' && event.availability === params.availability,
  },
  delays: {
    suspectAfter: ({ context }) => context.timing.suspectAfterMs,
    /** Suspect counts on from the last heartbeat: only the rest of the grace remains. */
    restOfGrace: ({ context }) => context.timing.downAfterMs - context.timing.suspectAfterMs,
    grace: ({ context }) => context.timing.downAfterMs,
  },
});

const become = (status: NodeStatus) => ({ type: 'become', params: { status } }) as const;
/** A heartbeat from a node that was not ready: keep its report, and it is ready. */
const heard = { target: '#node.member.liveness.ready', actions: ['record', become('ready')] } as const;

function availabilityTransitions() {
  return (['active', 'pause', 'drain'] as const).map((availability) => ({
    guard: { type: 'availabilityIs', params: { availability } } as const,
    target: `#node.member.availability.${availability}`,
    actions: 'setAvailability' as const,
  }));
}

export const nodeMachine = machineSetup.createMachine({
  id: 'node',
  context: ({ input }) => ({
    nodeId: input.nodeId,
    timing: input.timing,
    startAs: input.startAs,
    status: input.startAs,
    availability: input.availability ?? 'active',
    lastReport: undefined,
    heartbeats: 0,
  }),
  initial: 'member',
  entry: 'announce',
  states: {
    member: {
      type: 'parallel',
      on: { LEAVE: { target: 'left', actions: become('left') } },
      states: {
        liveness: {
          initial: 'start',
          states: {
            // The first state depends on input; an eventless choice picks it.
            start: { always: [{ guard: 'startsUnknown', target: 'unknown' }, { target: 'joining' }] },
            joining: {
              on: { HEARTBEAT: heard, JOINED: { target: 'ready', actions: become('ready') } },
              // A join that never completes shows as down instead of joining forever.
              after: { grace: { target: 'down', actions: become('down') } },
            },
            unknown: {
              on: { HEARTBEAT: heard, JOINED: { target: 'ready', actions: become('ready') } },
              // One grace, as for any node: heartbeats rebuild the picture within it.
              after: { grace: { target: 'down', actions: become('down') } },
            },
            ready: {
              // Re-entering restarts the suspicion timer: silence counts from the last heartbeat.
              on: { HEARTBEAT: { target: 'ready', reenter: true, actions: 'record' } },
              after: { suspectAfter: { target: 'suspect', actions: become('suspect') } },
            },
            suspect: {
              on: { HEARTBEAT: heard },
              after: { restOfGrace: { target: 'down', actions: become('down') } },
            },
            down: {
              on: { HEARTBEAT: heard, JOINED: { target: 'ready', actions: become('ready') } },
            },
          },
        },
        availability: {
          initial: 'fromInput',
          states: {
            fromInput: {
              always: [
                { guard: ({ context }) => context.availability === 'pause', target: 'pause' },
                { guard: ({ context }) => context.availability === 'drain', target: 'drain' },
                { target: 'active' },
              ],
            },
            active: { on: { SET_AVAILABILITY: availabilityTransitions() } },
            pause: { on: { SET_AVAILABILITY: availabilityTransitions() } },
            drain: { on: { SET_AVAILABILITY: availabilityTransitions() } },
          },
        },
      },
    },
    left: { type: 'final' },
  },
});

export type NodeMachine = typeof nodeMachine;
