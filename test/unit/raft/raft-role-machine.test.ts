import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import type { InspectionEvent } from 'xstate';
import { raftRoleMachine } from '../../../src/machines/raft-role.ts';
import type { RaftOutboxEmitted } from '../../../src/machines/raft-role.ts';
import { createInitialState } from '../../../src/raft/initial-state.ts';
import { drawElectionTimeout } from '../../../src/raft/election-timer.ts';
import type { Membership } from '../../../src/raft/types.ts';

const T = 100;

function start(membership: Membership, options: { seed?: number; inspect?: (event: InspectionEvent) => void } = {}) {
  const clock = new SimulatedClock();
  const actor = createActor(raftRoleMachine, {
    clock,
    input: { core: createInitialState({ id: 'a', initialMembership: membership }), rngSeed: options.seed ?? 42, electionTimeoutMs: T, heartbeatIntervalMs: 10 },
    ...(options.inspect && { inspect: options.inspect }),
  });
  const outboxes: RaftOutboxEmitted[] = [];
  actor.on('outbox', (event) => outboxes.push(event));
  actor.start();
  return { clock, actor, outboxes, role: () => actor.getSnapshot().value };
}

const three: Membership = { voters: ['a', 'b', 'c'], learners: [] };

describe('raft-role machine', () => {
  it('randomized election timeouts lie in [T, 2T) and differ between seeds', () => {
    const draws = new Set<number>();
    let state = 1;
    for (let i = 0; i < 200; i++) {
      const draw = drawElectionTimeout(state, T);
      state = draw.rngState;
      expect(draw.timeoutMs).toBeGreaterThanOrEqual(T);
      expect(draw.timeoutMs).toBeLessThan(2 * T);
      draws.add(draw.timeoutMs);
    }
    expect(draws.size).toBeGreaterThan(50);
  });

  it('follower → preCandidate when the election timeout fires (and not before)', () => {
    const { clock, actor, outboxes, role } = start(three);
    const timeout = actor.getSnapshot().context.electionTimeoutMs;
    expect(role()).toBe('follower');
    clock.increment(timeout - 1);
    expect(role()).toBe('follower');
    clock.increment(1);
    expect(role()).toBe('preCandidate');
    expect(outboxes.at(-1)?.outbox.messages.map((m) => `${m.type}>${m.to}`)).toEqual(['pre-vote>b', 'pre-vote>c']);
  });

  it('preCandidate → candidate → leader on granted votes; the leader heartbeats on its interval', () => {
    const { clock, actor, outboxes, role } = start(three);
    clock.increment(2 * T);
    actor.send({ type: 'message', message: { type: 'pre-vote-response', term: 1, from: 'b', to: 'a', granted: true } });
    expect(role()).toBe('candidate');
    expect(actor.getSnapshot().context.core.term).toBe(1);
    actor.send({ type: 'message', message: { type: 'request-vote-response', term: 1, from: 'c', to: 'a', granted: true } });
    expect(role()).toEqual({ leader: { heartbeat: 'waiting', quorumCheck: 'waiting' } });
    const before = outboxes.length;
    clock.increment(10);
    expect(outboxes.slice(before).flatMap((o) => o.outbox.messages.map((m) => m.type))).toEqual(['heartbeat', 'heartbeat']);
  });

  it('a single voter elects itself on its first timeout', () => {
    const { clock, role, actor } = start({ voters: ['a'], learners: [] });
    clock.increment(2 * T);
    expect(role()).toEqual({ leader: { heartbeat: 'waiting', quorumCheck: 'waiting' } });
    // It commits its no-op once the driver reports it durable.
    expect(actor.getSnapshot().context.core.commitIndex).toBe(0);
    actor.send({ type: 'log-synced', index: 1, term: 1 });
    expect(actor.getSnapshot().context.core.commitIndex).toBe(1);
  });

  it('hearing from the leader restarts the election timer, so a follower never campaigns under a live leader', () => {
    const { clock, actor, role } = start(three);
    for (let i = 0; i < 20; i++) {
      clock.increment(T - 1);
      actor.send({ type: 'message', message: { type: 'heartbeat', term: 1, from: 'b', to: 'a', commitIndex: 0 } });
    }
    expect(role()).toBe('follower');
    expect(actor.getSnapshot().context.core.leaderId).toBe('b');
  });

  it('the leader lease lasts T after the last heartbeat: pre-votes are refused within it, granted after', () => {
    const { clock, actor, outboxes } = start(three, { seed: 11 });
    const preVote = () => actor.send({ type: 'message', message: { type: 'pre-vote', term: 2, from: 'c', to: 'a', lastLogIndex: 0, lastLogTerm: 0 } });
    const lastAnswer = () => outboxes.at(-1)?.outbox.messages.find((m) => m.type === 'pre-vote-response');
    actor.send({ type: 'message', message: { type: 'heartbeat', term: 1, from: 'b', to: 'a', commitIndex: 0 } });
    // This seed's randomized wait is well past T, so only the lease timer fires in between.
    expect(actor.getSnapshot().context.electionTimeoutMs).toBeGreaterThan(T + 10);
    clock.increment(T - 1);
    preVote();
    expect(lastAnswer()).toMatchObject({ granted: false });
    clock.increment(2);
    preVote();
    expect(lastAnswer()).toMatchObject({ granted: true, term: 2 });
    expect(actor.getSnapshot().value).toBe('follower');
    expect(actor.getSnapshot().context.core.term).toBe(1); // a pre-vote changes no term
  });

  it('a leader that hears from no quorum steps down at the check-quorum round', () => {
    const { clock, actor, role } = start(three);
    clock.increment(2 * T);
    actor.send({ type: 'message', message: { type: 'pre-vote-response', term: 1, from: 'b', to: 'a', granted: true } });
    actor.send({ type: 'message', message: { type: 'request-vote-response', term: 1, from: 'b', to: 'a', granted: true } });
    expect(actor.getSnapshot().context.core.role).toBe('leader');
    clock.increment(T);
    expect(role()).toBe('follower');
  });

  it('leader → follower on a message of a higher term', () => {
    const { clock, actor, role } = start({ voters: ['a'], learners: [] });
    clock.increment(2 * T);
    expect(actor.getSnapshot().context.core.role).toBe('leader');
    actor.send({ type: 'message', message: { type: 'heartbeat', term: 5, from: 'b', to: 'a', commitIndex: 0 } });
    expect(role()).toBe('follower');
    expect(actor.getSnapshot().context.core).toMatchObject({ term: 5, leaderId: 'b' });
  });

  it('a learner never leaves follower', () => {
    const { clock, role, outboxes } = start({ voters: ['b', 'c'], learners: ['a'] });
    clock.increment(20 * T);
    expect(role()).toBe('follower');
    expect(outboxes.flatMap((o) => o.outbox.messages)).toEqual([]);
  });

  it('is inspectable: inspect sees the role machine\'s snapshots and events', () => {
    const seen: string[] = [];
    const { clock } = start(three, { inspect: (event) => event.type === '@xstate.snapshot' && seen.push(JSON.stringify((event.snapshot as unknown as { value: unknown }).value)) });
    clock.increment(2 * T);
    expect(seen).toContain('"follower"');
    expect(seen).toContain('"preCandidate"');
  });

  it('one emitted outbox per step, numbered', () => {
    const { clock, actor, outboxes } = start(three);
    clock.increment(2 * T);
    actor.send({ type: 'message', message: { type: 'pre-vote-response', term: 1, from: 'b', to: 'a', granted: true } });
    expect(outboxes.map((o) => o.seq)).toEqual(outboxes.map((_, i) => i + 1));
    expect(actor.getSnapshot().context.outboxSeq).toBe(outboxes.length);
  });
});
