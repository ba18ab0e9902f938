import { describe, expect, it } from 'vitest';
import { TestCluster } from './support/test-cluster.ts';
import { createInitialState } from '../../../src/raft/initial-state.ts';
import { step } from '../../../src/raft/step.ts';
import type { AppendEntries, AppendEntriesResponse, RaftMessage, RequestVoteResponse } from '../../../src/raft/messages.ts';
import type { RaftConfig } from '../../../src/raft/raft-state.ts';
import type { Entry } from '../../../src/raft/types.ts';

const members = { voters: ['leader', 'f'], learners: [] };

function log(...terms: number[]): Entry[] {
  return terms.map((term, i) => ({ term, index: i + 1, type: 'normal', data: `${i + 1}@${term}` }));
}

function appendTo(terms: number[], currentTerm: number, message: Omit<AppendEntries, 'type' | 'term' | 'from' | 'to'>) {
  const state = createInitialState({ id: 'f', initialMembership: members, hardState: { term: currentTerm, votedFor: undefined, commitIndex: 0 }, entries: log(...terms) });
  const result = step(state, { type: 'message', message: { type: 'append-entries', term: currentTerm, from: 'leader', to: 'f', ...message } });
  const reply = result.outbox.messages.find((m: RaftMessage): m is AppendEntriesResponse => m.type === 'append-entries-response');
  return { ...result, reply, terms: result.state.log.slice(1).map((e) => e.term) };
}

describe('AppendEntries consistency check (Raft §5.3)', () => {
  it('appends after a matching prevLogIndex/prevLogTerm and adopts the leader commit', () => {
    const { reply, terms, state, outbox } = appendTo([1, 1], 2, { prevLogIndex: 2, prevLogTerm: 1, entries: log(1, 1, 2).slice(2), leaderCommit: 3 });
    expect(reply).toMatchObject({ success: true, matchIndex: 3 });
    expect(terms).toEqual([1, 1, 2]);
    expect(state.commitIndex).toBe(3);
    expect(outbox.persist.entries?.map((e) => e.index)).toEqual([3]);
    expect(outbox.apply.map((e) => e.index)).toEqual([1, 2, 3]);
  });

  it('rejects when the log is too short, hinting its length', () => {
    const { reply, terms } = appendTo([1], 2, { prevLogIndex: 3, prevLogTerm: 1, entries: [], leaderCommit: 0 });
    expect(reply).toMatchObject({ success: false, rejectedIndex: 3, conflictIndex: 2 });
    expect(reply?.conflictTerm).toBeUndefined();
    expect(terms).toEqual([1]);
  });

  it('rejects a term mismatch at prevLogIndex, hinting the conflicting term and where it starts', () => {
    const { reply } = appendTo([1, 2, 2, 2], 3, { prevLogIndex: 4, prevLogTerm: 3, entries: [], leaderCommit: 0 });
    expect(reply).toMatchObject({ success: false, rejectedIndex: 4, conflictTerm: 2, conflictIndex: 2 });
  });

  it('deletes a conflicting entry and all that follow it, then appends (and persists the overwrite)', () => {
    const { reply, terms, outbox } = appendTo([1, 1, 2, 2], 3, { prevLogIndex: 2, prevLogTerm: 1, entries: [{ term: 3, index: 3, type: 'normal', data: 'new' }], leaderCommit: 0 });
    expect(reply).toMatchObject({ success: true, matchIndex: 3 });
    expect(terms).toEqual([1, 1, 3]);
    expect(outbox.persist.entries?.map((e) => [e.index, e.term])).toEqual([[3, 3]]);
  });

  it('keeps entries beyond a duplicate or reordered AppendEntries that it already holds', () => {
    const { reply, terms, outbox } = appendTo([1, 1, 2], 2, { prevLogIndex: 1, prevLogTerm: 1, entries: log(1, 1).slice(1), leaderCommit: 0 });
    expect(reply).toMatchObject({ success: true, matchIndex: 2 });
    expect(terms).toEqual([1, 1, 2]);
    expect(outbox.persist.entries).toBeUndefined();
  });
});

describe('Figure 7: every follower log converges to the leader\'s', () => {
  // Leader for term 8, indexes 1–10; followers (a)–(f) as in the Raft paper's Figure 7.
  const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
  const followers: Record<string, number[]> = {
    a: [1, 1, 1, 4, 4, 5, 5, 6, 6],
    b: [1, 1, 1, 4],
    c: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
    d: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
    e: [1, 1, 1, 4, 4, 4, 4],
    f: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
  };

  it('the leader of term 8 brings (a)–(f) to its log with few round trips (fast back-off)', () => {
    const ids = ['leader', ...Object.keys(followers)];
    const c = new TestCluster(ids, { preVote: false });
    c.setLog('leader', leaderLog, 7);
    for (const [id, terms] of Object.entries(followers)) c.setLog(id, terms, 7);
    c.elect('leader');
    expect(c.leaders()).toEqual(['leader']);
    expect(c.state('leader').term).toBe(8);
    c.heartbeat('leader');
    const expected = [...leaderLog, 8].map((term, i) => [i + 1, term]);
    for (const id of ids) expect(c.logOf(id), `log of ${id}`).toEqual(expected);
    for (const id of ids) expect(c.state(id).commitIndex, `commit of ${id}`).toBe(11);
    // Applied data is the leader's everywhere (no follower applied its own divergent entries).
    for (const id of ids) expect(c.applied.get(id)).toEqual(c.applied.get('leader'));
  });

  it('fast back-off skips a whole conflicting term per round trip', () => {
    const c = new TestCluster(['leader', 'f', 'x'], { preVote: false });
    c.setLog('leader', leaderLog, 7);
    c.setLog('f', followers['f'] as number[], 7);
    c.setLog('x', leaderLog, 7);
    const rejections: RaftMessage[] = [];
    c.input('leader', { type: 'election-timeout' });
    c.deliverAll({ observe: (m) => m.type === 'append-entries-response' && !m.success && m.from === 'f' && rejections.push(m) });
    expect(c.logOf('f')).toEqual(c.logOf('leader'));
    // (f) diverges at index 4; naive back-off would need 8 rejections, the hint needs 2 (term 3 run, term 2 run).
    expect(rejections.length).toBeLessThanOrEqual(2);
  });
});

describe('Figure 8: a leader never commits an entry of an older term by counting replicas', () => {
  /** (c) of Figure 8: s1 leads term 4; the term-2 entry at index 2 is on s1, s2, s3 (a majority). */
  function figure8c(config: Partial<RaftConfig> = {}): TestCluster {
    const c = new TestCluster(['s1', 's2', 's3', 's4', 's5'], { preVote: false, ...config });
    c.setLog('s1', [1, 2], 3);
    c.setLog('s2', [1, 2], 3);
    c.setLog('s3', [1, 2], 3, 's5');
    c.setLog('s4', [1], 3, 's5');
    c.setLog('s5', [1, 3], 3, 's5');
    c.isolate('s5');
    c.input('s1', { type: 'election-timeout' });
    c.deliverWhere((m) => m.type === 'request-vote');
    c.deliverWhere((m) => m.type === 'request-vote-response');
    expect(c.state('s1')).toMatchObject({ role: 'leader', term: 4 });
    expect(c.logOf('s1')).toEqual([[1, 1], [2, 2], [3, 4]]);
    c.dropWhere(() => true);
    // s2 and s3 report they hold index 2 (the term-2 entry), not yet the leader's term-4 no-op.
    for (const from of ['s2', 's3']) c.input('s1', { type: 'message', message: { type: 'append-entries-response', term: 4, from, to: 's1', success: true, matchIndex: 2, lastLogIndex: 2 } });
    c.dropWhere(() => true);
    return c;
  }

  it('(c) a term-2 entry on a majority stays uncommitted under a term-4 leader', () => {
    const c = figure8c();
    expect(c.state('s1').commitIndex).toBe(0);
    expect(c.applied.get('s1')).toEqual([]);
  });

  it('(d) so s5 may still be elected and overwrite it, and nobody ever applied it', () => {
    const c = figure8c();
    c.heal(); // s5 is back…
    c.isolate('s1'); // …and s1 is gone
    for (let attempt = 0; attempt < 3 && c.leaders().filter((id) => id !== 's1').length === 0; attempt++) c.elect('s5');
    expect(c.state('s5').role).toBe('leader');
    c.heartbeat('s5');
    for (const id of ['s2', 's3', 's4', 's5']) expect(c.logOf(id).slice(0, 2)).toEqual([[1, 1], [2, 3]]);
    for (const id of ['s1', 's2', 's3', 's4', 's5']) expect(c.applied.get(id)).not.toContain('2@2');
  });

  it('(e) once s1 has really replicated an entry of term 4 to a majority, both commit and s5 can no longer win', () => {
    // No lease in this scenario (check-quorum off): s2 and s3 judge s5's vote requests by the
    // up-to-date check alone (§5.4.1), which is what Figure 8(e) is about.
    const c = figure8c({ checkQuorum: false });
    c.isolate('s4', ['s1']); // as in the figure, the majority holding index 3 is s1, s2, s3
    // s2 and s3 answer the heartbeat with their last index (2); s1 then sends them index 3, and
    // their real acknowledgements commit it.
    c.heartbeat('s1');
    for (const id of ['s1', 's2', 's3']) expect(c.logOf(id), `log of ${id}`).toEqual([[1, 1], [2, 2], [3, 4]]);
    expect(c.logOf('s4')).toEqual([[1, 1]]);
    expect(c.logOf('s5')).toEqual([[1, 1], [2, 3]]);
    expect(c.state('s1').commitIndex).toBe(3);
    expect(c.applied.get('s1')).toEqual(['1@1', '2@2']);

    c.heal(); // s5 is back…
    c.isolate('s1'); // …and s1 is gone
    const answers: RequestVoteResponse[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      c.input('s5', { type: 'election-timeout' });
      c.deliverAll({ observe: (m) => m.type === 'request-vote-response' && m.to === 's5' && answers.push(m) });
    }
    expect(c.state('s5').role).not.toBe('leader');
    expect(c.state('s5').term).toBe(6);
    // In terms 5 and 6 s2 and s3 had voted for nobody and no lease held them back: they answered,
    // and refused because s5's log (last term 3) is behind theirs (last term 4).
    const fresh = answers.filter((m) => m.term > 4 && (m.from === 's2' || m.from === 's3'));
    expect(fresh.map((m) => [m.from, m.term, m.granted]).sort()).toEqual([['s2', 5, false], ['s2', 6, false], ['s3', 5, false], ['s3', 6, false]]);
    // s4 (log [1]) grants, so s5 gets 2 of 5: it needs s2 or s3.
    expect(answers.filter((m) => m.from === 's4' && m.term > 4).every((m) => m.granted)).toBe(true);
    for (const id of ['s2', 's3']) expect(c.logOf(id), `log of ${id}`).toEqual([[1, 1], [2, 2], [3, 4]]);
  });
});

describe('the leader counts itself only as far as its own disk holds the log', () => {
  it('an entry on the leader (not yet durable) and one follower is not committed until the leader syncs', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    c.isolate('c');
    c.slowDisks.add('a');
    c.propose('a', 'x');
    c.deliverAll();
    expect(c.state('b').log.lastIndex).toBe(2); // the append left before a's fsync
    expect(c.state('a').commitIndex).toBe(1);
    const out = c.syncNow('a');
    expect(c.state('a').commitIndex).toBe(2);
    expect(out.apply.map((e) => e.data)).toEqual(['x']);
  });

  it('two followers are a quorum of three without the leader\'s disk', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    c.slowDisks.add('a');
    c.propose('a', 'x');
    c.deliverAll();
    expect(c.state('a').commitIndex).toBe(2);
  });

  it('a report for an entry that was since replaced proves nothing', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    c.slowDisks.add('a');
    c.isolate('c');
    c.propose('a', 'x');
    c.deliverAll();
    c.input('a', { type: 'log-synced', index: 2, term: 7 });
    expect(c.state('a').commitIndex).toBe(1);
  });
});

describe('pipelining: at most maxInflightAppends AppendEntries in flight per follower', () => {
  it('a replicating follower gets a window of appends; each acknowledgement frees exactly one slot', () => {
    const c = new TestCluster(['a', 'b', 'c'], { maxInflightAppends: 3, maxEntriesPerAppend: 1 });
    c.elect('a');
    c.heartbeat('a');
    expect(c.state('a').progress['b']).toMatchObject({ state: 'replicate', match: 1, inflight: [] });
    const queuedTo = (id: string): number[][] =>
      c.queue.filter((m): m is AppendEntries => m.type === 'append-entries' && m.to === id).map((m) => m.entries.map((e) => e.index));

    c.propose('a', 'x2', 'x3', 'x4', 'x5', 'x6');
    // Five entries to send, one per append, but only three may be outstanding.
    for (const id of ['b', 'c']) {
      expect(queuedTo(id), `appends to ${id}`).toEqual([[2], [3], [4]]);
      expect(c.state('a').progress[id]?.inflight, `in flight to ${id}`).toEqual([2, 3, 4]);
    }

    // b acknowledges index 2: one slot frees and exactly one more append (index 5) leaves for b.
    c.deliverWhere((m) => m.type === 'append-entries' && m.to === 'b' && m.entries[0]?.index === 2);
    c.deliverWhere((m) => m.type === 'append-entries-response' && m.from === 'b');
    expect(queuedTo('b')).toEqual([[3], [4], [5]]);
    expect(c.state('a').progress['b']?.inflight).toEqual([3, 4, 5]);
    expect(queuedTo('c')).toEqual([[2], [3], [4]]);

    // Draining the network never exceeds the window, and everything still gets through.
    let most = 0;
    const look = (): void => {
      for (const id of ['b', 'c']) most = Math.max(most, queuedTo(id).length, c.state('a').progress[id]?.inflight.length ?? 0);
    };
    c.deliverAll({ observe: look });
    look();
    expect(most).toBe(3);
    for (const id of ['b', 'c']) expect(c.logOf(id)).toEqual(c.logOf('a'));
    expect(c.state('a').commitIndex).toBe(6);
  });
});
