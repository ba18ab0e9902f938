import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { startRaftWsTransport } from '../../../src/adapters/ws-transport/raft-ws-transport.ts';
import { clientProof, newNonce, parseChallenge, parseWelcome } from '../../../src/adapters/ws-transport/handshake.ts';
import { validateRaftFrame } from '../../../src/adapters/ws-transport/raft-message-schema.ts';
import { MAX_UNAUTHENTICATED_BYTES } from '../../../src/adapters/ws-transport/unauthenticated-input.ts';
import type { WsTransport } from '../../../src/adapters/ws-transport/ws-transport.ts';
import type { RaftMessage } from '../../../src/raft/messages.ts';
import { validateRaftMessage } from '../../../src/raft/messages.ts';
import type { Random } from '../../../src/seams/random.ts';
import { eventually } from '../../support/eventually.ts';

const SECRET = 'correct horse battery staple';
const open: WsTransport<RaftMessage>[] = [];
const rawSockets: WebSocket[] = [];
const fakeServers: (WebSocketServer | Server)[] = [];
afterEach(async () => {
  for (const socket of rawSockets.splice(0)) socket.terminate();
  await Promise.all(fakeServers.splice(0).map((server) => new Promise((resolve) => {
    if (server instanceof WebSocketServer) for (const client of server.clients) client.terminate();
    server.close(resolve);
  })));
  await Promise.all(open.splice(0).map((transport) => transport.close()));
});

async function transport(self: string, peers: Record<string, string>, options: { secret?: string; port?: number; maxPayloadBytes?: number; authTimeoutMs?: number; maxPendingHandshakes?: number } = {}): Promise<WsTransport<RaftMessage>> {
  const started = await startRaftWsTransport({
    self, listenPort: options.port ?? 0, peers, secret: options.secret ?? SECRET,
    backoff: { initialDelayMs: 20, maxDelayMs: 200 },
    ...(options.maxPayloadBytes ? { maxPayloadBytes: options.maxPayloadBytes } : {}),
    ...(options.authTimeoutMs ? { authTimeoutMs: options.authTimeoutMs } : {}),
    ...(options.maxPendingHandshakes ? { maxPendingHandshakes: options.maxPendingHandshakes } : {}),
  });
  open.push(started);
  return started;
}

const heartbeat = (from: string, to: string, term = 1): RaftMessage => ({ type: 'heartbeat', term, from, to, commitIndex: 3 });

/** One well-formed message of every type, as raft-core's validator defines them. */
const everyMessage: RaftMessage[] = [
  { type: 'request-vote', term: 2, from: 'a', to: 'b', lastLogIndex: 4, lastLogTerm: 1, leaderTransfer: false },
  { type: 'request-vote-response', term: 2, from: 'a', to: 'b', granted: true },
  { type: 'pre-vote', term: 3, from: 'a', to: 'b', lastLogIndex: 4, lastLogTerm: 1 },
  { type: 'pre-vote-response', term: 3, from: 'a', to: 'b', granted: false },
  { type: 'append-entries', term: 2, from: 'a', to: 'b', prevLogIndex: 4, prevLogTerm: 1, leaderCommit: 4, entries: [{ term: 2, index: 5, type: 'normal', data: '{"x":1}' }, { term: 2, index: 6, type: 'noop', data: '' }] },
  { type: 'append-entries-response', term: 2, from: 'a', to: 'b', success: false, matchIndex: 0, rejectedIndex: 4, conflictIndex: 2, conflictTerm: 1, lastLogIndex: 3 },
  { type: 'append-entries-response', term: 2, from: 'a', to: 'b', success: true, matchIndex: 6, lastLogIndex: 6 },
  { type: 'heartbeat', term: 2, from: 'a', to: 'b', commitIndex: 4, context: 7 },
  { type: 'heartbeat-response', term: 2, from: 'a', to: 'b', lastLogIndex: 6 },
  { type: 'install-snapshot', term: 2, from: 'a', to: 'b', snapshot: { lastIncludedIndex: 9, lastIncludedTerm: 2, membership: { voters: ['a', 'b'], learners: ['c'] }, data: '{}' } },
  { type: 'install-snapshot-response', term: 2, from: 'a', to: 'b', matchIndex: 9, snapshotIndex: 9 },
  { type: 'timeout-now', term: 2, from: 'a', to: 'b' },
];

/** The next frame, or a rejection when the server closes the connection instead. */
function nextFrame(socket: WebSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    const onMessage = (data: Buffer): void => {
      socket.off('close', onClose);
      resolve(data.toString());
    };
    const onClose = (code: number): void => {
      socket.off('message', onMessage);
      reject(new Error(`closed with ${code}`));
    };
    socket.once('message', onMessage);
    socket.once('close', onClose);
  });
}

/** Connects like a peer would, optionally completing the handshake with the given secret. */
async function rawClient(port: number, authenticateAs?: { id: string; serverId: string; secret: string }): Promise<WebSocket> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/raft`);
  rawSockets.push(socket);
  socket.on('error', () => undefined);
  const challengeText = await nextFrame(socket);
  if (!authenticateAs) return socket;
  const challenge = parseChallenge(challengeText);
  if (!challenge) throw new Error('no challenge');
  const clientNonce = newNonce();
  socket.send(JSON.stringify({ kind: 'hello', clientId: authenticateAs.id, serverId: authenticateAs.serverId, clientNonce, proof: clientProof(authenticateAs.secret, challenge.serverNonce, clientNonce, authenticateAs.id, authenticateAs.serverId) }));
  if (!parseWelcome(await nextFrame(socket))) throw new Error('no welcome');
  return socket;
}

const closed = (socket: WebSocket): Promise<number> => (socket.readyState === WebSocket.CLOSED ? Promise.resolve(-1) : once(socket, 'close').then(([code]) => code as number));

describe('RaftMessage schema', () => {
  it('accepts exactly what raft-core accepts for every message type', () => {
    for (const message of everyMessage) {
      expect(validateRaftMessage(message).ok).toBe(true);
      expect(validateRaftFrame(message)).toEqual({ ok: true, message });
    }
  });

  it('rejects malformed messages with a reason', () => {
    const bad: unknown[] = [
      null, 42, 'heartbeat', [], {},
      { type: 'heartbeat', term: -1, from: 'a', to: 'b', commitIndex: 1 },
      { type: 'heartbeat', term: 1.5, from: 'a', to: 'b', commitIndex: 1 },
      { type: 'heartbeat', term: 1, from: '', to: 'b', commitIndex: 1 },
      { type: 'heartbeat', term: 1, from: 'a', to: 'b' },
      { type: 'heartbeat', term: 1, from: 'a', to: 'b', commitIndex: 1, extra: true },
      { type: 'append-entries', term: 2, from: 'a', to: 'b', prevLogIndex: 4, prevLogTerm: 1, leaderCommit: 4, entries: [{ term: 2, index: 5, type: 'weird', data: '' }] },
      { type: 'append-entries', term: 2, from: 'a', to: 'b', prevLogIndex: 4, prevLogTerm: 1, leaderCommit: 4, entries: [{ term: 2, index: 5, type: 'normal', data: 7 }] },
      { type: 'install-snapshot', term: 2, from: 'a', to: 'b', snapshot: { lastIncludedIndex: 9, lastIncludedTerm: 2, membership: { voters: 'a' }, data: '{}' } },
      { type: 'nonsense', term: 1, from: 'a', to: 'b' },
    ];
    for (const value of bad) {
      const result = validateRaftFrame(value);
      expect(result.ok, JSON.stringify(value)).toBe(false);
      if (!result.ok) expect(result.error).toMatch(/does not match the RaftMessage schema/);
    }
  });
});

describe('ws transport', () => {
  it('delivers messages both ways between two authenticated members', async () => {
    const a = await transport('a', {});
    const b = await transport('b', { a: `127.0.0.1:${a.port()}` });
    a.setPeer('b', `127.0.0.1:${b.port()}`);
    const atA: [string, RaftMessage][] = [];
    const atB: [string, RaftMessage][] = [];
    a.onMessage((from, message) => atA.push([from, message]));
    b.onMessage((from, message) => atB.push([from, message]));
    await eventually(() => a.connectedPeers().includes('b') && b.connectedPeers().includes('a'), { timeoutMs: 5000, what: 'a and b connected' });

    for (const message of everyMessage) a.send('b', { ...message, from: 'a', to: 'b' });
    b.send('a', heartbeat('b', 'a', 7));
    await eventually(() => atB.length === everyMessage.length && atA.length === 1, { timeoutMs: 5000, what: 'all messages delivered' });
    expect(atB.map(([, message]) => message)).toEqual(everyMessage.map((message) => ({ ...message, from: 'a', to: 'b' })));
    expect(atB.every(([from]) => from === 'a')).toBe(true);
    expect(atA).toEqual([['b', heartbeat('b', 'a', 7)]]);
    expect(b.counters).toMatchObject({ delivered: everyMessage.length, droppedMalformed: 0, authFailures: 0 });
  });

  it('drops sends to a peer that is not connected instead of throwing', async () => {
    const a = await transport('a', { ghost: '127.0.0.1:1' });
    a.send('ghost', heartbeat('a', 'ghost'));
    a.send('nobody', heartbeat('a', 'nobody'));
    expect(a.counters.sendDroppedNotConnected).toBe(2);
  });

  it('rejects a member with the wrong secret: nothing is delivered either way', async () => {
    const a = await transport('a', {});
    const b = await transport('b', { a: `127.0.0.1:${a.port()}` }, { secret: 'not the secret' });
    a.setPeer('b', `127.0.0.1:${b.port()}`);
    const delivered: RaftMessage[] = [];
    a.onMessage((_from, message) => delivered.push(message));
    b.onMessage((_from, message) => delivered.push(message));
    // Both sides see failed handshakes (each dials the other and redials with back-off).
    await eventually(() => a.counters.authFailures >= 2 && b.counters.authFailures >= 2, { timeoutMs: 5000, what: 'handshakes rejected on both sides' });
    a.send('b', heartbeat('a', 'b'));
    b.send('a', heartbeat('b', 'a'));
    expect(a.connectedPeers()).toEqual([]);
    expect(b.connectedPeers()).toEqual([]);
    expect(a.inboundPeers()).toEqual([]);
    expect(delivered).toEqual([]);
    expect(a.counters.sendDroppedNotConnected + b.counters.sendDroppedNotConnected).toBe(2);
  });

  it('refuses to connect to a member that answers with another id', async () => {
    const b = await transport('b', {});
    const a = await transport('a', { c: `127.0.0.1:${b.port()}` });
    await eventually(() => a.counters.authFailures >= 1, { timeoutMs: 5000, what: 'a notices b is not c' });
    expect(a.connectedPeers()).toEqual([]);
  });

  it('drops and counts frames from an unauthenticated client and closes it', async () => {
    const b = await transport('b', {});
    const delivered: RaftMessage[] = [];
    b.onMessage((_from, message) => delivered.push(message));
    const socket = await rawClient(b.port());
    socket.send(JSON.stringify(heartbeat('a', 'b')));
    expect(await closed(socket)).toBe(1008);
    expect(b.counters.droppedUnauthenticated).toBe(1);

    // A forged proof (wrong secret) is an auth failure, not a way in.
    await expect(rawClient(b.port(), { id: 'a', serverId: 'b', secret: 'guess' })).rejects.toThrow('closed with 1008');
    expect(b.counters.authFailures).toBe(1);
    expect(delivered).toEqual([]);
  });

  it('closes a connection that never authenticates', async () => {
    const b = await transport('b', {}, { authTimeoutMs: 200 });
    const socket = await rawClient(b.port());
    await closed(socket);
    expect(b.counters.authTimeouts).toBe(1);
  });

  it('refuses connections beyond the handshake limit while strangers hold the others', async () => {
    const b = await transport('b', {}, { maxPendingHandshakes: 2 });
    await rawClient(b.port());
    await rawClient(b.port());
    await expect(rawClient(b.port())).rejects.toThrow('closed with 1006');
    expect(b.counters.handshakesRefused).toBe(1);
    // An authenticated peer frees its slot, so the limit only bounds strangers.
    for (const socket of rawSockets.splice(0)) socket.terminate();
    await eventually(async () => {
      const socket = await rawClient(b.port(), { id: 'a', serverId: 'b', secret: SECRET });
      rawSockets.push(socket);
      return true;
    }, { timeoutMs: 5000, what: 'a slot frees up after strangers leave' });
  });

  it('drops and counts garbage and schema-violating frames from an authenticated peer, then keeps working', async () => {
    const b = await transport('b', {});
    const delivered: [string, RaftMessage][] = [];
    b.onMessage((from, message) => delivered.push([from, message]));
    const socket = await rawClient(b.port(), { id: 'a', serverId: 'b', secret: SECRET });
    socket.send('this is not json {');
    socket.send(Buffer.from([0, 1, 2, 3]), { binary: true });
    socket.send(JSON.stringify({ type: 'heartbeat', term: 'one', from: 'a', to: 'b', commitIndex: 0 }));
    socket.send(JSON.stringify({ __proto__: { polluted: true }, type: 'append-entries' }));
    socket.send(JSON.stringify(heartbeat('mallory', 'b'))); // spoofed sender
    socket.send(JSON.stringify(heartbeat('a', 'someone-else')));
    socket.send(JSON.stringify(heartbeat('a', 'b', 9)));
    await eventually(() => delivered.length === 1, { timeoutMs: 5000, what: 'the one good frame delivered' });
    expect(delivered).toEqual([['a', heartbeat('a', 'b', 9)]]);
    expect(b.counters).toMatchObject({ droppedMalformed: 4, droppedMisaddressed: 2, delivered: 1 });
    expect(socket.readyState).toBe(WebSocket.OPEN);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('drops an oversized frame from an authenticated peer, closes that connection, and stays alive', async () => {
    // A small limit so the test need not send 64 MiB; what strangers may send is tested with the defaults below.
    const b = await transport('b', {}, { maxPayloadBytes: 4096 });
    const delivered: RaftMessage[] = [];
    b.onMessage((_from, message) => delivered.push(message));
    const socket = await rawClient(b.port(), { id: 'a', serverId: 'b', secret: SECRET });
    socket.send(JSON.stringify({ ...heartbeat('a', 'b'), padding: 'x'.repeat(10_000) }));
    expect(await closed(socket)).toBe(1009); // ws: message too big
    await eventually(() => b.counters.droppedOversized === 1, { timeoutMs: 5000, what: 'oversized frame counted' });
    expect(delivered).toEqual([]);
    // And the transport still accepts a well-behaved peer.
    const good = await rawClient(b.port(), { id: 'a', serverId: 'b', secret: SECRET });
    good.send(JSON.stringify(heartbeat('a', 'b', 4)));
    await eventually(() => delivered.length === 1, { timeoutMs: 5000, what: 'delivery after oversized frames' });
  });

  it('reconnects after a peer restarts on the same port', async () => {
    const b1 = await transport('b', {});
    const port = b1.port();
    const a = await transport('a', { b: `127.0.0.1:${port}` });
    await eventually(() => a.connectedPeers().includes('b'), { timeoutMs: 5000, what: 'a connected to b' });
    await b1.close();
    open.splice(open.indexOf(b1), 1);
    await eventually(() => !a.connectedPeers().includes('b'), { timeoutMs: 5000, what: 'a notices b went away' });
    a.send('b', heartbeat('a', 'b'));
    expect(a.counters.sendDroppedNotConnected).toBe(1);

    const b2 = await transport('b', {}, { port });
    const received: RaftMessage[] = [];
    b2.onMessage((_from, message) => received.push(message));
    await eventually(() => a.connectedPeers().includes('b'), { timeoutMs: 5000, what: 'a reconnected to restarted b' });
    a.send('b', heartbeat('a', 'b', 5));
    await eventually(() => received.length === 1, { timeoutMs: 5000, what: 'message after reconnect' });
    expect(a.counters.dialAttempts).toBeGreaterThan(2);
  });
});

/** libuv hands a socket's input over at most this much per 'data' event. */
const ONE_SOCKET_READ = 64 * 1024;
const MIB = 1024 * 1024;

/** A WebSocket server at a member's address that is not a member: it does whatever `onConnection` says. */
async function fakeMember(onConnection: (socket: WebSocket) => void): Promise<number> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/raft' });
  fakeServers.push(server);
  server.on('connection', onConnection);
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

const snapshotOf = (from: string, to: string, bytes: number): RaftMessage => ({
  type: 'install-snapshot', term: 3, from, to,
  snapshot: { lastIncludedIndex: 40, lastIncludedTerm: 3, membership: { voters: ['a', 'b'], learners: [] }, data: 'x'.repeat(bytes) },
});

describe('ws transport: what a peer may send before it authenticates (default limits)', () => {
  it('cuts a stranger that sends a 1 MiB frame, having read no more than the limit and one socket read of it', async () => {
    const b = await transport('b', {});
    const stranger = await rawClient(b.port());
    expect(b.counters.unauthenticatedBytesRead).toBe(0);
    stranger.send('y'.repeat(MIB));
    expect(await closed(stranger)).toBe(1006); // cut at the TCP level: no close frame for a stranger
    expect(b.counters.unauthenticatedOverLimit).toBe(1);
    expect(b.counters.unauthenticatedBytesRead).toBeGreaterThan(MAX_UNAUTHENTICATED_BYTES);
    expect(b.counters.unauthenticatedBytesRead).toBeLessThanOrEqual(MAX_UNAUTHENTICATED_BYTES + ONE_SOCKET_READ);
    expect(b.counters).toMatchObject({ delivered: 0, droppedUnauthenticated: 0, authFailures: 0 });
    // Its handshake slot is free again: with a limit of one, an honest peer still gets in.
    const c = await transport('c', {}, { maxPendingHandshakes: 1 });
    const cutFirst = await rawClient(c.port());
    cutFirst.send('y'.repeat(MIB));
    await closed(cutFirst);
    await eventually(async () => {
      rawSockets.push(await rawClient(c.port(), { id: 'a', serverId: 'c', secret: SECRET }));
      return true;
    }, { timeoutMs: 5000, what: 'an honest peer authenticates after the stranger is cut' });
  });

  it('cuts a stranger that floods frames too small for any frame limit (pings)', async () => {
    const b = await transport('b', {});
    const stranger = await rawClient(b.port());
    for (let i = 0; i < 100; i++) stranger.ping(Buffer.alloc(100));
    expect(await closed(stranger)).toBe(1006);
    expect(b.counters.unauthenticatedOverLimit).toBe(1);
    expect(b.counters.unauthenticatedBytesRead).toBeLessThanOrEqual(MAX_UNAUTHENTICATED_BYTES + ONE_SOCKET_READ);
  });

  // A 1 MiB frame meets the dialer's handshake frame limit first; pings slip under any frame limit
  // and only the byte count stops them. Each case names the guard that must have fired.
  it.each([
    ['a 1 MiB frame', (socket: WebSocket): void => socket.send('z'.repeat(MIB)), 'droppedOversized' as const],
    ['a flood of pings', (socket: WebSocket): void => {
      for (let i = 0; i < 100; i++) socket.ping(Buffer.alloc(100));
    }, 'unauthenticatedOverLimit' as const],
  ])('cuts a dialed address that sends %s before proving it is the member', async (_what, flood, guard) => {
    const connections: WebSocket[] = [];
    const port = await fakeMember((socket) => {
      connections.push(socket);
      if (connections.length === 1) flood(socket);
    });
    const a = await transport('a', { b: `127.0.0.1:${port}` });
    await eventually(() => connections.length >= 1, { timeoutMs: 5000, what: 'a dials the fake member' });
    await closed(connections[0]!);
    expect(a.counters[guard]).toBe(1);
    expect(a.counters.unauthenticatedBytesRead).toBeLessThanOrEqual(MAX_UNAUTHENTICATED_BYTES + ONE_SOCKET_READ);
    expect(a.connectedPeers()).toEqual([]);
  });

  it('still lets authenticated members exchange a 1 MiB message both ways', async () => {
    const a = await transport('a', {});
    const b = await transport('b', { a: `127.0.0.1:${a.port()}` });
    a.setPeer('b', `127.0.0.1:${b.port()}`);
    const atA: RaftMessage[] = [];
    const atB: RaftMessage[] = [];
    a.onMessage((_from, message) => atA.push(message));
    b.onMessage((_from, message) => atB.push(message));
    await eventually(() => a.connectedPeers().includes('b') && b.connectedPeers().includes('a'), { timeoutMs: 5000, what: 'a and b connected' });
    a.send('b', snapshotOf('a', 'b', MIB));
    b.send('a', snapshotOf('b', 'a', MIB));
    await eventually(() => atA.length === 1 && atB.length === 1, { timeoutMs: 5000, what: 'both snapshots delivered' });
    expect(atB).toEqual([snapshotOf('a', 'b', MIB)]);
    expect(atA).toEqual([snapshotOf('b', 'a', MIB)]);
    for (const member of [a, b]) expect(member.counters).toMatchObject({ unauthenticatedOverLimit: 0, droppedOversized: 0, socketErrors: 0 });
  });
});

/** Polls on the check phase, which fake setTimeout leaves alone, until `check` holds. */
async function untilImmediate(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('ws transport reconnect', () => {
  it('redials on the back-off schedule, its jitter drawn from the injected Random', async () => {
    // A port that accepts and hangs up at once, so every dial fails fast and for real.
    const refusing = createServer((socket) => socket.destroy());
    fakeServers.push(refusing);
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const port = (refusing.address() as { port: number }).port;
    let draws = 0;
    const random: Random = {
      next: () => {
        draws++;
        return 0.5; // three quarters of the ceiling
      },
      int: () => 0,
    };
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const a = await startRaftWsTransport({ self: 'a', listenPort: 0, peers: { b: `127.0.0.1:${port}` }, secret: SECRET, backoff: { initialDelayMs: 100, maxDelayMs: 400 }, random });
      open.push(a);
      // Ceilings 100, 200, 400, then capped at 400.
      for (const delayMs of [75, 150, 300, 300]) {
        const dials = a.counters.dialAttempts;
        await untilImmediate(() => draws === dials, `dial ${dials} fails and schedules its redial`);
        vi.advanceTimersByTime(delayMs - 1);
        expect(a.counters.dialAttempts).toBe(dials);
        vi.advanceTimersByTime(1);
        expect(a.counters.dialAttempts).toBe(dials + 1);
      }
      await a.close();
    } finally {
      vi.useRealTimers();
    }
  });
});
