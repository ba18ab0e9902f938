/**
 * The cluster port of every simulated daemon: peer RPCs (heartbeats, forwarded submits, relayed
 * worker beats) and worker session connections, carried on the virtual clock over the same link
 * state as the Raft mesh (SimNetwork's partitions, one-way cuts, isolation) with seeded delays.
 *
 * - An RPC is a request and an answer; either is lost when its direction's link is down (or by
 *   the network's drop rate), and the caller then times out, as over a cut TCP connection.
 * - A session is a TCP connection: frames arrive in order, exactly once; while a direction's link
 *   is down its frames wait (retransmission) and flow again after the heal. A crashed process's
 *   connections reset: its peer sees the close once a packet can reach it.
 * RPCs are not signed here (peer-auth has its own tests); sessions run their real handshake:
 * the worker's signed headers, the manager's proof.
 */
import { PeerRpcError, type PeerRoute } from '../cluster-mode/peer-rpc.ts';
import type { SessionAdmission, SessionSocket } from '../cluster-mode/worker/session-socket.ts';
import type { NodeId } from '../raft/types.ts';
import type { SeededRandom } from './seeded-random.ts';
import type { NetworkFaults } from './sim-network.ts';
import type { VirtualClock } from './virtual-clock.ts';

export interface SimPeerLinksOptions {
  readonly clock: VirtualClock;
  readonly random: SeededRandom;
  readonly linkUp: (from: NodeId, to: NodeId) => boolean;
  readonly faults: () => Readonly<NetworkFaults>;
  /** True time until which a process is frozen (its deliveries wait). */
  readonly pausedUntilMs: (id: NodeId) => number;
}

/** One incarnation's listener: crashing the process closes it. */
export interface SimServer {
  readonly routes: Map<string, PeerRoute>;
  readonly sessions: Map<string, SessionAdmission>;
}

/** Retransmission period for frames held by a down link. */
const RETRY_MS = 100;

export function nodeOfAddress(address: string): NodeId {
  return address.split(':')[0] ?? address;
}

export class SimPeerLinks {
  private readonly servers = new Map<NodeId, SimServer>();
  private readonly sockets = new Map<NodeId, Set<SimSocket>>();

  constructor(private readonly options: SimPeerLinksOptions) {}

  /** Opens `id`'s cluster port for a new incarnation (replacing any earlier one). */
  serve(id: NodeId): SimServer {
    const server: SimServer = { routes: new Map(), sessions: new Map() };
    this.servers.set(id, server);
    return server;
  }

  /** The process died: its port closes and every connection it held resets. */
  crash(id: NodeId): void {
    this.servers.delete(id);
    for (const socket of this.sockets.get(id) ?? []) socket.reset();
    this.sockets.delete(id);
  }

  call<T>(from: NodeId, address: string, path: string, body: unknown, timeoutMs = 10_000): Promise<T> {
    const to = nodeOfAddress(address);
    const { clock } = this.options;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        clock.clearTimeout(timer);
        outcome();
      };
      const timer = clock.setTimeout(() => settle(() => reject(new PeerRpcError('peer_unreachable', `cannot reach ${address}: timed out after ${timeoutMs} ms`, 503))), timeoutMs);
      const request = structuredClone(body);
      this.carry(from, to, () => {
        const server = this.servers.get(to);
        const route = server?.routes.get(path);
        const answer = (outcome: () => void): void => this.carry(to, from, () => settle(outcome));
        if (!server) return answer(() => reject(new PeerRpcError('peer_unreachable', `cannot reach ${address}: connection refused`, 503)));
        if (!route) return answer(() => reject(new PeerRpcError('not_found', `no route ${path}`, 404)));
        route.handle(request, from).then(
          (value) => {
            const copy = structuredClone(value) as T;
            answer(() => resolve(copy));
          },
          (error: unknown) => {
            const failure = error instanceof PeerRpcError ? new PeerRpcError(error.code, error.message, error.status) : new PeerRpcError('internal', String(error), 500);
            answer(() => reject(failure));
          },
        );
      });
    });
  }

  /** A worker's session dialer (the SessionDialer seam) for node `from`. */
  dialer(from: NodeId): (address: string, path: string, headers: Readonly<Record<string, string>>) => SessionSocket {
    return (address, path, headers) => {
      const to = nodeOfAddress(address);
      const client = this.socket(from, to);
      // The handshake needs both directions: a dead link fails it at the handshake timeout.
      const failAfter = this.options.clock.setTimeout(() => client.fail(new Error('handshake timed out')), 10_000);
      this.carry(from, to, () => {
        const admit = this.servers.get(to)?.sessions.get(path);
        const decision = admit ? admit((name) => headers[name]) : 404;
        this.carry(to, from, () => {
          this.options.clock.clearTimeout(failAfter);
          if (client.closed) return;
          if (typeof decision === 'number') return client.fail(new Error(`manager answered ${decision}`));
          if (!this.servers.has(to)) return client.fail(new Error('connection reset'));
          const server = this.socket(to, from);
          client.peer = server;
          server.peer = client;
          decision(server);
          client.flush();
        });
      });
      return client;
    };
  }

  private socket(self: NodeId, remote: NodeId): SimSocket {
    const socket = new SimSocket(self, remote, this);
    let mine = this.sockets.get(self);
    if (!mine) this.sockets.set(self, (mine = new Set()));
    mine.add(socket);
    return socket;
  }

  /** @internal forgets a closed socket. */
  release(socket: SimSocket): void {
    this.sockets.get(socket.self)?.delete(socket);
  }

  /** @internal one packet's trip: delayed, lost when the link is down or by the drop rate. */
  carry(from: NodeId, to: NodeId, arrive: () => void): void {
    const faults = this.options.faults();
    if (!this.options.linkUp(from, to) || this.options.random.chance(faults.dropRate)) return;
    this.options.clock.setTimeout(() => this.arrive(from, to, arrive), this.delayMs());
  }

  /** @internal now, on the shared clock. */
  nowMs(): number {
    return this.options.clock.nowMs();
  }

  /** @internal one trip's latency. */
  tripMs(): number {
    return this.delayMs();
  }

  /**
   * @internal delivers at `atMs` or, while the link is down, at the first retransmission after it
   * is up again; a frozen receiver reads it when it resumes. Calls `done` once delivered.
   */
  deliverReliably(from: NodeId, to: NodeId, atMs: number, deliver: () => void): void {
    const { clock } = this.options;
    const attempt = (): void => {
      if (!this.options.linkUp(from, to)) return void clock.setTimeout(attempt, RETRY_MS);
      const resumeAtMs = this.options.pausedUntilMs(to);
      if (resumeAtMs > clock.nowMs()) return void clock.setTimeout(attempt, resumeAtMs - clock.nowMs());
      deliver();
    };
    clock.setTimeout(attempt, Math.max(0, atMs - clock.nowMs()));
  }

  /** @internal an event in `id`'s own process, on the next turn (after any pause). */
  local(id: NodeId, run: () => void): void {
    const { clock } = this.options;
    const later = (): void => {
      const resumeAtMs = this.options.pausedUntilMs(id);
      if (resumeAtMs > clock.nowMs()) clock.setTimeout(later, resumeAtMs - clock.nowMs());
      else run();
    };
    clock.setTimeout(later, 0);
  }

  private arrive(from: NodeId, to: NodeId, deliver: () => void): void {
    const { clock } = this.options;
    const resumeAtMs = this.options.pausedUntilMs(to);
    if (resumeAtMs > clock.nowMs()) {
      clock.setTimeout(() => this.arrive(from, to, deliver), resumeAtMs - clock.nowMs());
      return;
    }
    if (!this.options.linkUp(from, to)) return;
    deliver();
  }

  private delayMs(): number {
    const { minDelayMs, maxDelayMs } = this.options.faults();
    return minDelayMs + this.options.random.next() * (maxDelayMs - minDelayMs);
  }
}

/** One end of a simulated session connection. */
class SimSocket implements SessionSocket {
  peer: SimSocket | undefined;
  closed = false;
  private readonly messageListeners: ((text: string | undefined) => void)[] = [];
  private readonly closeListeners: (() => void)[] = [];
  private readonly errorListeners: ((error: unknown) => void)[] = [];
  /** Frames sent before the connection opened (the client may not send any, but be safe). */
  private held: string[] = [];
  /** What is on the wire towards the peer, in order: a frame, or the connection's end. */
  private readonly outbox: { readonly atMs: number; readonly arrive: () => void }[] = [];
  private pumping = false;

  constructor(readonly self: NodeId, readonly remote: NodeId, private readonly links: SimPeerLinks) {}

  isOpen(): boolean {
    return !this.closed && this.peer !== undefined;
  }

  bufferedBytes(): number {
    return 0;
  }

  send(text: string): void {
    if (this.closed) return;
    if (!this.peer) {
      this.held.push(text);
      return;
    }
    const peer = this.peer;
    this.enqueue(() => peer.receive(text));
  }

  close(): void {
    this.end(true);
  }

  terminate(): void {
    this.end(true);
  }

  onMessage(listener: (text: string | undefined) => void): void {
    this.messageListeners.push(listener);
  }

  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  onError(listener: (error: unknown) => void): void {
    this.errorListeners.push(listener);
  }

  /** @internal the connection never opened. */
  fail(error: unknown): void {
    if (this.closed) return;
    for (const listener of [...this.errorListeners]) listener(error);
    this.end(false);
  }

  /** @internal the owning process crashed: no close event here (it is gone); the peer hears a reset. */
  reset(): void {
    if (this.closed) return;
    this.closed = true;
    this.links.release(this);
    this.tellPeer();
  }

  /** @internal sends what was held before the open. */
  flush(): void {
    const held = this.held;
    this.held = [];
    for (const text of held) this.send(text);
  }

  private receive(text: string): void {
    if (this.closed) return;
    for (const listener of [...this.messageListeners]) listener(text);
  }

  private end(tell: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.links.release(this);
    if (tell) this.tellPeer();
    // Asynchronously, as a socket's close event is.
    this.links.local(this.self, () => this.closeListeners.splice(0).forEach((listener) => listener()));
  }

  private tellPeer(): void {
    const peer = this.peer;
    if (peer) this.enqueue(() => peer.end(false));
  }

  /** TCP: one byte stream per direction, delivered in the order sent, whatever the link does. */
  private enqueue(arrive: () => void): void {
    this.outbox.push({ atMs: this.links.nowMs() + this.links.tripMs(), arrive });
    this.pump();
  }

  private pump(): void {
    const head = this.outbox[0];
    if (this.pumping || !head) return;
    this.pumping = true;
    this.links.deliverReliably(this.self, this.remote, head.atMs, () => {
      this.outbox.shift();
      this.pumping = false;
      head.arrive();
      this.pump();
    });
  }
}
