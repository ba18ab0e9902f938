import { describe, expect, it } from 'vitest';
import { TestCluster } from './support/test-cluster.ts';
import type { ConfigChange } from '../../../src/raft/raft-state.ts';

let proposalId = 1000;
function change(c: TestCluster, leader: string, configChange: ConfigChange) {
  return c.input(leader, { type: 'propose-config', proposalId: proposalId++, change: configChange }).proposals[0];
}

function threeWithLeaderA(): TestCluster {
  const c = new TestCluster(['a', 'b', 'c']);
  c.elect('a');
  c.heartbeat('a');
  c.addMember('d'); // joins with no membership: waits for the leader
  return c;
}

describe('single-server membership changes', () => {
  it('add learner → promote → remove, one change at a time', () => {
    const c = threeWithLeaderA();
    expect(change(c, 'a', { type: 'add-learner', node: 'd' })).toMatchObject({ accepted: true });
    // Config takes effect when appended, before it commits.
    expect(c.state('a').membership).toEqual({ voters: ['a', 'b', 'c'], learners: ['d'] });
    expect(change(c, 'a', { type: 'remove', node: 'b' })).toMatchObject({ accepted: false, code: 'config_change_pending' });
    c.deliverAll();
    c.heartbeat('a');
    expect(c.state('d').membership).toEqual({ voters: ['a', 'b', 'c'], learners: ['d'] });
    expect(c.logOf('d')).toEqual(c.logOf('a'));

    // A learner never campaigns, and its acknowledgement does not count towards commit.
    c.input('d', { type: 'election-timeout' });
    expect(c.state('d').role).toBe('follower');
    c.isolate('b');
    c.isolate('c');
    c.propose('a', 'only-a-and-d');
    c.deliverAll();
    expect(c.state('d').log.lastIndex).toBe(c.state('a').log.lastIndex);
    expect(c.state('a').commitIndex).toBeLessThan(c.state('a').log.lastIndex);
    c.heal();
    c.heartbeat('a');
    expect(c.state('a').commitIndex).toBe(c.state('a').log.lastIndex);

    expect(change(c, 'a', { type: 'promote', node: 'd' })).toMatchObject({ accepted: true });
    c.deliverAll();
    expect(c.state('a').membership).toEqual({ voters: ['a', 'b', 'c', 'd'], learners: [] });

    // Now d counts: with b and c cut off, a and d are 2 of 4 — not a quorum.
    c.isolate('b');
    c.isolate('c');
    c.propose('a', 'needs-three');
    c.deliverAll();
    expect(c.state('a').commitIndex).toBeLessThan(c.state('a').log.lastIndex);
    c.heal();
    c.heartbeat('a');

    expect(change(c, 'a', { type: 'remove', node: 'b' })).toMatchObject({ accepted: true });
    c.deliverAll();
    c.heartbeat('a');
    expect(c.state('a').membership).toEqual({ voters: ['a', 'c', 'd'], learners: [] });
    expect(Object.keys(c.state('a').progress).sort()).toEqual(['c', 'd']);
    // b is out: a's heartbeats (and whatever they cause) reach c and d only.
    const heartbeatsTo: string[] = [];
    c.input('a', { type: 'heartbeat-timeout' });
    c.deliverAll({ observe: (m) => m.from === 'a' && heartbeatsTo.push(`${m.type}>${m.to}`) });
    expect(heartbeatsTo.sort()).toEqual(['heartbeat>c', 'heartbeat>d']);
  });

  it('a new leader accepts no change before an entry of its own term commits', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.input('a', { type: 'election-timeout' });
    c.deliverWhere((m) => m.type === 'pre-vote');
    c.deliverWhere((m) => m.type === 'pre-vote-response');
    c.deliverWhere((m) => m.type === 'request-vote');
    c.deliverWhere((m) => m.type === 'request-vote-response');
    expect(c.state('a').role).toBe('leader');
    expect(change(c, 'a', { type: 'add-learner', node: 'd' })).toMatchObject({ accepted: false, code: 'leader_not_ready' });
    c.deliverAll();
    expect(change(c, 'a', { type: 'add-learner', node: 'd' })).toMatchObject({ accepted: true });
  });

  it('refuses nonsense changes and promoting a learner that is behind', () => {
    const c = threeWithLeaderA();
    expect(change(c, 'a', { type: 'promote', node: 'd' })).toMatchObject({ accepted: false, code: 'invalid_membership_change' });
    expect(change(c, 'a', { type: 'add-learner', node: 'b' })).toMatchObject({ accepted: false, code: 'invalid_membership_change' });
    expect(change(c, 'a', { type: 'remove', node: 'zz' })).toMatchObject({ accepted: false, code: 'invalid_membership_change' });
    c.isolate('d');
    change(c, 'a', { type: 'add-learner', node: 'd' });
    c.deliverAll();
    c.heartbeat('a');
    expect(change(c, 'a', { type: 'promote', node: 'd' })).toMatchObject({ accepted: false, code: 'learner_not_caught_up' });
    expect(change(c, 'b', { type: 'add-learner', node: 'e' })).toMatchObject({ accepted: false, code: 'not_leader' });
  });

  it('a removed leader steps down once its removal commits, and the rest elect a new one', () => {
    const c = threeWithLeaderA();
    expect(change(c, 'a', { type: 'remove', node: 'a' })).toMatchObject({ accepted: true });
    c.deliverAll();
    c.heartbeat('a');
    expect(c.state('a').role).toBe('follower');
    expect(c.state('b').membership.voters).toEqual(['b', 'c']);
    c.input('a', { type: 'election-timeout' });
    expect(c.state('a').role).toBe('follower'); // not a voter: never campaigns
    c.input('c', { type: 'election-timeout' }); // c's lease on a ends (b still refuses: its lease runs)
    c.deliverAll();
    c.elect('b');
    expect(c.leaders()).toEqual(['b']);
  });

  it('demote: a voter becomes a learner that keeps the log but no longer votes or counts', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    c.heartbeat('a');
    expect(change(c, 'a', { type: 'demote', node: 'c' })).toMatchObject({ accepted: true });
    c.deliverAll();
    c.heartbeat('a');
    expect(c.state('c').membership).toEqual({ voters: ['a', 'b'], learners: ['c'] });
    // c still receives the log, but a commit needs b now: with b cut off, a and c are not a quorum.
    c.isolate('b');
    c.propose('a', 'needs-b');
    c.deliverAll();
    expect(c.state('c').log.lastIndex).toBe(c.state('a').log.lastIndex);
    expect(c.state('a').commitIndex).toBeLessThan(c.state('a').log.lastIndex);
    c.input('c', { type: 'election-timeout' });
    expect(c.state('c').role).toBe('follower'); // a learner never campaigns
    c.heal();
    c.heartbeat('a');
    expect(c.state('a').commitIndex).toBe(c.state('a').log.lastIndex);
    // Promotion brings it back once caught up.
    expect(change(c, 'a', { type: 'promote', node: 'c' })).toMatchObject({ accepted: true });
    c.deliverAll();
    expect(c.state('a').membership).toEqual({ voters: ['a', 'b', 'c'], learners: [] });
  });

  it('demote refuses a non-voter and the last voter; a demoted leader steps down once it commits', () => {
    const single = new TestCluster(['a']);
    single.elect('a');
    single.heartbeat('a');
    expect(change(single, 'a', { type: 'demote', node: 'a' })).toMatchObject({ accepted: false, code: 'invalid_membership_change', message: expect.stringContaining('last voter') });
    const c = threeWithLeaderA();
    expect(change(c, 'a', { type: 'demote', node: 'd' })).toMatchObject({ accepted: false, code: 'invalid_membership_change', message: expect.stringContaining('not a voter') });
    expect(change(c, 'a', { type: 'demote', node: 'a' })).toMatchObject({ accepted: true });
    c.deliverAll();
    c.heartbeat('a');
    expect(c.state('a').role).toBe('follower');
    expect(c.state('b').membership).toEqual({ voters: ['b', 'c'], learners: ['a'] });
  });

  it('a truncated config entry stops applying (membership follows the log)', () => {
    const c = threeWithLeaderA();
    c.isolate('a');
    change(c, 'a', { type: 'add-learner', node: 'd' });
    expect(c.state('a').membership.learners).toEqual(['d']);
    c.heal();
    c.isolate('a');
    c.input('c', { type: 'election-timeout' });
    c.deliverAll();
    c.elect('b');
    expect(c.state('b').role).toBe('leader');
    c.propose('b', 'b-entry');
    c.deliverAll();
    c.heal();
    c.heartbeat('b');
    expect(c.logOf('a')).toEqual(c.logOf('b'));
    expect(c.state('a').membership).toEqual({ voters: ['a', 'b', 'c'], learners: [] });
  });
});
