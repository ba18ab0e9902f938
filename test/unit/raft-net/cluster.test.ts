import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRequest, keepAliveAgent } from '../../../bench/lib/raft-http.ts';
import { LocalRaftCluster } from '../../../bench/lib/raft-local-cluster.ts';
import { WatchedProcess } from '../../../bench/lib/raft-process.ts';
import { FileRaftStorage } from '../../../src/adapters/raft-wal/file-raft-storage.ts';
import { eventually } from '../../support/eventually.ts';

// Three real member processes (src/raft-server/main.ts) on 127.0.0.1: file WAL, ws transport.
const agent = keepAliveAgent(16);
let dir: string;
let cluster: LocalRaftCluster;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'raft-cluster-'));
  cluster = await LocalRaftCluster.start({ dir: join(dir, 'members'), electionTimeoutMs: 500, heartbeatIntervalMs: 50, secret: 'cluster-test-secret' });
}, 60_000);

afterAll(async () => {
  agent.destroy();
  await cluster?.stop();
  await rm(dir, { recursive: true, force: true });
});

const put = (id: string, key: string, value: string) => httpRequest(agent, 'PUT', `${cluster.clientUrl(id)}/kv/${encodeURIComponent(key)}`, value, 10_000);
const get = (id: string, key: string, stale = false) => httpRequest(agent, 'GET', `${cluster.clientUrl(id)}/kv/${encodeURIComponent(key)}${stale ? '?stale=true' : ''}`, undefined, 10_000);

describe('three raft-server processes on loopback', () => {
  let firstLeader: string;

  it('elect a leader and commit writes; followers redirect clients to it', async () => {
    firstLeader = await cluster.findLeader(agent, 20_000);
    for (let i = 0; i < 20; i++) {
      const reply = await put(firstLeader, `key-${i}`, `value-${i}`);
      expect(reply.status, reply.body).toBe(200);
    }
    const follower = cluster.memberIds.find((id) => id !== firstLeader)!;
    const redirected = await put(follower, 'key-x', 'via-follower');
    expect(redirected.status).toBe(307);
    expect(redirected.headers.location).toBe(`${cluster.clientUrl(firstLeader)}/kv/key-x`);
    expect(JSON.parse(redirected.body)).toMatchObject({ error: { code: 'not_leader', leaderId: firstLeader } });

    const read = await get(firstLeader, 'key-7');
    expect(read.status).toBe(200);
    expect(JSON.parse(read.body)).toMatchObject({ key: 'key-7', value: 'value-7' });
    expect((await get(firstLeader, 'missing')).status).toBe(404);
    // Every member applies the committed writes.
    for (const id of cluster.memberIds) {
      await eventually(async () => JSON.parse((await get(id, 'key-19', true)).body).value === 'value-19', { timeoutMs: 10_000, what: `${id} applied key-19` });
    }
  });

  it('store and read back keys and client ids named after Object.prototype members', async () => {
    // On plain objects PUT /kv/__proto__ was acknowledged and lost, and GET of a missing
    // "constructor" found Object.prototype's.
    expect((await get(firstLeader, 'constructor')).status).toBe(404);
    for (const key of ['__proto__', 'constructor', 'toString']) {
      const reply = await put(firstLeader, key, `value of ${key}`);
      expect(reply.status, reply.body).toBe(200);
      const read = await get(firstLeader, key);
      expect(read.status, read.body).toBe(200);
      expect(JSON.parse(read.body)).toMatchObject({ key, value: `value of ${key}` });
    }
    // A client id "__proto__" has a session like any other: its retry answers as before.
    const asProto = (value: string) => httpRequest(agent, 'PUT', `${cluster.clientUrl(firstLeader)}/kv/proto-client`, value, 10_000, { 'x-client-id': '__proto__', 'x-request-seq': '1' });
    expect((await asProto('first')).status).toBe(200);
    expect((await put(firstLeader, 'proto-client', 'later')).status).toBe(200);
    expect((await asProto('first')).status).toBe(200);
    expect(JSON.parse((await get(firstLeader, 'proto-client')).body)).toMatchObject({ value: 'later' });
    // An unusable client id is refused before it reaches the log.
    const bad = await httpRequest(agent, 'PUT', `${cluster.clientUrl(firstLeader)}/kv/k`, 'v', 10_000, { 'x-client-id': 'c'.repeat(300), 'x-request-seq': '1' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ error: { code: 'invalid_client_id' } });
    for (const id of cluster.memberIds) {
      await eventually(async () => JSON.parse((await get(id, '__proto__', true)).body).value === 'value of __proto__', { timeoutMs: 10_000, what: `${id} applied __proto__` });
    }
  });

  it('elect a new leader that commits after the leader is SIGKILLed', async () => {
    const before = await cluster.status(agent, firstLeader);
    await cluster.kill(firstLeader);
    const newLeader = await cluster.findLeader(agent, 20_000);
    expect(newLeader).not.toBe(firstLeader);
    const after = await cluster.status(agent, newLeader);
    expect(after!.term).toBeGreaterThan(before!.term);
    const reply = await put(newLeader, 'after-failover', 'committed-by-new-leader');
    expect(reply.status, reply.body).toBe(200);
    // Nothing acknowledged by the old leader was lost.
    const old = await get(newLeader, 'key-19');
    expect(JSON.parse(old.body)).toMatchObject({ value: 'value-19' });
    for (let i = 0; i < 20; i++) expect((await put(newLeader, `more-${i}`, `v${i}`)).status).toBe(200);
  });

  it('let the killed member restart from its WAL and catch up', async () => {
    await cluster.startMember(firstLeader);
    const leader = await cluster.findLeader(agent, 20_000);
    const leaderStatus = await cluster.status(agent, leader);
    await eventually(async () => {
      const status = await cluster.status(agent, firstLeader);
      return status !== undefined && status.appliedIndex >= leaderStatus!.commitIndex && status.leaderId === leader;
    }, { timeoutMs: 20_000, what: `${firstLeader} catches up to index ${leaderStatus!.commitIndex}` });
    const caughtUp = await get(firstLeader, 'more-19', true);
    expect(JSON.parse(caughtUp.body)).toMatchObject({ value: 'v19' });
    const transport = JSON.parse((await httpRequest(agent, 'GET', `${cluster.clientUrl(firstLeader)}/status`)).body).transport;
    expect(transport.droppedMalformed + transport.authFailures + transport.droppedMisaddressed).toBe(0);
  });
});

describe('a member given its secret on the command line', () => {
  it('refuses to start, before touching its data directory, and says to use --secret-file or the environment', async () => {
    const dataDir = join(dir, 'secret-on-command-line');
    const member = new WatchedProcess('secret-on-command-line', process.execPath, [
      '--import', 'tsx', join(import.meta.dirname, '../../../src/raft-server/main.ts'),
      '--id', 'n1', '--peers', 'n1=127.0.0.1:1', '--data', dataDir, '--client-port', '1', '--secret', 'hunter2',
    ]);
    const line = await member.waitForLine((l) => l.includes('--secret is refused'), 20_000, 'the refusal');
    expect(line).toContain('--secret-file FILE');
    expect(line).toContain('CONSTELLATION_CLUSTER_SECRET');
    expect(await member.exited).toEqual({ code: 64, signal: null });
    expect(member.tail(50)).not.toContain('hunter2');
    await expect(readdir(dataDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('a member whose WAL is damaged', () => {
  it('refuses to start and names the file and offset', async () => {
    const dataDir = join(dir, 'damaged');
    const storage = new FileRaftStorage({ dir: dataDir });
    await storage.load();
    for (let index = 1; index <= 5; index++) {
      storage.append([{ term: 1, index, type: 'noop', data: `entry-${index}` }]);
      await storage.sync();
    }
    await storage.close();
    const segment = join(dataDir, (await readdir(dataDir)).find((name) => name.endsWith('.wal'))!);
    const bytes = await readFile(segment);
    const at = bytes.indexOf('entry-2');
    bytes[at] = bytes[at]! ^ 0x02;
    await writeFile(segment, bytes);

    const member = new WatchedProcess('damaged', process.execPath, [
      '--import', 'tsx', join(import.meta.dirname, '../../../src/raft-server/main.ts'),
      '--id', 'n1', '--peers', 'n1=127.0.0.1:1', '--data', dataDir, '--client-port', '1',
    ], { env: { ...process.env, CONSTELLATION_CLUSTER_SECRET: 'x' } });
    const line = await member.waitForLine((l) => l.includes('refused to start'), 20_000, 'the refusal');
    expect(line).toContain('WAL_CORRUPT_RECORD');
    expect(line).toContain(segment);
    expect(await member.exited).toEqual({ code: 65, signal: null });
  });
});

describe('members that compact their logs into snapshots', () => {
  it('bring a member that missed compacted entries up to date with InstallSnapshot, and reload from snapshot + WAL', async () => {
    const snapDir = join(dir, 'snapshots');
    const compacting = await LocalRaftCluster.start({ dir: snapDir, electionTimeoutMs: 500, heartbeatIntervalMs: 50, secret: 'snapshot-test-secret', extraArgs: ['--snapshot-every', '20'] });
    try {
      const url = (id: string, key: string, stale = false) => `${compacting.clientUrl(id)}/kv/${key}${stale ? '?stale=true' : ''}`;
      const leader = await compacting.findLeader(agent, 20_000);
      const lagging = compacting.memberIds.find((id) => id !== leader)!;
      for (let i = 0; i < 30; i++) expect((await httpRequest(agent, 'PUT', url(leader, `a-${i}`), `A${i}`)).status).toBe(200);
      await compacting.kill(lagging);
      for (let i = 0; i < 100; i++) expect((await httpRequest(agent, 'PUT', url(leader, `b-${i}`), `B${i}`)).status).toBe(200);
      const leaderStatus = await compacting.status(agent, leader);
      expect(leaderStatus!.snapshotIndex).toBeGreaterThan(30);

      await compacting.startMember(lagging);
      await eventually(async () => ((await compacting.status(agent, lagging))?.appliedIndex ?? 0) >= leaderStatus!.commitIndex, { timeoutMs: 20_000, what: `${lagging} catches up past the leader's snapshot` });
      await eventually(async () => JSON.parse((await httpRequest(agent, 'GET', url(lagging, 'b-99', true))).body).value === 'B99', { timeoutMs: 20_000, what: `${lagging} has b-99` });
      const lagStatus = await compacting.status(agent, lagging);
      expect(lagStatus!.snapshotIndex).toBeGreaterThan(30);
      expect(await readdir(join(snapDir, lagging))).toContain('snapshot.bin');

      // Restart it once more: state comes back from its own snapshot file and WAL.
      await compacting.kill(lagging);
      await compacting.startMember(lagging);
      expect(JSON.parse((await httpRequest(agent, 'GET', url(lagging, 'a-5', true))).body)).toMatchObject({ value: 'A5' });
      expect(JSON.parse((await httpRequest(agent, 'GET', url(lagging, 'b-99', true))).body)).toMatchObject({ value: 'B99' });
    } finally {
      await compacting.stop();
    }
  }, 90_000);
});
