import { afterEach, describe, expect, it } from 'vitest';
import { NodeCluster } from './support/node-cluster.ts';
import { NotLeaderError } from '../../../src/raft/errors.ts';
import type { ClientRequest } from '../../../src/cluster/commands.ts';
import type { NodeId } from '../../../src/raft/types.ts';

let cluster: NodeCluster | undefined;
afterEach(async () => {
  await cluster?.stopAll();
  cluster = undefined;
});

const put = (clientId: string, seq: number, key: string, value: string): ClientRequest => ({ clientId, seq, command: { type: 'put', key, value } });

describe('RaftNode (driver + role machine + core) on an in-test network', () => {
  it('elects a leader, replicates a write and applies it on every member', async () => {
    cluster = await NodeCluster.start(['a', 'b', 'c']);
    const leader = await cluster.waitForLeader();
    const result = await cluster.run(leader.propose(put('client-1', 1, 'k', 'v1')));
    expect(result).toEqual({ ok: true });
    expect(leader.state().view().kv).toEqual({ k: 'v1' });
    const c = cluster;
    await c.clock.until(() => [...c.nodes.values()].every((node) => node.state().view().kv['k'] === 'v1'), 1_000, 'every member applies the write');
  });

  it('a follower rejects proposals with NotLeaderError naming the leader', async () => {
    cluster = await NodeCluster.start(['a', 'b', 'c']);
    const leader = await cluster.waitForLeader();
    await cluster.clock.advance(50);
    const follower = [...cluster.nodes.values()].find((node) => node !== leader);
    const error = await follower?.propose(put('c', 1, 'k', 'v')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotLeaderError);
    expect(error).toMatchObject({ code: 'not_leader', leaderId: leader.id });
  });

  it('a retried request (same clientId and seq) applies once and answers as before', async () => {
    cluster = await NodeCluster.start(['a', 'b', 'c']);
    const leader = await cluster.waitForLeader();
    const c = cluster;
    expect(await c.run(leader.propose(put('client', 1, 'k', 'first')))).toEqual({ ok: true });
    expect(await c.run(leader.propose(put('client', 2, 'k', 'second')))).toEqual({ ok: true, previous: 'first' });
    // The client did not see the answer to seq 2 and retries it: same answer, no second write.
    expect(await c.run(leader.propose(put('client', 2, 'k', 'second')))).toEqual({ ok: true, previous: 'first' });
    expect(await c.run(leader.propose(put('client', 1, 'k', 'first')))).toMatchObject({ ok: false, code: 'stale_request' });
    expect(leader.state().view().kv['k']).toBe('second');
    expect(leader.state().view().sessions['client']?.seq).toBe(2);
  });

  it('never sends an append reply before the follower synced the entries it acknowledges', async () => {
    cluster = await NodeCluster.start(['a', 'b', 'c']);
    const leader = await cluster.waitForLeader();
    await cluster.clock.advance(50);
    const followerId = ['a', 'b', 'c'].find((id) => id !== leader.id) as NodeId;
    const storage = cluster.storages.get(followerId);
    storage?.holdSyncs();
    const sentBefore = cluster.sent.length;
    const write = leader.propose(put('c', 1, 'k', 'v'));
    await cluster.clock.advance(30);
    const replies = () => cluster?.sent.slice(sentBefore).filter((m) => m.from === followerId && m.type === 'append-entries-response' && m.success && m.matchIndex >= 2) ?? [];
    expect(replies()).toEqual([]);
    expect(storage?.durableState().entries.length).toBe(1);
    storage?.releaseSyncs();
    await cluster.clock.advance(5);
    expect(replies().length).toBeGreaterThan(0);
    expect(storage?.durableState().entries.length).toBe(2);
    expect(await write).toEqual({ ok: true });
  });

  it('the leader\'s AppendEntries leave before its own fsync; the client is answered only after it', async () => {
    cluster = await NodeCluster.start(['a', 'b', 'c']);
    const c = cluster;
    const leader = await c.waitForLeader();
    await c.clock.advance(50);
    const storage = c.storages.get(leader.id);
    storage?.holdSyncs();
    let answered = false;
    const write = leader.propose(put('c', 1, 'k', 'v')).then((result) => {
      answered = true;
      return result;
    });
    await c.clock.advance(20);
    const followers = [...c.nodes.values()].filter((node) => node !== leader);
    expect(followers.every((node) => node.status().lastLogIndex === 2)).toBe(true);
    expect(leader.status().commitIndex).toBe(2); // both followers hold it durably: a quorum
    expect(answered).toBe(false);
    expect(leader.state().appliedIndex).toBe(1);
    storage?.releaseSyncs();
    expect(await c.run(write)).toEqual({ ok: true });
  });

  it('group commit: a burst of proposals shares syncs and AppendEntries', async () => {
    cluster = await NodeCluster.start(['a', 'b', 'c']);
    const leader = await cluster.waitForLeader();
    await cluster.clock.advance(50);
    const storage = cluster.storages.get(leader.id);
    const syncsBefore = storage?.syncCount ?? 0;
    const appendsBefore = cluster.sent.filter((m) => m.type === 'append-entries' && m.from === leader.id).length;
    const writes = Array.from({ length: 200 }, (_, i) => leader.propose(put(`client-${i}`, 1, `k${i}`, `v${i}`)));
    await cluster.clock.until(() => leader.status().appliedIndex >= 201, 1_000, 'all 200 writes applied');
    const results = await Promise.all(writes);
    expect(results.every((r) => r.ok)).toBe(true);
    expect((storage?.syncCount ?? 0) - syncsBefore).toBeLessThan(20);
    const appends = cluster.sent.filter((m) => m.type === 'append-entries' && m.from === leader.id).length - appendsBefore;
    expect(appends).toBeLessThan(40);
  });

  it('ReadIndex confirms leadership with a heartbeat round before answering', async () => {
    cluster = await NodeCluster.start(['a', 'b', 'c']);
    const leader = await cluster.waitForLeader();
    await cluster.run(leader.propose(put('c', 1, 'k', 'v')));
    const sentBefore = cluster.sent.length;
    let index: number | undefined;
    void leader.readIndex().then((i) => (index = i));
    await cluster.clock.advance(0);
    expect(index).toBeUndefined();
    const round = cluster.sent.slice(sentBefore).filter((m) => m.type === 'heartbeat' && m.context !== undefined);
    expect(round.length).toBe(2);
    await cluster.clock.advance(3);
    expect(index).toBe(leader.status().commitIndex);
    expect(leader.state().appliedIndex).toBeGreaterThanOrEqual(index as number);
  });

  it('ReadIndex on an isolated leader never answers and fails once it steps down (check-quorum)', async () => {
    cluster = await NodeCluster.start(['a', 'b', 'c']);
    const leader = await cluster.waitForLeader();
    await cluster.clock.advance(50);
    cluster.isolate(leader.id);
    const read = leader.readIndex().then(() => 'answered', (e: unknown) => e);
    await cluster.clock.advance(400);
    expect(await read).toBeInstanceOf(NotLeaderError);
    expect(leader.status().role).not.toBe('leader');
  });

  it('restarts from storage with the state it had committed', async () => {
    cluster = await NodeCluster.start(['a', 'b', 'c']);
    const leader = await cluster.waitForLeader();
    const c = cluster;
    for (let seq = 1; seq <= 5; seq++) await c.run(leader.propose(put('c', seq, `k${seq}`, 'v')));
    await c.clock.until(() => [...c.nodes.values()].every((n) => n.status().appliedIndex === 6), 1_000, 'all applied');
    for (const id of ['a', 'b', 'c']) await cluster.crash(id);
    for (const id of ['a', 'b', 'c']) await cluster.add(id, { voters: ['a', 'b', 'c'], learners: [] });
    for (const id of ['a', 'b', 'c']) expect(Object.keys(cluster.node(id).state().view().kv).length).toBeGreaterThanOrEqual(4);
    const newLeader = await cluster.waitForLeader();
    expect(await c.run(newLeader.propose(put('c', 6, 'k6', 'v')))).toEqual({ ok: true });
    expect(Object.keys(newLeader.state().view().kv)).toHaveLength(6);
  });
});

describe('RaftNode operations that span the cluster', () => {
  it('transferLeadership resolves once the target leads; proposals then go to it', async () => {
    cluster = await NodeCluster.start(['a', 'b', 'c']);
    const c = cluster;
    const leader = await c.waitForLeader();
    await c.run(leader.propose(put('x', 1, 'k', 'v')));
    const target = ['a', 'b', 'c'].find((id) => id !== leader.id) as NodeId;
    await c.run(leader.transferLeadership(target));
    expect(c.node(target).status().role).toBe('leader');
    expect(leader.status()).toMatchObject({ role: 'follower', leaderId: target });
    expect(await c.run(c.node(target).propose(put('x', 2, 'k', 'w')))).toEqual({ ok: true, previous: 'v' });
  });

  it('a member joins as a learner, is promoted, and another is removed; each call resolves when applied', async () => {
    cluster = await NodeCluster.start(['a', 'b', 'c']);
    const c = cluster;
    const leader = await c.waitForLeader();
    await c.run(leader.propose(put('x', 1, 'k', 'v')));
    const joiner = await c.add('d', undefined);
    await c.run(leader.addLearner('d'));
    expect(leader.status().membership).toEqual({ voters: ['a', 'b', 'c'], learners: ['d'] });
    await c.clock.until(() => joiner.state().view().kv['k'] === 'v', 1_000, 'the learner to catch up');
    const promotion = leader.promoteLearner('d');
    // One change at a time: a second one while the promotion is pending is refused.
    expect(await leader.removeMember('b').catch((e: unknown) => e)).toMatchObject({ code: 'config_change_pending' });
    await c.run(promotion);
    expect(leader.status().membership).toEqual({ voters: ['a', 'b', 'c', 'd'], learners: [] });
    const victim = ['a', 'b', 'c'].find((id) => id !== leader.id) as NodeId;
    await c.run(leader.removeMember(victim));
    expect(leader.status().membership.voters).not.toContain(victim);
    expect(joiner.status().membership.voters).toContain('d');
  });

  it('a follower far behind a compacted log catches up from a snapshot and keeps going', async () => {
    cluster = await NodeCluster.start(['a', 'b', 'c'], { snapshotEveryEntries: 10 });
    const c = cluster;
    const leader = await c.waitForLeader();
    const lagging = ['a', 'b', 'c'].find((id) => id !== leader.id) as NodeId;
    c.isolate(lagging);
    for (let seq = 1; seq <= 35; seq++) await c.run(leader.propose(put('w', seq, `k${seq}`, `v${seq}`)));
    expect(leader.status().snapshotIndex).toBeGreaterThanOrEqual(30);
    expect(c.storages.get(leader.id)?.durableState().snapshot?.lastIncludedIndex).toBe(leader.status().snapshotIndex);
    c.heal();
    const node = c.node(lagging);
    await c.clock.until(() => node.status().appliedIndex === leader.status().commitIndex, 2_000, 'the lagging member to catch up');
    expect(c.sent.some((m) => m.type === 'install-snapshot' && m.to === lagging)).toBe(true);
    expect(node.state().view().kv).toEqual(leader.state().view().kv);
    expect(await c.run(leader.propose(put('w', 36, 'k36', 'v36')))).toEqual({ ok: true });
    await c.clock.until(() => node.state().view().kv['k36'] === 'v36', 1_000, 'the next write to reach it');
  });
});

describe('RaftNode when its disk fails', () => {
  it('stops itself, rejects what is pending with storage_failed and reports the error', async () => {
    const c = new NodeCluster();
    cluster = c;
    const errors: Error[] = [];
    const leader = await c.add('solo', { voters: ['solo'], learners: [] }, { onFatalError: (error) => errors.push(error) });
    await c.waitForLeader();
    const storage = c.storages.get('solo');
    if (storage) storage.sync = () => Promise.reject(new Error('EIO: disk on fire'));
    const write = leader.propose(put('c', 1, 'k', 'v')).catch((e: unknown) => e);
    await c.clock.advance(5);
    expect(await write).toMatchObject({ code: 'storage_failed' });
    expect(errors.map((e) => e.message)).toEqual(['EIO: disk on fire']);
    expect(await leader.propose(put('c', 2, 'k', 'v')).catch((e: unknown) => e)).toMatchObject({ code: 'node_stopped' });
  });
});
