import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { cryptoRandom } from '../crypto-random.ts';
import type { Random } from '../../seams/random.ts';
import type { NodeId, Transport } from '../../seams/transport.ts';
import { backoffDelayMs, type BackoffOptions } from './backoff.ts';
import {
  clientProof, MAX_HANDSHAKE_FRAME_BYTES, newNonce, parseChallenge, parseHello, parseWelcome, proofsMatch, PROTOCOL, serverProof,
  type Challenge, type Hello, type Welcome,
} from './handshake.ts';
import type { FrameValidation } from './raft-message-schema.ts';
import { zeroCounters, type TransportCounters } from './transport-counters.ts';
import { limitUnauthenticatedInput, MAX_UNAUTHENTICATED_BYTES } from './unauthenticated-input.ts';

/** The subset of a pino logger the transport uses. */
export interface TransportLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  debug(object: object, message: string): void;
}

export interface WsTransportOptions<M> {
  readonly self: NodeId;
  /** Loopback unless told otherwise: exposing the port is an explicit choice. */
  readonly listenHost?: string;
  /** 0 picks a free port; read it back with `port()`. Ignored with `httpServer`. */
  readonly listenPort: number;
  /**
   * An already listening HTTP server to share: the mesh then answers WebSocket upgrades on its
   * `/raft` path and leaves every other request to the server's owner (the cluster's peer RPC),
   * so a node exposes one cluster port. The owner closes the server.
   */
  readonly httpServer?: Server;
  /** Peer id → "host:port". Our own id, if present, is ignored. */
  readonly peers: Readonly<Record<NodeId, string>>;
  readonly secret: string;
  /** Schema check of every decoded frame. */
  readonly validate: (value: unknown) => FrameValidation<M>;
  /** Sender and recipient named inside a message; checked against the authenticated peer. */
  readonly addressOf?: (message: M) => { readonly from: NodeId; readonly to: NodeId };
  /**
   * Largest frame accepted from an authenticated peer; a bigger one closes the connection (ws
   * answers 1009). Before authenticating, a peer may send MAX_UNAUTHENTICATED_BYTES in all.
   */
  readonly maxPayloadBytes?: number;
  /** An unauthenticated connection is closed after this long. */
  readonly authTimeoutMs?: number;
  /** Connections still handshaking beyond this many are closed at once (bounds what strangers can hold). */
  readonly maxPendingHandshakes?: number;
  readonly backoff?: BackoffOptions;
  /** An authenticated connection that answers no ping for this long is closed and redialed. */
  readonly deadAfterMs?: number;
  /** send() drops a message while this much is already queued on the socket. */
  readonly maxBufferedBytes?: number;
  readonly random?: Random;
  readonly logger?: TransportLogger;
}

export const RAFT_WS_PATH = '/raft';
const PATH = RAFT_WS_PATH;
const DEFAULTS = {
  listenHost: '127.0.0.1',
  // Large because an InstallSnapshot carries the whole snapshot in one frame (src/raft/messages.ts);
  // only authenticated peers get this far (see unauthenticated-input.ts).
  maxPayloadBytes: 64 * 1024 * 1024,
  authTimeoutMs: 2000,
  maxPendingHandshakes: 32,
  // Capped at 1 s: a healed link is found again within a second (failover's heal bound is 2 s).
  backoff: { initialDelayMs: 50, maxDelayMs: 1000 },
  deadAfterMs: 1500,
  maxBufferedBytes: 32 * 1024 * 1024,
};

const silentLogger: TransportLogger = { info: () => undefined, warn: () => undefined, debug: () => undefined };

interface OutboundPeer {
  readonly id: NodeId;
  address: string;
  socket: WebSocket | undefined;
  authenticated: boolean;
  attempt: number;
  redialTimer: ReturnType<typeof setTimeout> | undefined;
}

function rawToText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** The TCP socket under a ws connection (ws keeps it in `_socket`), to batch several frames in one write. */
function rawSocketOf(socket: WebSocket | undefined): { cork(): void; uncork(): void } | undefined {
  if (!socket || socket.readyState !== WebSocket.OPEN) return undefined;
  const raw = (socket as unknown as { _socket?: { cork?: unknown; uncork?: unknown } })._socket;
  return raw && typeof raw.cork === 'function' && typeof raw.uncork === 'function' ? (raw as { cork(): void; uncork(): void }) : undefined;
}

function rawLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, part) => sum + part.length, 0);
  return data.byteLength;
}

export class TransportStartError extends Error {
  readonly code = 'TRANSPORT_LISTEN_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransportStartError';
  }
}

/**
 * Transport over WebSockets. Each member listens for its peers and dials each of them; a member
 * sends on the connection it dialed and receives on the connections it accepted, so there is
 * never a race over which of two connections between a pair wins. Both directions authenticate
 * with the cluster secret (see handshake.ts) before any message moves. Nothing a peer sends can
 * throw out of here: bad frames are dropped and counted.
 */
export class WsTransport<M> implements Transport<M> {
  readonly self: NodeId;
  readonly counters: TransportCounters = zeroCounters();

  private readonly options: WsTransportOptions<M>;
  private readonly maxPayloadBytes: number;
  private readonly authTimeoutMs: number;
  private readonly backoff: BackoffOptions;
  private readonly deadAfterMs: number;
  private readonly maxBufferedBytes: number;
  private readonly random: Random;
  private readonly logger: TransportLogger;
  private readonly server: WebSocketServer;
  private readonly outbound = new Map<NodeId, OutboundPeer>();
  private readonly inbound = new Map<NodeId, WebSocket>();
  private readonly accepted = new Set<WebSocket>();
  private handler: ((from: NodeId, message: M) => void) | undefined;
  private closed = false;
  private pendingHandshakes = 0;

  private constructor(options: WsTransportOptions<M>, server: WebSocketServer) {
    this.options = options;
    this.self = options.self;
    this.maxPayloadBytes = options.maxPayloadBytes ?? DEFAULTS.maxPayloadBytes;
    this.authTimeoutMs = options.authTimeoutMs ?? DEFAULTS.authTimeoutMs;
    this.backoff = options.backoff ?? DEFAULTS.backoff;
    this.deadAfterMs = options.deadAfterMs ?? DEFAULTS.deadAfterMs;
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULTS.maxBufferedBytes;
    this.random = options.random ?? cryptoRandom;
    this.logger = options.logger ?? silentLogger;
    this.server = server;
    server.on('connection', (socket, request) => this.accept(socket, request));
    server.on('error', (error) => this.logger.warn({ err: error }, 'raft transport server error'));
    for (const [id, address] of Object.entries(options.peers)) if (id !== this.self) this.setPeer(id, address);
  }

  /** Listens, then starts dialing every peer. Rejects with a clear error when the port is taken. */
  static async start<M>(options: WsTransportOptions<M>): Promise<WsTransport<M>> {
    if (options.secret.length === 0) throw new TransportStartError('the cluster secret is empty; every member needs the same non-empty secret');
    const maxPayload = options.maxPayloadBytes ?? DEFAULTS.maxPayloadBytes;
    if (options.httpServer) {
      // noServer: ws's own `server` mode answers 400 to every upgrade on another path, which would
      // refuse the other WebSockets of the cluster port (worker sessions). Only /raft is taken here.
      const shared = new WebSocketServer({ noServer: true, maxPayload, perMessageDeflate: false, clientTracking: false });
      const httpServer = options.httpServer;
      const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
        if ((request.url ?? '').split('?')[0] !== PATH) return;
        shared.handleUpgrade(request, socket, head, (ws) => shared.emit('connection', ws, request));
      };
      httpServer.on('upgrade', onUpgrade);
      shared.once('close', () => httpServer.off('upgrade', onUpgrade));
      return new WsTransport(options, shared);
    }
    const host = options.listenHost ?? DEFAULTS.listenHost;
    const server = new WebSocketServer({ host, port: options.listenPort, path: PATH, maxPayload, perMessageDeflate: false, clientTracking: false });
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => {
        server.off('listening', onListening);
        reject(new TransportStartError(`raft transport of ${options.self} cannot listen on ${host}:${options.listenPort}: ${error.message}`, { cause: error }));
      };
      const onListening = (): void => {
        server.off('error', onError);
        resolve();
      };
      server.once('error', onError);
      server.once('listening', onListening);
    });
    return new WsTransport(options, server);
  }

  /** The bound port (useful with listenPort 0). */
  port(): number {
    const address = this.options.httpServer ? this.options.httpServer.address() : this.server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** Peers we can send to right now. */
  connectedPeers(): NodeId[] {
    return [...this.outbound.values()].filter((peer) => peer.authenticated).map((peer) => peer.id);
  }

  /** Peers whose authenticated connection to us is open. */
  inboundPeers(): NodeId[] {
    return [...this.inbound.keys()];
  }

  onMessage(handler: (from: NodeId, message: M) => void): () => void {
    this.handler = handler;
    return () => {
      if (this.handler === handler) this.handler = undefined;
    };
  }

  /**
   * Queues the message; everything queued during this turn of the event loop leaves together in
   * the check phase (setImmediate), each peer's frames in one corked write. So what the caller does
   * right after sending (a leader answering its client once an entry commits) is not held up behind
   * loopback writes, which on a busy machine hand the CPU to the receiving member mid-call, and a
   * burst to one peer costs one syscall instead of one per message. Order per peer is kept.
   */
  send(to: NodeId, message: M): void {
    // Refuse at once what cannot go (counted now, so callers see it); the rest is checked again on flush.
    if (!this.writable(to)) return;
    this.queued.push({ to, message });
    if (this.queued.length === 1) setImmediate(this.flushQueued);
  }

  private readonly queued: { readonly to: NodeId; readonly message: M }[] = [];

  private readonly flushQueued = (): void => {
    const batch = this.queued.splice(0);
    if (this.closed) return;
    const corked = new Set<{ cork(): void; uncork(): void }>();
    for (const { to, message } of batch) {
      const raw = rawSocketOf(this.outbound.get(to)?.socket);
      if (raw && !corked.has(raw)) {
        raw.cork();
        corked.add(raw);
      }
      this.sendNow(to, message);
    }
    for (const raw of corked) raw.uncork();
  };

  private sendNow(to: NodeId, message: M): void {
    if (!this.writable(to)) return;
    this.outbound.get(to)!.socket!.send(JSON.stringify(message));
    this.counters.sent++;
  }

  /** True when a message to `to` can be written now; otherwise counts why it is dropped. */
  private writable(to: NodeId): boolean {
    const peer = this.outbound.get(to);
    const socket = peer?.socket;
    if (!peer?.authenticated || !socket || socket.readyState !== WebSocket.OPEN) {
      this.counters.sendDroppedNotConnected++;
      return false;
    }
    if (socket.bufferedAmount > this.maxBufferedBytes) {
      this.counters.sendDroppedBackpressure++;
      return false;
    }
    return true;
  }

  /** Adds a peer or changes its address (membership changes); redials at once. */
  setPeer(id: NodeId, address: string): void {
    if (this.closed || id === this.self) return;
    const existing = this.outbound.get(id);
    if (existing) {
      if (existing.address === address) return;
      existing.address = address;
      existing.socket?.terminate();
      return;
    }
    const peer: OutboundPeer = { id, address, socket: undefined, authenticated: false, attempt: 0, redialTimer: undefined };
    this.outbound.set(id, peer);
    this.dial(peer);
  }

  removePeer(id: NodeId): void {
    const peer = this.outbound.get(id);
    if (!peer) return;
    this.outbound.delete(id);
    clearTimeout(peer.redialTimer);
    peer.socket?.terminate();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handler = undefined;
    for (const id of [...this.outbound.keys()]) this.removePeer(id);
    for (const socket of this.accepted) socket.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- outbound: dial, authenticate the server, then send on this socket ----

  private dial(peer: OutboundPeer): void {
    if (this.closed || this.outbound.get(peer.id) !== peer) return;
    peer.redialTimer = undefined;
    this.counters.dialAttempts++;
    const url = `ws://${peer.address}${PATH}`;
    // The accepting side only ever sends handshake frames (messages come back on the connection
    // it dials), so the handshake frame limit holds for the life of this socket; before the server
    // has proven itself, its total input is capped too (pings and fragments slip under maxPayload).
    const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: MAX_HANDSHAKE_FRAME_BYTES, handshakeTimeout: this.authTimeoutMs });
    peer.socket = socket;
    peer.authenticated = false;
    let challenge: Challenge | undefined;
    let clientNonce = '';
    let releaseInput = (): void => undefined;
    let raw: Socket | undefined;
    socket.once('upgrade', (response) => {
      raw = response.socket;
    });
    // Not on 'upgrade': a 'data' listener there would start the flow before ws listens and take the
    // first frames from it. 'open' comes once ws listens, but before it has been handed any bytes.
    socket.once('open', () => {
      if (raw) releaseInput = this.limitUnauthenticated(raw, { peer: peer.id, url });
    });
    const authTimer = setTimeout(() => {
      this.counters.authTimeouts++;
      this.logger.warn({ peer: peer.id, url }, 'raft peer did not complete the handshake in time; redialing');
      socket.terminate();
    }, this.authTimeoutMs);

    const fail = (why: string): void => {
      this.counters.authFailures++;
      this.logger.warn({ peer: peer.id, url, why }, 'raft peer failed authentication');
      socket.close(1008, 'authentication failed');
    };

    socket.on('message', (data, isBinary) => {
      if (peer.authenticated) return; // the accepting side sends nothing after "welcome"
      const text = isBinary ? '' : rawToText(data);
      if (!challenge) {
        challenge = parseChallenge(text);
        if (!challenge) return fail('malformed challenge');
        if (challenge.serverId !== peer.id) return fail(`expected member ${peer.id} at ${peer.address} but ${challenge.serverId} answered`);
        clientNonce = newNonce();
        const hello: Hello = { kind: 'hello', clientId: this.self, serverId: peer.id, clientNonce, proof: clientProof(this.options.secret, challenge.serverNonce, clientNonce, this.self, peer.id) };
        socket.send(JSON.stringify(hello));
        return;
      }
      const welcome = parseWelcome(text);
      if (!welcome || !proofsMatch(serverProof(this.options.secret, challenge.serverNonce, clientNonce, peer.id, this.self), welcome.proof)) return fail('server proof does not match the cluster secret');
      clearTimeout(authTimer);
      releaseInput();
      peer.authenticated = true;
      peer.attempt = 0;
      this.counters.outboundAuthenticated++;
      this.logger.info({ peer: peer.id, url }, 'raft peer connected');
      this.watchLiveness(peer, socket);
    });
    socket.on('error', (error) => this.countSocketError(error, { peer: peer.id, url, maxPayloadBytes: MAX_HANDSHAKE_FRAME_BYTES }));
    socket.on('close', () => {
      clearTimeout(authTimer);
      releaseInput();
      if (peer.socket !== socket) return;
      if (peer.authenticated) this.logger.info({ peer: peer.id }, 'raft peer disconnected');
      peer.socket = undefined;
      peer.authenticated = false;
      this.scheduleRedial(peer);
    });
  }

  /**
   * A cut cable closes no TCP connection: the socket stays "open" while the kernel retransmits
   * with growing back-off, so after a heal the peer would be heard again only when the next
   * retransmission happens to fire (seconds; failover's heal wants stale replicas stopped within
   * 2 s). A ping every third of `deadAfterMs` and no pong for `deadAfterMs` ends the connection,
   * and the redial (with its back-off) finds the link as soon as it is back.
   */
  private watchLiveness(peer: OutboundPeer, socket: WebSocket): void {
    let lastPongMs = Date.now();
    socket.on('pong', () => {
      lastPongMs = Date.now();
    });
    const timer = setInterval(() => {
      if (Date.now() - lastPongMs > this.deadAfterMs) {
        this.logger.info({ peer: peer.id, silentMs: Date.now() - lastPongMs }, 'raft peer silent; closing the connection to redial');
        socket.terminate();
        return;
      }
      socket.ping();
    }, Math.max(10, Math.floor(this.deadAfterMs / 3)));
    timer.unref();
    socket.once('close', () => clearInterval(timer));
  }

  private scheduleRedial(peer: OutboundPeer): void {
    if (this.closed || this.outbound.get(peer.id) !== peer || peer.redialTimer) return;
    const delayMs = backoffDelayMs(peer.attempt++, this.backoff, this.random);
    peer.redialTimer = setTimeout(() => this.dial(peer), delayMs);
  }

  // ---- inbound: challenge the dialer, then receive its messages ----

  private accept(socket: WebSocket, request: IncomingMessage): void {
    if (this.closed) {
      socket.terminate();
      return;
    }
    if (this.pendingHandshakes >= (this.options.maxPendingHandshakes ?? DEFAULTS.maxPendingHandshakes)) {
      this.counters.handshakesRefused++;
      this.logger.warn({ remote: request.socket.remoteAddress }, 'too many unauthenticated raft connections; refusing a new one');
      socket.terminate();
      return;
    }
    this.pendingHandshakes++;
    let handshakePending = true;
    const handshakeOver = (): void => {
      if (!handshakePending) return;
      handshakePending = false;
      this.pendingHandshakes--;
    };
    this.accepted.add(socket);
    const remote = `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`;
    // ws emits 'connection' in the same tick it starts reading frames, so nothing escapes the count.
    const releaseInput = this.limitUnauthenticated(request.socket, { remote });
    const serverNonce = newNonce();
    let peerId: NodeId | undefined;
    const authTimer = setTimeout(() => {
      this.counters.authTimeouts++;
      this.logger.warn({ remote }, 'closing raft connection that did not authenticate in time');
      socket.terminate();
    }, this.authTimeoutMs);
    const challenge: Challenge = { kind: 'challenge', protocol: PROTOCOL, serverId: this.self, serverNonce };
    socket.send(JSON.stringify(challenge));

    socket.on('message', (data, isBinary) => {
      if (peerId === undefined) {
        const hello = isBinary || rawLength(data) > MAX_HANDSHAKE_FRAME_BYTES ? undefined : parseHello(rawToText(data));
        if (!hello) {
          this.counters.droppedUnauthenticated++;
          this.logger.warn({ remote }, 'dropping frame from an unauthenticated raft connection and closing it');
          socket.close(1008, 'authenticate first');
          return;
        }
        const expected = clientProof(this.options.secret, serverNonce, hello.clientNonce, hello.clientId, this.self);
        if (hello.serverId !== this.self || hello.clientId === this.self || !proofsMatch(expected, hello.proof)) {
          this.counters.authFailures++;
          this.logger.warn({ remote, claimed: hello.clientId }, 'raft connection failed authentication (wrong cluster secret or member id)');
          socket.close(1008, 'authentication failed');
          return;
        }
        clearTimeout(authTimer);
        releaseInput();
        handshakeOver();
        peerId = hello.clientId;
        const welcome: Welcome = { kind: 'welcome', proof: serverProof(this.options.secret, serverNonce, hello.clientNonce, this.self, hello.clientId) };
        socket.send(JSON.stringify(welcome));
        const previous = this.inbound.get(peerId);
        if (previous && previous !== socket) previous.close(1000, 'replaced by a newer connection');
        this.inbound.set(peerId, socket);
        this.counters.inboundAuthenticated++;
        return;
      }
      this.receive(peerId, remote, data, isBinary);
    });
    socket.on('error', (error) => this.countSocketError(error, { remote, peer: peerId, maxPayloadBytes: this.maxPayloadBytes }));
    socket.on('close', () => {
      clearTimeout(authTimer);
      releaseInput();
      handshakeOver();
      this.accepted.delete(socket);
      if (peerId !== undefined && this.inbound.get(peerId) === socket) this.inbound.delete(peerId);
    });
  }

  /** Caps what a not-yet-authenticated peer can make us read (see unauthenticated-input.ts); returns the release. */
  private limitUnauthenticated(raw: Socket, context: object): () => void {
    return limitUnauthenticatedInput(raw, MAX_UNAUTHENTICATED_BYTES, {
      read: (bytes) => {
        this.counters.unauthenticatedBytesRead += bytes;
      },
      exceeded: (totalBytes) => {
        this.counters.unauthenticatedOverLimit++;
        this.logger.warn({ ...context, totalBytes, limit: MAX_UNAUTHENTICATED_BYTES }, 'raft connection sent too much before authenticating; cut it');
      },
    });
  }

  private countSocketError(error: Error & { code?: string }, context: object): void {
    if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      this.counters.droppedOversized++;
      this.logger.warn({ ...context, err: error.message }, 'dropping oversized raft frame and closing the connection');
    } else {
      this.counters.socketErrors++;
      this.logger.debug({ ...context, err: error.message }, 'raft connection error');
    }
  }

  private receive(peerId: NodeId, remote: string, data: RawData, isBinary: boolean): void {
    if (isBinary) {
      this.counters.droppedMalformed++;
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(rawToText(data));
    } catch {
      this.counters.droppedMalformed++;
      this.logger.warn({ peer: peerId, remote }, 'dropping raft frame that is not JSON');
      return;
    }
    const checked = this.options.validate(value);
    if (!checked.ok) {
      this.counters.droppedMalformed++;
      this.logger.warn({ peer: peerId, remote, error: checked.error }, 'dropping malformed raft frame');
      return;
    }
    if (this.options.addressOf) {
      const { from, to } = this.options.addressOf(checked.message);
      if (from !== peerId || to !== this.self) {
        this.counters.droppedMisaddressed++;
        this.logger.warn({ peer: peerId, from, to }, 'dropping raft message whose sender or recipient does not match the connection');
        return;
      }
    }
    this.counters.delivered++;
    try {
      this.handler?.(peerId, checked.message);
    } catch (error) {
      // A receiver bug must not take the socket (or the process) down with it.
      this.logger.warn({ peer: peerId, err: error instanceof Error ? error.message : String(error) }, 'raft message handler threw');
    }
  }
}
