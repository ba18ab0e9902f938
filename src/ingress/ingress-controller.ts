/**
 * This node's ingress: one forwarder per port published in ingress mode anywhere in the cluster,
 * its backends kept equal to the ingress table. Level-triggered: every change it hears of (the
 * desired state, the agent's replicas, a port learned, the leader's board) recomputes the whole
 * table, and a timer does so too, so a missed change is fixed by the next pass. A port that cannot
 * be bound (another process holds it) is logged once and tried again on later passes.
 */
import type { Logger } from 'pino';
import type { Backend, IngressListener } from './ingress-table.ts';
import { TcpForwarder } from './tcp-forwarder.ts';
import { UdpForwarder } from './udp-forwarder.ts';

interface Forwarder {
  /** Connections (TCP) or client flows (UDP) accepted, and those no backend could take. */
  readonly connections: number;
  readonly failedConnections: number;
  listen(): Promise<void>;
  setBackends(backends: readonly Backend[]): void;
  close(): Promise<void>;
}

interface Entry {
  listener: IngressListener;
  readonly forwarder: Forwarder;
  state: 'opening' | 'open' | 'failed';
  retryAtMs: number;
  /** A bind failure was logged as a warning already (later ones are debug). */
  warned: boolean;
  backendsText: string;
}

export interface IngressListenerStatus {
  readonly key: string;
  readonly state: 'opening' | 'open' | 'failed';
  readonly backends: readonly Backend[];
  readonly connections: number;
  readonly failedConnections: number;
}

export interface IngressControllerOptions {
  readonly table: () => IngressListener[];
  readonly logger: Logger;
  /** Each returns an unsubscribe function; a call of the listener means "something may have changed". */
  readonly changes: readonly ((listener: () => void) => () => void)[];
  readonly intervalMs?: number;
  readonly retryBindMs?: number;
}

export class IngressController {
  private readonly entries = new Map<string, Entry>();
  private readonly unsubscribes: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private scheduled = false;

  constructor(private readonly options: IngressControllerOptions) {}

  start(): void {
    for (const subscribe of this.options.changes) this.unsubscribes.push(subscribe(() => this.refresh()));
    this.timer = setInterval(() => this.refresh(), this.options.intervalMs ?? 1000);
    this.timer.unref();
    this.refresh();
  }

  /** The listeners as they stand (for the API and tests). */
  listeners(): IngressListenerStatus[] {
    return [...this.entries.values()].map((e) => ({
      key: e.listener.key, state: e.state, backends: e.listener.backends,
      connections: e.forwarder.connections, failedConnections: e.forwarder.failedConnections,
    }));
  }

  /**
   * Recomputes the table now. Synchronous on purpose: a replica that enters `stopping` leaves the
   * backend set within the same turn of the event loop that reported it, before its stop is sent.
   */
  refresh(): void {
    if (this.stopped) return;
    let table: IngressListener[];
    try {
      table = this.options.table();
    } catch (error) {
      this.options.logger.error({ err: error }, 'ingress table could not be computed; keeping the current one');
      return;
    }
    const now = Date.now();
    const wanted = new Set<string>();
    for (const listener of table) {
      wanted.add(listener.key);
      let entry = this.entries.get(listener.key);
      if (entry !== undefined && entry.state === 'failed' && now >= entry.retryAtMs) {
        this.entries.delete(listener.key);
        entry = this.open(listener, true);
      }
      if (entry === undefined) entry = this.open(listener, false);
      entry.listener = listener;
      const text = listener.backends.map((b) => `${b.replica}@${b.host}:${b.port}`).join(',');
      if (text !== entry.backendsText) {
        entry.backendsText = text;
        this.options.logger.info({ port: listener.key, service: `${listener.stack}/${listener.service}`, backends: listener.backends.map((b) => b.replica) }, 'ingress backends changed');
      }
      entry.forwarder.setBackends(listener.backends);
    }
    for (const [key, entry] of this.entries) {
      if (wanted.has(key)) continue;
      this.entries.delete(key);
      this.options.logger.info({ port: key }, 'ingress port no longer published; closing its listener');
      void entry.forwarder.close();
    }
  }

  /** Coalesces a burst of changes into one pass on the next tick (for noisy sources). */
  refreshSoon(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.refresh();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    const closing = [...this.entries.values()].map((e) => e.forwarder.close());
    this.entries.clear();
    await Promise.all(closing);
  }

  private open(listener: IngressListener, warned: boolean): Entry {
    const logger = this.options.logger;
    const forwarder: Forwarder = listener.protocol === 'udp'
      ? new UdpForwarder({ port: listener.published, ...(listener.hostIp !== undefined ? { host: listener.hostIp } : {}), logger })
      : new TcpForwarder({ port: listener.published, ...(listener.hostIp !== undefined ? { host: listener.hostIp } : {}), logger });
    const entry: Entry = { listener, forwarder, state: 'opening', retryAtMs: 0, warned, backendsText: '' };
    this.entries.set(listener.key, entry);
    forwarder.listen().then(
      () => {
        if (this.entries.get(listener.key) !== entry) {
          void forwarder.close();
          return;
        }
        entry.state = 'open';
        logger.info({ port: listener.key, service: `${listener.stack}/${listener.service}` }, 'ingress port listening');
      },
      (error: NodeJS.ErrnoException) => {
        if (this.entries.get(listener.key) !== entry) return;
        const firstTime = !entry.warned;
        entry.warned = true;
        entry.state = 'failed';
        entry.retryAtMs = Date.now() + (this.options.retryBindMs ?? 5000);
        logger[firstTime ? 'warn' : 'debug']({ port: listener.key, code: error.code, service: `${listener.stack}/${listener.service}` },
          `ingress port ${listener.published}/${listener.protocol} cannot be bound on this node (${error.code ?? error.message}); retrying`);
      },
    );
    return entry;
  }
}
