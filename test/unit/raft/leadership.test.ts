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

  it('a transfer to a follower whose appends were lost sends the catch-up append at once, not after the next heartbeat', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    c.isolate('c');
    c.propose('a', 'x1', 'x2'); // the appends to c are lost: it holds index 1, a believes they are in flight
    c.deliverAll();
    c.heal();
    const out = c.input('a', { type: 'transfer-leadership', to: 'c' });
    // The transfer's own step resends from what c is known to hold (index 1).
    expect(out.messages.filter((m) => m.to === 'c')).toEqual([expect.objectContaining({ type: 'append-entries', prevLogIndex: 1, entries: [expect.objectContaining({ index: 2 }), expect.objectContaining({ index: 3 })] })]);
    const timeoutNow: string[] = [];
    // No heartbeat: the append's answer alone completes the hand-over.
    c.deliverAll({ drop: (m) => m.type === 'pre-vote', observe: (m) => m.type === 'timeout-now' && timeoutNow.push(m.to) });
    expect(timeoutNow).toEqual(['c']);
    expect(c.leaders()).toEqual(['c']);
  });

  it('a target brought up to the last index by InstallSnapshot gets TimeoutNow', () => {
    const c = new TestCluster(['a', 'b', 'c'], { snapshotEveryEntries: 3 });
    c.elect('a');
    c.isolate('c');
    c.propose('a', 'x1', 'x2'); // indexes 2, 3: a compacts through 3, its last index
    c.deliverAll();
    expect(c.state('a').log.snapshotIndex).toBe(c.state('a').log.lastIndex);
    c.heal();
    expect(c.input('a', { type: 'transfer-leadership', to: 'c' }).transfers).toEqual([{ to: 'c', status: 'started' }]);
    const seen: string[] = [];
    c.input('a', { type: 'heartbeat-timeout' });
    c.deliverAll({ drop: (m) => m.type === 'pre-vote', observe: (m) => (m.type === 'install-snapshot' || m.type === 'timeout-now') && seen.push(`${m.type} ${m.to}`) });
    // Only the snapshot's answer tells a that c holds its whole log; nothing else follows it.
    expect(seen).toEqual(['install-snapshot c', 'timeout-now c']);
    expect(c.leaders()).toEqual(['c']);
    expect(c.applied.get('c')).toEqual(['x1', 'x2']);
  });

  it('a transfer to the leader itself cancels a pending transfer and proposals are accepted again', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    c.isolate('c');
    c.input('a', { type: 'transfer-leadership', to: 'c' });
    expect(c.propose('a', 'refused').proposals[0]).toMatchObject({ accepted: false, code: 'leadership_transfer_in_progress' });
    const out = c.input('a', { type: 'transfer-leadership', to: 'a' });
    expect(out.transfers).toEqual([
      expect.objectContaining({ to: 'c', status: 'aborted', code: 'transfer_failed' }),
      { to: 'a', status: 'started' },
    ]);
    expect(c.state('a').leadTransferee).toBeUndefined();
    expect(c.propose('a', 'accepted').proposals[0]).toMatchObject({ accepted: true });
    // With nothing pending, a transfer to itself changes nothing.
    expect(c.input('a', { type: 'transfer-leadership', to: 'a' }).transfers).toEqual([{ to: 'a', status: 'started' }]);
  });

  it('a transfer to a follower whose probe was lost probes again at once, from where it stands', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.setLog('a', [1, 1, 1], 1);
    c.setLog('b', [1, 1, 1], 1);
    c.setLog('c', [1, 1, 1], 1);
    c.isolate('c');
    c.elect('a'); // a's probe to c (at index 4, past the shared log) is lost: c's probe is paused
    expect(c.state('a').progress.c).toMatchObject({ state: 'probe', probeSent: true, match: 0 });
    c.heal();
    const out = c.input('a', { type: 'transfer-leadership', to: 'c' });
    // Not from index 1 (a does not know c's match yet): the probe a lost, again.
    expect(out.messages.filter((m) => m.to === 'c')).toEqual([expect.objectContaining({ type: 'append-entries', prevLogIndex: 3 })]);
    c.deliverAll({ drop: (m) => m.type === 'pre-vote' });
    expect(c.leaders()).toEqual(['c']);
  });

  it('a repeated transfer to the same target is ignored: its timeout runs from the first request', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    c.isolate('c');
    c.input('a', { type: 'transfer-leadership', to: 'c' });
    c.heartbeat('a');
    c.input('a', { type: 'check-quorum' });
    // A client retrying faster than the timeout must not keep writes refused for ever.
    const repeat = c.input('a', { type: 'transfer-leadership', to: 'c' });
    expect(repeat.transfers).toEqual([{ to: 'c', status: 'started' }]);
    expect(repeat.messages).toEqual([]);
    c.heartbeat('a');
    expect(c.input('a', { type: 'check-quorum' }).transfers).toEqual([expect.objectContaining({ to: 'c', status: 'aborted', code: 'transfer_failed' })]);
    expect(c.propose('a', 'after').proposals[0]).toMatchObject({ accepted: true });
  });
});
