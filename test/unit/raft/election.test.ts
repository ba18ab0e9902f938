import { describe, expect, it } from 'vitest';
import { TestCluster } from './support/test-cluster.ts';
import { createInitialState } from '../../../src/raft/initial-state.ts';
import { step } from '../../../src/raft/step.ts';
import { RaftLog } from '../../../src/raft/log.ts';
import type { Entry } from '../../../src/raft/types.ts';
import { RAFT_MESSAGE_TYPES, type RaftMessage, type RaftMessageType, type RequestVoteResponse } from '../../../src/raft/messages.ts';
import type { RaftConfig, RaftState, Role } from '../../../src/raft/raft-state.ts';

const voters = { voters: ['a', 'b', 'c'], learners: [] };

function entries(...terms: number[]): Entry[] {
  return terms.map((term, i) => ({ term, index: i + 1, type: 'normal', data: `e${i + 1}` }));
}

function follower(id: string, term: number, logTerms: number[] = [], votedFor?: string) {
  const state = createInitialState({ id, initialMembership: voters, hardState: { term, votedFor, commitIndex: 0 }, entries: entries(...logTerms) });
  return state;
}

function only<T extends RaftMessage['type']>(messages: readonly RaftMessage[], type: T): Extract<RaftMessage, { type: T }> {
  const found = messages.filter((m) => m.type === type);
  expect(found).toHaveLength(1);
  return found[0] as Extract<RaftMessage, { type: T }>;
}

/** Member a of {a, b, c} in term 5 with an empty log (a leader holds just its no-op), in the given role. */
function memberA(role: Role, config: Partial<RaftConfig> = {}): RaftState {
  const at = (term: number, preVote: boolean): RaftState =>
    createInitialState({ id: 'a', initialMembership: voters, config: { ...config, preVote }, hardState: { term, votedFor: undefined, commitIndex: 0 } });
  let state: RaftState;
  switch (role) {
    case 'follower':
      state = at(5, true);
      break;
    case 'preCandidate':
      state = step(at(5, true), { type: 'election-timeout' }).state;
      break;
    case 'candidate':
      state = step(at(4, false), { type: 'election-timeout' }).state;
      break;
    case 'leader': {
      const candidate = step(at(4, false), { type: 'election-timeout' }).state;
      state = step(candidate, { type: 'message', message: { type: 'request-vote-response', term: 5, from: 'b', to: 'a', granted: true } }).state;
      break;
    }
  }
  expect(state).toMatchObject({ role, term: 5 });
  return state;
}

/** A message of `type` from b to a in `term`, of a kind that changes a's state when it is current. */
function messageOf(type: RaftMessageType, term: number, options: { granted?: boolean } = {}): RaftMessage {
  const envelope = { term, from: 'b', to: 'a' };
  const granted = options.granted ?? true;
  switch (type) {
    case 'request-vote':
      return { type, ...envelope, lastLogIndex: 10, lastLogTerm: term, leaderTransfer: false };
    case 'pre-vote':
      return { type, ...envelope, lastLogIndex: 10, lastLogTerm: term };
    case 'request-vote-response':
    case 'pre-vote-response':
      return { type, ...envelope, granted };
    case 'append-entries':
      return { type, ...envelope, prevLogIndex: 0, prevLogTerm: 0, entries: [{ term, index: 1, type: 'normal', data: 'x' }], leaderCommit: 1 };
    case 'append-entries-response':
      return { type, ...envelope, success: true, matchIndex: 1, lastLogIndex: 1 };
    case 'heartbeat':
      return { type, ...envelope, commitIndex: 0 };
    case 'heartbeat-response':
      return { type, ...envelope, lastLogIndex: 0 };
    case 'install-snapshot':
      return { type, ...envelope, snapshot: { lastIncludedIndex: 2, lastIncludedTerm: 2, membership: voters, data: '[]' } };
    case 'install-snapshot-response':
      return { type, ...envelope, matchIndex: 1, snapshotIndex: 1 };
    case 'timeout-now':
      return { type, ...envelope };
  }
}

/** Who would act on each message type (requests: a follower; answers: whoever asked). */
const staleReceiver: Record<RaftMessageType, Role> = {
  'request-vote': 'follower',
  'pre-vote': 'follower',
  'append-entries': 'follower',
  'heartbeat': 'follower',
  'install-snapshot': 'follower',
  'timeout-now': 'follower',
  'request-vote-response': 'candidate',
  'pre-vote-response': 'preCandidate',
  'append-entries-response': 'leader',
  'heartbeat-response': 'leader',
  'install-snapshot-response': 'leader',
};

/** Requests get a refusal carrying the current term so the sender steps down; stale answers get nothing. */
const staleReply: Record<RaftMessageType, RaftMessageType | undefined> = {
  'request-vote': 'request-vote-response',
  'pre-vote': 'pre-vote-response',
  'append-entries': 'append-entries-response',
  'heartbeat': 'heartbeat-response',
  'install-snapshot': 'install-snapshot-response',
  'timeout-now': undefined,
  'request-vote-response': undefined,
  'pre-vote-response': undefined,
  'append-entries-response': undefined,
  'heartbeat-response': undefined,
  'install-snapshot-response': undefined,
};

describe('election (Raft §5.2, §5.4.1)', () => {
  // Term rules for every message type (Raft §5.1): a higher term is adopted (and persisted) from any
  // message, a lower one is answered with the current term and changes nothing.

  it.each(RAFT_MESSAGE_TYPES.filter((type) => type !== 'pre-vote'))('adopts a higher term from %s and steps down', (type) => {
    // check-quorum off: with it, a leader in its lease ignores a (non-transfer) vote request of a
    // higher term on purpose (tested in leadership.test.ts).
    const leader = memberA('leader', { checkQuorum: false });
    // A higher-term answer to a vote request is a refusal (a granted pre-vote keeps the term: below).
    const { state, outbox } = step(leader, { type: 'message', message: messageOf(type, 9, { granted: false }) });
    const expected: Partial<RaftState> =
      type === 'request-vote' ? { role: 'follower', term: 9, votedFor: 'b', leaderId: undefined } // its log is up to date: granted
      : type === 'append-entries' || type === 'heartbeat' || type === 'install-snapshot' ? { role: 'follower', term: 9, votedFor: undefined, leaderId: 'b' }
      : type === 'timeout-now' ? { role: 'candidate', term: 10, votedFor: 'a' } // follows the new leader's order to campaign
      : { role: 'follower', term: 9, votedFor: undefined, leaderId: undefined };
    expect(state).toMatchObject(expected);
    expect(state.progress).toEqual({});
    expect(outbox.persist.hardState).toMatchObject({ term: expected.term, votedFor: expected.votedFor });
  });

  it.each([
    // A follower that knows no leader (no lease): it grants the pre-vote, in the proposed term, without adopting it.
    { what: 'a pre-vote', role: 'follower' as const, message: messageOf('pre-vote', 9), reply: { type: 'pre-vote-response', term: 9, granted: true } },
    { what: 'a granted pre-vote answer', role: 'leader' as const, message: messageOf('pre-vote-response', 9, { granted: true }), reply: undefined },
  ])('keeps its term on $what of a higher term (pre-vote never changes terms)', ({ role, message, reply }) => {
    const member = memberA(role, { checkQuorum: false });
    const { state, outbox } = step(member, { type: 'message', message });
    expect(state).toMatchObject({ role, term: 5, votedFor: member.votedFor });
    expect(outbox.persist.hardState).toBeUndefined();
    expect(outbox.messages).toEqual(reply === undefined ? [] : [expect.objectContaining(reply)]);
  });

  it.each(RAFT_MESSAGE_TYPES)('a stale-term %s is answered with the current term and changes nothing', (type) => {
    // The receiver is in the role in which this message would have an effect were it current.
    const receiver = memberA(staleReceiver[type]);
    const message = messageOf(type, 3);
    const { state, outbox } = step(receiver, { type: 'message', message });
    expect(state).toEqual(receiver);
    expect(outbox.persist).toEqual({});
    expect(outbox.resetElectionTimer).toBe(false);
    expect(outbox.apply).toEqual([]);
    const reply = staleReply[type];
    if (reply === undefined) expect(outbox.messages).toEqual([]);
    else expect(outbox.messages).toEqual([expect.objectContaining({ type: reply, term: 5, from: 'a', to: 'b' })]);
    if (type === 'request-vote' || type === 'pre-vote') expect(outbox.messages[0]).toMatchObject({ granted: false });
    if (type === 'append-entries') expect(outbox.messages[0]).toMatchObject({ success: false });
    if (type === 'install-snapshot') expect(outbox.messages[0]).toMatchObject({ matchIndex: 0 });
  });

  it('grants one vote per term and persists it before replying', () => {
    const state = follower('c', 1);
    const first = step(state, { type: 'message', message: { type: 'request-vote', term: 2, from: 'a', to: 'c', lastLogIndex: 0, lastLogTerm: 0, leaderTransfer: false } });
    expect(only(first.outbox.messages, 'request-vote-response').granted).toBe(true);
    expect(first.outbox.persist.hardState).toEqual({ term: 2, votedFor: 'a', commitIndex: 0 });
    expect(first.outbox.resetElectionTimer).toBe(true);
    const second = step(first.state, { type: 'message', message: { type: 'request-vote', term: 2, from: 'b', to: 'c', lastLogIndex: 5, lastLogTerm: 2, leaderTransfer: false } });
    expect(only(second.outbox.messages, 'request-vote-response').granted).toBe(false);
    // A repeated request from the same candidate (lost reply) is granted again.
    const again = step(second.state, { type: 'message', message: { type: 'request-vote', term: 2, from: 'a', to: 'c', lastLogIndex: 0, lastLogTerm: 0, leaderTransfer: false } });
    expect(only(again.outbox.messages, 'request-vote-response').granted).toBe(true);
  });

  it.each([
    { what: 'lower last term', lastLogTerm: 1, lastLogIndex: 9, granted: false },
    { what: 'same last term, shorter log', lastLogTerm: 2, lastLogIndex: 2, granted: false },
    { what: 'same last term, same length', lastLogTerm: 2, lastLogIndex: 3, granted: true },
    { what: 'higher last term, shorter log', lastLogTerm: 3, lastLogIndex: 1, granted: true },
  ])('up-to-date check: $what → granted=$granted', ({ lastLogTerm, lastLogIndex, granted }) => {
    const state = follower('c', 2, [1, 1, 2]);
    const { outbox } = step(state, { type: 'message', message: { type: 'request-vote', term: 3, from: 'a', to: 'c', lastLogIndex, lastLogTerm, leaderTransfer: false } });
    expect(only(outbox.messages, 'request-vote-response')).toMatchObject({ term: 3, granted });
  });

  it('elects a leader with pre-vote then vote; the leader commits a no-op of its term', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.input('a', { type: 'election-timeout' });
    expect(c.state('a')).toMatchObject({ role: 'preCandidate', term: 0 });
    expect(c.queue.map((m) => m.type)).toEqual(['pre-vote', 'pre-vote']);
    c.deliverAll();
    expect(c.leaders()).toEqual(['a']);
    expect(c.state('a').term).toBe(1);
    for (const id of ['a', 'b', 'c']) expect(c.logOf(id)).toEqual([[1, 1]]);
    expect(c.state('a').commitIndex).toBe(1);
    c.heartbeat('a');
    for (const id of ['b', 'c']) expect(c.state(id)).toMatchObject({ commitIndex: 1, leaderId: 'a', term: 1 });
  });

  it('a candidate falls back to follower on AppendEntries from a leader of its term', () => {
    const state = { ...follower('c', 1), config: { ...follower('c', 1).config, preVote: false } };
    const candidate = step(state, { type: 'election-timeout' }).state;
    expect(candidate).toMatchObject({ role: 'candidate', term: 2, votedFor: 'c' });
    const { state: after, outbox } = step(candidate, {
      type: 'message',
      message: { type: 'append-entries', term: 2, from: 'a', to: 'c', prevLogIndex: 0, prevLogTerm: 0, entries: [{ term: 2, index: 1, type: 'noop', data: '' }], leaderCommit: 0 },
    });
    expect(after).toMatchObject({ role: 'follower', term: 2, leaderId: 'a', votedFor: 'c' });
    expect(only(outbox.messages, 'append-entries-response')).toMatchObject({ success: true, matchIndex: 1 });
  });

  it('a candidate that loses the vote returns to follower', () => {
    const base = follower('c', 1);
    const candidate = step({ ...base, config: { ...base.config, preVote: false } }, { type: 'election-timeout' }).state;
    const reject = (from: string): RequestVoteResponse => ({ type: 'request-vote-response', term: 2, from, to: 'c', granted: false });
    const one = step(candidate, { type: 'message', message: reject('a') }).state;
    expect(one.role).toBe('candidate');
    const two = step(one, { type: 'message', message: reject('b') }).state;
    expect(two).toMatchObject({ role: 'follower', term: 2 });
  });

  it('a log view is not changed by later appends to a newer view (the step is pure)', () => {
    const log = RaftLog.restore(undefined, entries(1, 1));
    const longer = log.append([{ term: 2, index: 3, type: 'normal', data: 'x' }]);
    const sibling = log.append([{ term: 3, index: 3, type: 'normal', data: 'y' }]);
    expect(log.lastIndex).toBe(2);
    expect(longer.entry(3)?.data).toBe('x');
    expect(sibling.entry(3)?.data).toBe('y');
  });
});
