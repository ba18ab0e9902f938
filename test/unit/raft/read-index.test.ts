import { describe, expect, it } from 'vitest';
import { TestCluster } from './support/test-cluster.ts';

describe('ReadIndex (thesis §6.4)', () => {
  it('answers at the commit index only after a quorum acknowledged a heartbeat sent after the read', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    c.propose('a', 'x');
    c.deliverAll();
    const out = c.input('a', { type: 'read-index', readId: 7 });
    expect(out.readStates).toEqual([]);
    const round = out.messages.filter((m) => m.type === 'heartbeat');
    expect(round).toHaveLength(2);
    const context = round[0]?.type === 'heartbeat' ? round[0].context : undefined;
    expect(context).toBeDefined();
    // A stale acknowledgement (older context) does not count.
    c.queue = [];
    const stale = c.input('a', { type: 'message', message: { type: 'heartbeat-response', term: 1, from: 'b', to: 'a', lastLogIndex: 2, context: (context as number) - 1 } });
    expect(stale.readStates).toEqual([]);
    const ack = c.input('a', { type: 'message', message: { type: 'heartbeat-response', term: 1, from: 'b', to: 'a', lastLogIndex: 2, context } });
    expect(ack.readStates).toEqual([{ readId: 7, index: 2 }]);
  });

  it('a new leader holds reads until its no-op commits', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.input('a', { type: 'election-timeout' });
    c.deliverWhere((m) => m.type === 'pre-vote');
    c.deliverWhere((m) => m.type === 'pre-vote-response');
    c.deliverWhere((m) => m.type === 'request-vote');
    c.deliverWhere((m) => m.type === 'request-vote-response');
    expect(c.state('a').role).toBe('leader');
    const early = c.input('a', { type: 'read-index', readId: 1 });
    expect(early.messages.filter((m) => m.type === 'heartbeat')).toEqual([]);
    const states: { readId: number; index: number }[] = [];
    c.deliverAll();
    for (const outbox of c.outboxes.get('a') ?? []) states.push(...outbox.readStates);
    expect(states).toEqual([{ readId: 1, index: 1 }]);
  });

  it('a follower, or a leader that loses its leadership, rejects reads', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    expect(c.input('b', { type: 'read-index', readId: 1 }).readRejections).toEqual([{ readId: 1, leaderId: 'a' }]);
    c.isolate('a');
    c.input('a', { type: 'read-index', readId: 2 });
    c.input('a', { type: 'check-quorum' });
    const out = c.input('a', { type: 'check-quorum' });
    expect(out.readRejections).toEqual([{ readId: 2, leaderId: undefined }]);
  });

  it('a single-member cluster answers at once', () => {
    const c = new TestCluster(['solo']);
    c.elect('solo');
    expect(c.input('solo', { type: 'read-index', readId: 1 }).readStates).toEqual([{ readId: 1, index: 1 }]);
  });
});
