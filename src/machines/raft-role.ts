import { enqueueActions, setup } from 'xstate';
import type { Outbox, RaftInput, RaftState, Role } from '../raft/raft-state.ts';
import { step } from '../raft/step.ts';
import { drawElectionTimeout } from '../raft/election-timer.ts';

/**
 * The Raft role of one member: follower, preCandidate, candidate, leader.
 *
 * Time lives here, as XState delayed transitions driven by the injected clock (a simulated clock in
 * tests): the election timeout (randomized in [T, 2T) from a generator carried in context), the
 * leader's heartbeat interval, the leader's check-quorum round (every T) and the follower's leader
 * lease (T after the leader was last heard). Everything else is the
 * pure step function: every event and timer becomes one `step(core, input)` call whose new state goes
 * back into context and whose outbox is put in context and emitted as an `outbox` event for the
 * driver, which persists, sends and applies it in that order. The machine does no I/O.
 *
 * Role changes are decided by the step; the machine follows with a raised `role.sync` event, which
 * also re-enters the current state when the election timer must restart (heard from the leader,
 * granted a vote).
 */
export interface RaftRoleContext {
  core: RaftState;
  /** The outbox of the latest step (also emitted), numbered so observers can tell steps apart. */
  outbox: Outbox | undefined;
  outboxSeq: number;
  rngState: number;
  /** The current randomized wait before campaigning. */
  electionTimeoutMs: number;
  baseElectionTimeoutMs: number;
  heartbeatIntervalMs: number;
}

export interface RaftRoleInput {
  readonly core: RaftState;
  /** Seed for the election-timeout generator (from the Random seam). */
  readonly rngSeed: number;
  readonly electionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
}

/** What the outside world feeds in (timers are the machine's own). */
export type RaftRoleExternalEvent = Exclude<RaftInput, { type: 'election-timeout' | 'heartbeat-timeout' | 'check-quorum' | 'lease-expired' }>;

export type RaftRoleEvent = RaftRoleExternalEvent | { readonly type: 'role.sync' };

export interface RaftOutboxEmitted {
  readonly type: 'outbox';
  readonly seq: number;
  readonly outbox: Outbox;
  readonly state: RaftState;
}

const machineSetup = setup({
  types: {
    context: {} as RaftRoleContext,
    events: {} as RaftRoleEvent,
    input: {} as RaftRoleInput,
    emitted: {} as RaftOutboxEmitted,
  },
  actions: {
    step: enqueueActions(({ context, enqueue }, params: { input: RaftInput }) => {
      const { state, outbox } = step(context.core, params.input);
      const roleChanged = state.role !== context.core.role;
      const restartTimer = roleChanged || (state.role !== 'leader' && (outbox.resetElectionTimer || params.input.type === 'election-timeout'));
      let { rngState, electionTimeoutMs } = context;
      if (restartTimer) ({ rngState, timeoutMs: electionTimeoutMs } = drawElectionTimeout(rngState, context.baseElectionTimeoutMs));
      const seq = context.outboxSeq + 1;
      enqueue.assign({ core: state, outbox, outboxSeq: seq, rngState, electionTimeoutMs });
      enqueue.emit({ type: 'outbox', seq, outbox, state });
      if (roleChanged || (restartTimer && params.input.type !== 'election-timeout')) enqueue.raise({ type: 'role.sync' });
    }),
  },
  guards: {
    roleIs: ({ context }, params: { role: Role }) => context.core.role === params.role,
  },
  delays: {
    electionTimeout: ({ context }) => context.electionTimeoutMs,
    heartbeatInterval: ({ context }) => context.heartbeatIntervalMs,
    checkQuorumInterval: ({ context }) => context.baseElectionTimeoutMs,
    leaseTimeout: ({ context }) => context.baseElectionTimeoutMs,
  },
});

const stepWithEvent = { type: 'step', params: ({ event }: { event: RaftRoleEvent }) => ({ input: event as RaftInput }) } as const;

function stepWith(input: RaftInput) {
  return { type: 'step', params: { input } } as const;
}

/** Follow the core's role; re-entering the current state restarts its timers. */
function syncTo(current: Role) {
  const roles: Role[] = ['follower', 'preCandidate', 'candidate', 'leader'];
  return roles
    .filter((role) => !(role === 'leader' && current === 'leader'))
    .map((role) => ({ guard: { type: 'roleIs', params: { role } } as const, target: `#raftRole.${role}`, reenter: role === current }));
}

export const raftRoleMachine = machineSetup.createMachine({
  id: 'raftRole',
  context: ({ input }) => {
    const { rngState, timeoutMs } = drawElectionTimeout(input.rngSeed, input.electionTimeoutMs);
    return {
      core: input.core,
      outbox: undefined,
      outboxSeq: 0,
      rngState,
      electionTimeoutMs: timeoutMs,
      baseElectionTimeoutMs: input.electionTimeoutMs,
      heartbeatIntervalMs: input.heartbeatIntervalMs,
    };
  },
  initial: 'follower',
  on: {
    message: { actions: stepWithEvent },
    propose: { actions: stepWithEvent },
    'propose-config': { actions: stepWithEvent },
    'read-index': { actions: stepWithEvent },
    'transfer-leadership': { actions: stepWithEvent },
    'snapshot-taken': { actions: stepWithEvent },
    'log-synced': { actions: stepWithEvent },
  },
  states: {
    follower: {
      on: { 'role.sync': syncTo('follower') },
      after: {
        // The lease ends T after the leader was last heard (the randomized wait may run longer).
        leaseTimeout: { actions: stepWith({ type: 'lease-expired' }) },
        electionTimeout: { target: 'follower', reenter: true, actions: stepWith({ type: 'election-timeout' }) },
      },
    },
    preCandidate: {
      on: { 'role.sync': syncTo('preCandidate') },
      after: { electionTimeout: { target: 'preCandidate', reenter: true, actions: stepWith({ type: 'election-timeout' }) } },
    },
    candidate: {
      on: { 'role.sync': syncTo('candidate') },
      after: { electionTimeout: { target: 'candidate', reenter: true, actions: stepWith({ type: 'election-timeout' }) } },
    },
    leader: {
      type: 'parallel',
      on: { 'role.sync': syncTo('leader') },
      states: {
        heartbeat: {
          initial: 'waiting',
          states: {
            waiting: { after: { heartbeatInterval: { target: 'waiting', reenter: true, actions: stepWith({ type: 'heartbeat-timeout' }) } } },
          },
        },
        quorumCheck: {
          initial: 'waiting',
          states: {
            waiting: { after: { checkQuorumInterval: { target: 'waiting', reenter: true, actions: stepWith({ type: 'check-quorum' }) } } },
          },
        },
      },
    },
  },
});

export type RaftRoleMachine = typeof raftRoleMachine;
