/**
 * One published UDP port of this node. UDP has no connection, so a flow is a client's address and
 * port: its first datagram picks a backend (round robin) and opens a socket to it, answers go back
 * to the client from the published port, and the flow ends after `idleMs` without traffic. A flow
 * whose backend left the ingress table moves to another backend on its next datagram.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { Logger } from 'pino';
import type { Backend } from './ingress-table.ts';

export interface UdpForwarderOptions {
  readonly port: number;
  readonly host?: string;
  readonly logger: Logger;
  readonly idleMs?: number;
}

interface Flow {
  readonly socket: dgram.Socket;
  readonly backend: string;
  idleTimer: NodeJS.Timeout;
  /** Datagrams waiting for the connect; undefined once connected. */
  queue: Buffer[] | undefined;
}

export class UdpForwarder {
  private backends: readonly Backend[] = [];
  private next = 0;
  private readonly server: dgram.Socket;
  private readonly flows = new Map<string, Flow>();
  /** Client flows opened, and datagrams that found no backend. */
  connections = 0;
  failedConnections = 0;

  constructor(private readonly options: UdpForwarderOptions) {
    this.server = dgram.createSocket({ type: options.host !== undefined && net.isIPv6(options.host) ? 'udp6' : 'udp4' });
    this.server.on('message', (message, from) => this.forward(message, from));
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.server.once('error', onError);
      this.server.bind({ port: this.options.port, ...(this.options.host !== undefined ? { address: this.options.host } : {}) }, () => {
        this.server.off('error', onError);
        this.server.on('error', (error) => this.options.logger.warn({ err: error, port: this.options.port }, 'ingress listener error'));
        resolve();
      });
    });
  }

  setBackends(backends: readonly Backend[]): void {
    this.backends = backends;
    const live = new Set(backends.map(backendKey));
    for (const [client, flow] of this.flows) if (!live.has(flow.backend)) this.end(client, flow);
  }

  close(): Promise<void> {
    for (const [client, flow] of this.flows) this.end(client, flow);
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private forward(message: Buffer, from: dgram.RemoteInfo): void {
    const client = `${from.address}:${from.port}`;
    const flow = this.flows.get(client) ?? this.open(client, from);
    if (flow === undefined) return;
    this.touch(client);
    // A datagram that arrives before the flow's socket is connected waits for it.
    if (flow.queue !== undefined) flow.queue.push(message);
    else flow.socket.send(message);
  }

  private open(client: string, from: dgram.RemoteInfo): Flow | undefined {
    const backend = this.backends[this.next % Math.max(1, this.backends.length)];
    if (backend === undefined) {
      this.failedConnections += 1;
      return undefined;
    }
    this.connections += 1;
    this.next = (this.next + 1) % this.backends.length;
    const socket = dgram.createSocket(net.isIPv6(backend.host) ? 'udp6' : 'udp4');
    const flow: Flow = { socket, backend: backendKey(backend), idleTimer: this.idleTimer(client), queue: [] };
    socket.on('message', (answer) => {
      this.touch(client);
      this.server.send(answer, from.port, from.address);
    });
    socket.on('error', () => {
      if (this.flows.get(client) === flow) this.end(client, flow);
    });
    socket.connect(backend.port, backend.host, () => {
      const queued = flow.queue ?? [];
      flow.queue = undefined;
      if (this.flows.get(client) === flow) for (const datagram of queued) socket.send(datagram);
    });
    this.flows.set(client, flow);
    return flow;
  }

  private idleTimer(client: string): NodeJS.Timeout {
    const timer = setTimeout(() => {
      const flow = this.flows.get(client);
      if (flow !== undefined) this.end(client, flow);
    }, this.options.idleMs ?? 30_000);
    timer.unref();
    return timer;
  }

  private touch(client: string): void {
    const flow = this.flows.get(client);
    if (flow === undefined) return;
    clearTimeout(flow.idleTimer);
    flow.idleTimer = this.idleTimer(client);
  }

  private end(client: string, flow: Flow): void {
    clearTimeout(flow.idleTimer);
    this.flows.delete(client);
    try {
      flow.socket.close();
    } catch {
      // Already closed (its error ended it).
    }
  }
}

function backendKey(backend: Backend): string {
  return `${backend.host}:${backend.port}`;
}
