import type { NodeId, Transport } from '../seams/transport.ts';
import type { SeededRandom } from './seeded-random.ts';
import type { VirtualClock } from './virtual-clock.ts';

/** Per-message fault model. Reordering falls out of independent random delays. */
export interface NetworkFaults {
  /** Each message's delay is uniform in [minDelayMs, maxDelayMs]. */
  minDelayMs: number;
  maxDelayMs: number;
  /** Probability that a message is lost. */
  dropRate: number;
  /** Probability that a message is delivered twice (the copy gets its own delay). */
  duplicateRate: number;
  /** Probability that a message takes a long detour (delay × 10): reorders across many others. */
  slowRate: number;
}

export const calmNetwork: NetworkFaults = { minDelayMs: 1, maxDelayMs: 5, dropRate: 0, duplicateRate: 0, slowRate: 0 };

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  /** Messages that reached a cut link, an isolated node, or a node that is down. */
  blocked: number;
}

export type NetworkEvent<M> =
  | { readonly kind: 'send'; readonly from: NodeId; readonly to: NodeId; readonly message: M; readonly atMs: number }
  | { readonly kind: 'deliver'; readonly from: NodeId; readonly to: NodeId; readonly message: M; readonly atMs: number };

class SimTransport<M> implements Transport<M> {
  handler: ((from: NodeId, message: M) => void) | undefined;
  closed = false;

  constructor(
    readonly self: NodeId,
    private readonly network: SimNetwork<M>,
  ) {}

  send(to: NodeId, message: M): void {
    if (this.closed) return;
    this.network.route(this, to, message);
  }

  onMessage(handler: (from: NodeId, message: M) => void): () => void {
    this.handler = handler;
    return () => {
      if (this.handler === handler) this.handler = undefined;
    };
  }

  close(): Promise<void> {
    this.closed = true;
    this.handler = undefined;
    return Promise.resolve();
  }
}

/**
 * An in-memory network for the simulator. Every delivery is a virtual-clock event; messages are
 * structuredClone'd at send time so sender and receiver never share an object (a node mutating a
 * message it sent must not change what the peer receives — the real wire does not allow that).
 * Link state is checked both when a message is sent and when it arrives: a partition that starts
 * while a message is in flight loses it, as a cut cable would.
 */
export class SimNetwork<M> {
  private readonly endpoints = new Map<NodeId, SimTransport<M>>();
  private readonly cutLinks = new Set<string>();
  private readonly isolated = new Set<NodeId>();
  private faults: NetworkFaults;
  private readonly observers: ((event: NetworkEvent<M>) => void)[] = [];
  /** When a receiver's process is paused, its deliveries wait until it resumes (true ms). */
  private pausedUntil: (id: NodeId) => number = () => 0;
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, blocked: 0 };

  constructor(
    private readonly clock: VirtualClock,
    private readonly random: SeededRandom,
    faults: NetworkFaults = calmNetwork,
  ) {
    this.faults = SimNetwork.validate(faults);
  }

  /** A fresh endpoint for `id`; any previous endpoint of that id (an old incarnation) is closed. */
  endpoint(id: NodeId): Transport<M> {
    const previous = this.endpoints.get(id);
    if (previous) void previous.close();
    const transport = new SimTransport<M>(id, this);
    this.endpoints.set(id, transport);
    return transport;
  }

  /** Closes the current endpoint of `id` (the node crashed): it neither sends nor receives. */
  disconnect(id: NodeId): void {
    const current = this.endpoints.get(id);
    if (current) void current.close();
  }

  /** Lets deliveries to a paused process wait for it (the simulator wires member pauses here). */
  setPauseLookup(lookup: (id: NodeId) => number): void {
    this.pausedUntil = lookup;
  }

  setFaults(faults: NetworkFaults): void {
    this.faults = SimNetwork.validate(faults);
  }

  currentFaults(): Readonly<NetworkFaults> {
    return this.faults;
  }

  /** Splits the nodes into groups that cannot reach each other (both directions). */
  partition(groups: readonly (readonly NodeId[])[]): void {
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue;
        for (const from of a) for (const to of b) this.cutLinks.add(SimNetwork.link(from, to));
      }
    }
  }

  /** Cuts only from → to: `to` never hears `from`, while `to` → `from` still works. */
  cutOneWay(from: NodeId, to: NodeId): void {
    this.cutLinks.add(SimNetwork.link(from, to));
  }

  /** The node can neither send to nor receive from anyone. */
  isolate(id: NodeId): void {
    this.isolated.add(id);
  }

  /** Removes every partition, cut and isolation (message faults stay as configured). */
  heal(): void {
    this.cutLinks.clear();
    this.isolated.clear();
  }

  linkUp(from: NodeId, to: NodeId): boolean {
    return !this.isolated.has(from) && !this.isolated.has(to) && !this.cutLinks.has(SimNetwork.link(from, to));
  }

  observe(observer: (event: NetworkEvent<M>) => void): () => void {
    this.observers.push(observer);
    return () => {
      const i = this.observers.indexOf(observer);
      if (i >= 0) this.observers.splice(i, 1);
    };
  }

  /** @internal used by the endpoints. */
  route(sender: SimTransport<M>, to: NodeId, message: M): void {
    const from = sender.self;
    this.stats.sent++;
    const copy = structuredClone(message);
    for (const observer of this.observers) observer({ kind: 'send', from, to, message: copy, atMs: this.clock.nowMs() });
    if (!this.linkUp(from, to)) {
      this.stats.blocked++;
      return;
    }
    if (this.random.chance(this.faults.dropRate)) {
      this.stats.dropped++;
      return;
    }
    this.schedule(from, to, copy);
    if (this.random.chance(this.faults.duplicateRate)) {
      this.stats.duplicated++;
      this.schedule(from, to, structuredClone(copy));
    }
  }

  private schedule(from: NodeId, to: NodeId, message: M): void {
    const { minDelayMs, maxDelayMs, slowRate } = this.faults;
    let delayMs = minDelayMs + this.random.next() * (maxDelayMs - minDelayMs);
    if (this.random.chance(slowRate)) delayMs *= 10;
    this.clock.setTimeout(() => this.deliver(from, to, message), delayMs);
  }

  private deliver(from: NodeId, to: NodeId, message: M): void {
    const resumeAtMs = this.pausedUntil(to);
    if (resumeAtMs > this.clock.nowMs()) {
      // The bytes arrived but the process is frozen: it reads them when it resumes.
      this.clock.setTimeout(() => this.deliver(from, to, message), resumeAtMs - this.clock.nowMs());
      return;
    }
    const endpoint = this.endpoints.get(to);
    if (!this.linkUp(from, to) || !endpoint || endpoint.closed || !endpoint.handler) {
      this.stats.blocked++;
      return;
    }
    this.stats.delivered++;
    for (const observer of this.observers) observer({ kind: 'deliver', from, to, message, atMs: this.clock.nowMs() });
    endpoint.handler(from, message);
  }

  private static link(from: NodeId, to: NodeId): string {
    return `${from}\u0000${to}`;
  }

  private static validate(faults: NetworkFaults): NetworkFaults {
    const rates: (keyof NetworkFaults)[] = ['dropRate', 'duplicateRate', 'slowRate'];
    for (const key of rates) {
      const value = faults[key];
      if (!(value >= 0 && value <= 1)) throw new RangeError(`network faults: ${key} must be in [0, 1], got ${value}`);
    }
    if (!(faults.minDelayMs >= 0 && faults.maxDelayMs >= faults.minDelayMs)) {
      throw new RangeError(`network faults: need 0 <= minDelayMs <= maxDelayMs, got ${faults.minDelayMs}..${faults.maxDelayMs}`);
    }
    return { ...faults };
  }
}
