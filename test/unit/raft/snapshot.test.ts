import { describe, expect, it } from 'vitest';
import { TestCluster } from './support/test-cluster.ts';
import { createInitialState } from '../../../src/raft/initial-state.ts';
import { step } from '../../../src/raft/step.ts';
import type { Entry } from '../../../src/raft/types.ts';

describe('snapshots, compaction and InstallSnapshot (Raft §7)', () => {
  it('compacts every N applied entries and brings a lagging follower up with InstallSnapshot', () => {
    const c = new TestCluster(['a', 'b', 'c'], { snapshotEveryEntries: 5 });
    c.elect('a');
    c.isolate('c');
    for (let i = 1; i <= 12; i++) {
      c.propose('a', `w${i}`);
      c.deliverAll();
    }
    const leader = c.state('a');
    expect(leader.commitIndex).toBe(13);
    expect(leader.log.snapshotIndex).toBeGreaterThanOrEqual(10);
    expect(leader.log.entry(leader.log.snapshotIndex)).toBeUndefined(); // compacted away
    const persisted = c.outboxes.get('a')?.flatMap((o) => (o.persist.snapshot ? [o.persist.snapshot] : [])) ?? [];
    expect(persisted.map((s) => s.lastIncludedIndex)).toEqual([5, 10]);
    expect(persisted[1]?.membership).toEqual({ voters: ['a', 'b', 'c'], learners: [] });

    c.heal();
    const snapshotsSent: number[] = [];
    c.input('a', { type: 'heartbeat-timeout' });
    c.deliverAll({ observe: (m) => m.type === 'install-snapshot' && snapshotsSent.push(m.snapshot.lastIncludedIndex) });
    expect(snapshotsSent).toEqual([leader.log.snapshotIndex]);
    expect(c.logOf('c')).toEqual(c.logOf('a').filter(([index]) => index > c.state('c').log.snapshotIndex));
    expect(c.state('c').commitIndex).toBe(13);
    expect(c.applied.get('c')).toEqual(c.applied.get('a'));
    expect(c.applied.get('c')).toEqual(Array.from({ length: 12 }, (_, i) => `w${i + 1}`));

    // Replication continues normally after the snapshot.
    c.propose('a', 'after');
    c.deliverAll();
    c.heartbeat('a');
    expect(c.applied.get('c')?.at(-1)).toBe('after');
  });

  it('a follower that already holds the snapshot\'s last entry keeps its log and just commits', () => {
    const entries: Entry[] = [1, 1, 1, 1].map((term, i) => ({ term, index: i + 1, type: 'normal', data: `${i + 1}` }));
    const state = createInitialState({ id: 'b', initialMembership: { voters: ['a', 'b'], learners: [] }, hardState: { term: 1, votedFor: 'a', commitIndex: 1 }, entries });
    const { state: after, outbox } = step(state, {
      type: 'message',
      message: { type: 'install-snapshot', term: 1, from: 'a', to: 'b', snapshot: { lastIncludedIndex: 3, lastIncludedTerm: 1, membership: { voters: ['a', 'b'], learners: [] }, data: '[]' } },
    });
    expect(after.log.lastIndex).toBe(4);
    expect(after.commitIndex).toBe(3);
    expect(outbox.applySnapshot).toBeUndefined();
    expect(outbox.apply.map((e) => e.index)).toEqual([2, 3]);
    expect(outbox.messages).toEqual([expect.objectContaining({ type: 'install-snapshot-response', matchIndex: 3 })]);
  });

  it('a follower whose log conflicts with the snapshot discards the whole log', () => {
    const entries: Entry[] = [1, 2, 2, 2, 2].map((term, i) => ({ term, index: i + 1, type: 'normal', data: `${i + 1}` }));
    const state = createInitialState({ id: 'b', initialMembership: { voters: ['a', 'b'], learners: [] }, hardState: { term: 3, votedFor: undefined, commitIndex: 1 }, entries });
    const snapshot = { lastIncludedIndex: 3, lastIncludedTerm: 3, membership: { voters: ['a', 'b'], learners: [] }, data: '["x"]' };
    const { state: after, outbox } = step(state, { type: 'message', message: { type: 'install-snapshot', term: 3, from: 'a', to: 'b', snapshot } });
    expect(after.log.lastIndex).toBe(3);
    expect(after.log.firstIndex).toBe(4);
    expect(after).toMatchObject({ commitIndex: 3, appliedIndex: 3 });
    expect(outbox.persist.snapshot).toBe(snapshot);
    expect(outbox.applySnapshot).toBe(snapshot);
    expect(outbox.persist.hardState?.commitIndex).toBe(3);
  });

  it('an old snapshot (already committed past it) is acknowledged and ignored', () => {
    const entries: Entry[] = [1, 1, 1].map((term, i) => ({ term, index: i + 1, type: 'normal', data: `${i + 1}` }));
    const state = createInitialState({ id: 'b', initialMembership: { voters: ['a', 'b'], learners: [] }, hardState: { term: 1, votedFor: 'a', commitIndex: 3 }, entries });
    const { state: after, outbox } = step(state, {
      type: 'message',
      message: { type: 'install-snapshot', term: 1, from: 'a', to: 'b', snapshot: { lastIncludedIndex: 2, lastIncludedTerm: 1, membership: { voters: ['a', 'b'], learners: [] }, data: '[]' } },
    });
    expect(after.log).toBe(state.log);
    expect(outbox.messages).toEqual([expect.objectContaining({ matchIndex: 3, snapshotIndex: 2 })]);
  });
});
