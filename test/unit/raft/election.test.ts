import { describe, expect, it } from 'vitest';
import { TestCluster } from './support/test-cluster.ts';
import { createInitialState } from '../../../src/raft/initial-state.ts';
import { step } from '../../../src/raft/step.ts';
import { RaftLog } from '../../../src/raft/log.ts';
import type { Entry } from '../../../src/raft/types.ts';
import type { RaftMessage, RequestVoteResponse } from '../../../src/raft/messages.ts';

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

describe('election (Raft §5.2, §5.4.1)', () => {
  it('a member adopts a higher term from any message and becomes follower', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    expect(c.state('a').role).toBe('leader');
    // A heartbeat response from a member in a later term deposes the leader.
    c.input('a', { type: 'message', message: { type: 'heartbeat-response', term: 9, from: 'b', to: 'a', lastLogIndex: 0 } });
    expect(c.state('a')).toMatchObject({ role: 'follower', term: 9, votedFor: undefined, leaderId: undefined });
  });

  it('a stale-term message is rejected with the current term and changes nothing', () => {
    const state = follower('b', 5);
    const { state: after, outbox } = step(state, {
      type: 'message',
      message: { type: 'append-entries', term: 3, from: 'a', to: 'b', prevLogIndex: 0, prevLogTerm: 0, entries: entries(3), leaderCommit: 1 },
    });
    expect(after.term).toBe(5);
    expect(after.log.lastIndex).toBe(0);
    expect(outbox.persist.entries).toBeUndefined();
    expect(only(outbox.messages, 'append-entries-response')).toMatchObject({ term: 5, success: false });
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
