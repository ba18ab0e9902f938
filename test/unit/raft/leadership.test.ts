import { describe, expect, it } from 'vitest';
import { TestCluster } from './support/test-cluster.ts';

describe('pre-vote (thesis §9.6)', () => {
  it('a partitioned member does not inflate terms and cannot depose the leader when it returns', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    c.heartbeat('a');
    c.isolate('c');
    for (let i = 0; i < 5; i++) c.input('c', { type: 'election-timeout' });
    expect(c.state('c')).toMatchObject({ role: 'preCandidate', term: 1 });
    c.heal();
    // Back on the network, its pre-vote is refused: a and b heard from the leader.
    c.input('c', { type: 'election-timeout' });
    c.deliverAll();
    expect(c.state('a')).toMatchObject({ role: 'leader', term: 1 });
    expect(c.state('b').term).toBe(1);
    c.heartbeat('a');
    expect(c.state('c')).toMatchObject({ role: 'follower', term: 1, leaderId: 'a' });
  });

  it('without pre-vote the same partition forces a new election (the problem pre-vote solves)', () => {
    const c = new TestCluster(['a', 'b', 'c'], { preVote: false, checkQuorum: false });
    c.elect('a');
    c.heartbeat('a');
    c.isolate('c');
    for (let i = 0; i < 5; i++) c.input('c', { type: 'election-timeout' });
    expect(c.state('c')).toMatchObject({ role: 'candidate', term: 6 });
    c.heal();
    c.heartbeat('a');
    expect(c.state('a').role).not.toBe('leader');
    expect(c.state('a').term).toBe(6);
  });

  it('members grant pre-votes only once their own election timers fired (the lease ended)', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    c.heartbeat('a');
    c.isolate('a');
    // b times out first; c still believes in a and refuses, so b cannot even start a real election.
    c.input('b', { type: 'election-timeout' });
    c.deliverAll();
    expect(c.state('b')).toMatchObject({ role: 'preCandidate', term: 1 });
    expect(c.state('c')).toMatchObject({ role: 'follower', term: 1, leaderId: 'a' });
    // Then c times out: b's lease is over, so c wins.
    c.input('c', { type: 'election-timeout' });
    c.deliverAll();
    expect(c.state('c')).toMatchObject({ role: 'leader', term: 2 });
  });
});

describe('check-quorum', () => {
  it('a leader that heard from no quorum within an election timeout steps down', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    c.heartbeat('a');
    c.input('a', { type: 'check-quorum' });
    expect(c.state('a').role).toBe('leader'); // b and c answered the heartbeat
    c.isolate('a');
    c.heartbeat('a');
    c.input('a', { type: 'check-quorum' });
    expect(c.state('a')).toMatchObject({ role: 'follower', term: 1, leaderId: undefined });
  });

  it('one live follower out of two is enough for a 3-member cluster', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    c.isolate('c');
    c.heartbeat('a');
    c.input('a', { type: 'check-quorum' });
    c.heartbeat('a');
    c.input('a', { type: 'check-quorum' });
    expect(c.state('a').role).toBe('leader');
  });

  it('the lease: a follower that hears from its leader ignores a vote request of a higher term', () => {
    const c = new TestCluster(['a', 'b', 'c'], { preVote: false });
    c.elect('a');
    c.heartbeat('a');
    c.input('b', { type: 'message', message: { type: 'request-vote', term: 5, from: 'c', to: 'b', lastLogIndex: 9, lastLogTerm: 9, leaderTransfer: false } });
    expect(c.state('b')).toMatchObject({ term: 1, votedFor: 'a', leaderId: 'a' });
    expect(c.queue.filter((m) => m.from === 'b')).toEqual([]);
  });
});

describe('leader transfer', () => {
  it('catches the target up, sends TimeoutNow, and the target wins at once (no pre-vote)', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    c.isolate('c');
    c.propose('a', 'x1', 'x2');
    c.deliverAll();
    c.heal();
    const out = c.input('a', { type: 'transfer-leadership', to: 'c' });
    expect(out.transfers).toEqual([{ to: 'c', status: 'started' }]);
    // While handing over, proposals are refused.
    expect(c.propose('a', 'x3').proposals[0]).toMatchObject({ accepted: false, code: 'leadership_transfer_in_progress' });
    const timeoutNow: string[] = [];
    c.input('a', { type: 'heartbeat-timeout' }); // the heartbeat answer resumes the paused probe to c
    c.deliverAll({ drop: (m) => m.type === 'pre-vote', observe: (m) => m.type === 'timeout-now' && timeoutNow.push(m.to) });
    expect(timeoutNow).toEqual(['c']);
    expect(c.leaders()).toEqual(['c']);
    expect(c.state('c').term).toBe(2);
    expect(c.state('a')).toMatchObject({ role: 'follower', leaderId: 'c' });
    expect(c.logOf('c').map(([index]) => index)).toEqual([1, 2, 3, 4]);
  });

  it('is abandoned when the target does not take over within an election timeout', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    c.isolate('c');
    c.input('a', { type: 'transfer-leadership', to: 'c' });
    c.heartbeat('a');
    c.input('a', { type: 'check-quorum' });
    c.heartbeat('a');
    const out = c.input('a', { type: 'check-quorum' });
    expect(out.transfers).toEqual([expect.objectContaining({ to: 'c', status: 'aborted', code: 'transfer_failed' })]);
    expect(c.propose('a', 'after').proposals[0]).toMatchObject({ accepted: true });
  });

  it('refuses a target that is not a voter', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    expect(c.input('a', { type: 'transfer-leadership', to: 'zz' }).transfers[0]).toMatchObject({ status: 'rejected', code: 'transfer_failed' });
  });
});
