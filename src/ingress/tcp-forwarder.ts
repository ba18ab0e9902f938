/**
 * One published TCP port of this node: accepts connections and splices each to a backend, round
 * robin. The backend set is replaced as a whole whenever the ingress table changes: a replica that
 * left it gets no new connection from that moment, while connections it already carries run to
 * their end (the replica's stop grace is theirs). A backend that refuses or does not answer the
 * connect is skipped for the next one before any byte of the client is sent, so a replica that
 * died between two table updates costs a retry, not a failed request.
 */
import net from 'node:net';
import type { Logger } from 'pino';
import type { Backend } from './ingress-table.ts';

export interface TcpForwarderOptions {
  readonly port: number;
  readonly host?: string;
  readonly logger: Logger;
  /** How long a connect to one backend may take before the next is tried. */
  readonly connectTimeoutMs?: number;
}

export class TcpForwarder {
  private backends: readonly Backend[] = [];
  private next = 0;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  connections = 0;
  failedConnections = 0;

  constructor(private readonly options: TcpForwarderOptions) {
    // Half-open both ways: a client that finished sending still reads the whole answer.
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => this.accept(client));
  }

  /** Listens; rejects with the socket error (EADDRINUSE, EACCES) for the caller to report. */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.server.once('error', onError);
      this.server.listen({ port: this.options.port, ...(this.options.host !== undefined ? { host: this.options.host } : {}) }, () => {
        this.server.off('error', onError);
        this.server.on('error', (error) => this.options.logger.warn({ err: error, port: this.options.port }, 'ingress listener error'));
        resolve();
      });
    });
  }

  setBackends(backends: readonly Backend[]): void {
    this.backends = backends;
  }

  /** Stops accepting and cuts the connections it carries (the port is no longer published). */
  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    this.connections += 1;
    this.track(client);
    client.on('error', () => client.destroy());
    // Backends tried for this connection, in order; the set may change while it tries.
    this.connectNext(client, new Set());
  }

  private connectNext(client: net.Socket, tried: Set<string>): void {
    if (client.destroyed) return;
    const backend = this.pick(tried);
    if (backend === undefined) {
      this.failedConnections += 1;
      client.destroy();
      return;
    }
    tried.add(backendKey(backend));
    const upstream = net.connect({ host: backend.host, port: backend.port, allowHalfOpen: true, noDelay: true });
    upstream.setTimeout(this.options.connectTimeoutMs ?? 2000);
    const failed = (): void => {
      upstream.destroy();
      this.connectNext(client, tried);
    };
    upstream.once('timeout', failed);
    upstream.once('error', failed);
    upstream.once('connect', () => {
      upstream.off('timeout', failed);
      upstream.off('error', failed);
      upstream.setTimeout(0);
      if (client.destroyed) upstream.destroy();
      else this.splice(client, upstream);
    });
  }

  private splice(client: net.Socket, upstream: net.Socket): void {
    this.track(upstream);
    upstream.on('error', () => {
      upstream.destroy();
      client.destroy();
    });
    client.on('error', () => upstream.destroy());
    // `close` comes once both directions ended (or either side was destroyed).
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }

  private pick(tried: ReadonlySet<string>): Backend | undefined {
    const list = this.backends;
    for (let i = 0; i < list.length; i++) {
      const candidate = list[(this.next + i) % list.length]!;
      if (!tried.has(backendKey(candidate))) {
        this.next = (this.next + i + 1) % list.length;
        return candidate;
      }
    }
    return undefined;
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }
}

function backendKey(backend: Backend): string {
  return `${backend.host}:${backend.port}`;
}
