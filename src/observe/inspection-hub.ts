import type { Logger } from 'pino';
import type { AnyActorRef, InspectionEvent, Subscription } from 'xstate';
import { actorKind, actorName, DefinitionCache, liveActors, parentOf } from './actor-description.ts';
import { ActorFilter, type ActorFilterSpec } from './actor-filter.ts';
import { inspectProtocolVersion, type ActorFrame, type InspectionFrame, type ReplayDoneFrame } from './inspection-frames.ts';
import type { Redactor } from './redaction.ts';
import { toWireValue } from './wire-value.ts';

/** One actor system to inspect, named by its root (the node agent, the Raft role, …). */
export interface InspectionSource {
  readonly root: AnyActorRef;
}

/** A connected viewer as the hub sees it; the WebSocket route adapts a socket to this. */
export interface InspectionViewer {
  /** One frame, UTF-8 JSON, sent as a text frame. */
  send(frame: Buffer): void;
  /** Holds writes until uncork(): a batch of frames leaves in one system call, not one per frame. */
  cork?(): void;
  uncork?(): void;
  /** Bytes accepted by send() but not yet written to the network. */
  bufferedBytes(): number;
  /** Ends the viewer with a reason (a WebSocket close code and text). */
  cutOff(code: number, reason: string): void;
}

export interface InspectionHubOptions {
  readonly sources: readonly InspectionSource[];
  readonly redactor: Redactor;
  readonly wallClockMs: () => number;
  readonly logger: Logger;
  /** A viewer with more unsent than this is cut off (default 8 MiB). */
  readonly maxBufferedBytes?: number;
  /** More viewers than this are refused (default 32). */
  readonly maxViewers?: number;
}

/** WebSocket close codes of our own (4000–4999 is the application range). */
export const closeCodes = { slowViewer: 4008, tooManyViewers: 4029, shuttingDown: 1001 } as const;

/** The inspection events that become frames (XState also reports actions and microsteps). */
type FramedEvent = Extract<InspectionEvent, { type: '@xstate.actor' | '@xstate.event' | '@xstate.snapshot' }>;

interface Connected {
  readonly viewer: InspectionViewer;
  readonly filter: ActorFilter;
}

/**
 * Streams the daemon's actor systems to viewers in @statelyai/inspect's wire format.
 *
 * - The XState inspection observer costs every actor event something (a no-op one halves
 *   throughput), so it is attached to each system only while at least one viewer is connected,
 *   and detached when the last one leaves.
 * - A viewer first gets every live actor with its current snapshot (XState only tells observers
 *   about actors created after they attach), then the live stream.
 * - Inspection events are queued and converted on a microtask: XState announces an actor from its
 *   constructor, before it has a snapshot, and a storm of events then costs one pass, with each
 *   frame serialized once for all viewers.
 * - A viewer that does not read is cut off once its unsent frames pass the bound, never buffered
 *   without end.
 */
export class InspectionHub {
  private readonly viewers = new Set<Connected>();
  private readonly sources: InspectionSource[];
  private readonly definitions: DefinitionCache;
  private readonly subscriptions = new Map<InspectionSource, Subscription>();
  private queue: FramedEvent[] = [];
  private flushScheduled = false;
  private frameSeq = 0;
  private readonly maxBufferedBytes: number;
  private readonly maxViewers: number;
  /** Counters for tests, metrics and the benchmark. */
  readonly stats = { inspectionEvents: 0, framesSent: 0, bytesSent: 0, viewersCutOff: 0 };

  constructor(private readonly options: InspectionHubOptions) {
    this.sources = [...options.sources];
    this.definitions = new DefinitionCache(options.redactor);
    this.maxBufferedBytes = options.maxBufferedBytes ?? 8 * 1024 * 1024;
    this.maxViewers = options.maxViewers ?? 32;
  }

  /** How many inspection observers this hub has attached to actor systems right now. */
  attachedObservers(): number {
    return this.subscriptions.size;
  }

  viewerCount(): number {
    return this.viewers.size;
  }

  /** Live actors of every source by kind (for the `constellation_actors` gauge, read at scrape time). */
  actorCountsByKind(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const source of this.sources) {
      for (const ref of liveActors(source.root)) {
        const kind = actorKind(ref);
        counts.set(kind, (counts.get(kind) ?? 0) + 1);
      }
    }
    return counts;
  }

  /** Adds a system that starts after the hub (e.g. the Raft member once the cluster is up). */
  addSource(source: InspectionSource): void {
    this.sources.push(source);
    if (this.viewers.size === 0) return;
    this.subscriptions.set(source, this.attach(source));
    // XState tells an observer only about actors created after it attached: viewers already
    // connected get this system's live actors now, as a late viewer gets them in its replay.
    this.flush();
    for (const connected of [...this.viewers]) {
      for (const ref of liveActors(source.root)) {
        if (connected.filter.matches(ref) && !this.deliver(connected, Buffer.from(JSON.stringify(this.actorFrame(ref, source.root.sessionId))))) break;
      }
    }
  }

  /**
   * Drops a system that stopped or is about to (the node membership when this daemon stops
   * leading); its actors' last snapshots already went out as they stopped.
   */
  removeSource(root: AnyActorRef): void {
    const index = this.sources.findIndex((source) => source.root === root);
    if (index < 0) return;
    const [source] = this.sources.splice(index, 1);
    this.subscriptions.get(source!)?.unsubscribe();
    this.subscriptions.delete(source!);
  }

  /**
   * Connects a viewer: replays every live actor it may see, then streams. Returns the function
   * that disconnects it (idempotent).
   */
  connect(viewer: InspectionViewer, spec: ActorFilterSpec): () => void {
    if (this.viewers.size >= this.maxViewers) {
      viewer.cutOff(closeCodes.tooManyViewers, `too many viewers (${this.maxViewers}); close one and retry`);
      return () => undefined;
    }
    // What is queued belongs to viewers already connected; the new one starts from the replay.
    this.flush();
    const connected: Connected = { viewer, filter: new ActorFilter(spec) };
    if (this.viewers.size === 0) for (const source of this.sources) this.subscriptions.set(source, this.attach(source));
    this.viewers.add(connected);
    let replayed = 0;
    for (const source of this.sources) {
      for (const ref of liveActors(source.root)) {
        if (!connected.filter.matches(ref)) continue;
        replayed++;
        if (!this.deliver(connected, Buffer.from(JSON.stringify(this.actorFrame(ref, source.root.sessionId))))) return () => undefined;
      }
    }
    const done: ReplayDoneFrame = { type: '@constellation.replayed', actors: replayed, createdAt: String(this.options.wallClockMs()) };
    this.deliver(connected, Buffer.from(JSON.stringify(done)));
    return () => this.remove(connected);
  }

  /** Ends every viewer (the daemon is stopping). */
  close(): void {
    for (const connected of [...this.viewers]) {
      connected.viewer.cutOff(closeCodes.shuttingDown, 'the daemon is stopping');
      this.remove(connected);
    }
  }

  private attach(source: InspectionSource): Subscription {
    return source.root.system.inspect({
      next: (event: InspectionEvent) => {
        this.stats.inspectionEvents++;
        if (event.type !== '@xstate.actor' && event.type !== '@xstate.event' && event.type !== '@xstate.snapshot') return;
        this.queue.push(event as FramedEvent);
        if (!this.flushScheduled) {
          this.flushScheduled = true;
          queueMicrotask(() => this.flush());
        }
      },
    });
  }

  private remove(connected: Connected): void {
    if (!this.viewers.delete(connected)) return;
    if (this.viewers.size === 0) {
      for (const subscription of this.subscriptions.values()) subscription.unsubscribe();
      this.subscriptions.clear();
      this.queue = [];
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const events = this.queue;
    this.queue = [];
    // Within one batch only an actor's last snapshot is sent: a burst that moves the node agent
    // through many states would otherwise serialize its whole context once per step (the events
    // that caused the steps all go out). The last one is always the actor's current state.
    const lastSnapshot = new Map<unknown, FramedEvent>();
    for (const event of events) if (event.type === '@xstate.snapshot') lastSnapshot.set(event.actorRef, event);
    const viewers = [...this.viewers];
    for (const connected of viewers) connected.viewer.cork?.();
    for (const event of events) {
      if (event.type === '@xstate.snapshot' && lastSnapshot.get(event.actorRef) !== event) continue;
      let frame: Buffer | undefined;
      for (const connected of viewers) {
        if (!connected.filter.matches(event.actorRef as AnyActorRef)) continue;
        // Encoded once for every viewer.
        frame ??= Buffer.from(JSON.stringify(this.frameOf(event)));
        this.write(connected, frame);
      }
    }
    // The bound is checked once per batch, after the batch is handed to the network.
    for (const connected of viewers) {
      connected.viewer.uncork?.();
      this.checkBacklog(connected);
    }
  }

  private write(connected: Connected, frame: Buffer): void {
    connected.viewer.send(frame);
    this.stats.framesSent++;
    this.stats.bytesSent += frame.length;
  }

  /** Sends, then cuts the viewer off if it has fallen too far behind; false when it was cut off. */
  private deliver(connected: Connected, frame: Buffer): boolean {
    this.write(connected, frame);
    return this.checkBacklog(connected);
  }

  private checkBacklog(connected: Connected): boolean {
    if (!this.viewers.has(connected)) return false;
    const buffered = connected.viewer.bufferedBytes();
    if (buffered <= this.maxBufferedBytes) return true;
    this.stats.viewersCutOff++;
    this.options.logger.warn({ bufferedBytes: buffered, maxBufferedBytes: this.maxBufferedBytes }, 'inspection viewer too slow: cut off');
    connected.viewer.cutOff(closeCodes.slowViewer, `viewer too slow: more than ${this.maxBufferedBytes} bytes of frames unsent; reconnect to get a fresh replay`);
    this.remove(connected);
    return false;
  }

  private base(sessionId: string, rootId: string | undefined) {
    return { sessionId, rootId, createdAt: String(this.options.wallClockMs()), id: String(++this.frameSeq), _version: inspectProtocolVersion };
  }

  private wire(value: unknown): unknown {
    return toWireValue(value, this.options.redactor);
  }

  private actorFrame(ref: AnyActorRef, rootId: string | undefined): ActorFrame & { kind: string } {
    return {
      type: '@xstate.actor',
      ...this.base(ref.sessionId, rootId),
      name: actorName(ref),
      kind: actorKind(ref),
      parentId: parentOf(ref)?.sessionId,
      definition: this.definitions.definitionOf(ref),
      snapshot: this.wire(ref.getSnapshot() ?? { status: 'active' }),
    };
  }

  private frameOf(event: FramedEvent): InspectionFrame {
    switch (event.type) {
      case '@xstate.actor':
        return this.actorFrame(event.actorRef as AnyActorRef, event.rootId);
      case '@xstate.event':
        return { type: '@xstate.event', ...this.base(event.actorRef.sessionId, event.rootId), event: this.wire(event.event), sourceId: event.sourceRef?.sessionId };
      case '@xstate.snapshot':
        return { type: '@xstate.snapshot', ...this.base(event.actorRef.sessionId, event.rootId), event: this.wire(event.event), snapshot: this.wire(event.snapshot) };
    }
  }
}
