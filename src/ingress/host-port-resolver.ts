/**
 * Learns where the engine published each local replica's ports. The engine picks an ephemeral
 * host port at every start (a restarted container may get another), and the agent's own picture
 * carries no ports, so each time a replica enters `running` its container is inspected once. The
 * views the node reports (API, heartbeats, worker session) are the agent's, enriched with them.
 */
import type { Logger } from 'pino';
import type { AgentEvent, ContainerView } from '../actors/agent-types.ts';
import type { ContainerRuntime, PublishedPort } from '../seams/container-runtime.ts';

export interface ContainerSource {
  containers(): ContainerView[];
  subscribe(listener: (event: AgentEvent) => void): () => void;
}

export class HostPortResolver {
  /** By container id: a new container (a replacement) is a new id. */
  private readonly ports = new Map<string, readonly PublishedPort[]>();
  /** The phase each replica was last seen in, by name: a start is a move into `running`. */
  private readonly phases = new Map<string, string>();
  private readonly listeners = new Set<() => void>();
  private readonly inFlight = new Set<string>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly runtime: Pick<ContainerRuntime, 'inspect'>,
    private readonly source: ContainerSource,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.unsubscribe = this.source.subscribe((event) => {
      if (event.type === 'container') this.seen(event.container);
      else if (event.type === 'container-removed') this.phases.delete(event.name);
    });
    // Replicas already running (adopted at start-up) before we listened.
    for (const view of this.source.containers()) this.seen(view);
  }

  stop(): void {
    this.unsubscribe?.();
    this.listeners.clear();
  }

  /** Called whenever a replica's ports became known. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The agent's views with the published ports of those whose ports are known. */
  containers(): ContainerView[] {
    return this.source.containers().map((view) => {
      const ports = view.containerId === undefined ? undefined : this.ports.get(view.containerId);
      return ports === undefined || ports.length === 0 ? view : { ...view, ports };
    });
  }

  private seen(view: ContainerView): void {
    const previous = this.phases.get(view.name);
    this.phases.set(view.name, view.state);
    if (view.state !== 'running' || view.containerId === undefined) return;
    if (previous === 'running' && this.ports.has(view.containerId)) return;
    void this.resolve(view.containerId);
  }

  private async resolve(containerId: string): Promise<void> {
    if (this.inFlight.has(containerId)) return;
    this.inFlight.add(containerId);
    try {
      const summary = await this.runtime.inspect(containerId);
      if (summary === undefined) {
        this.ports.delete(containerId);
        return;
      }
      this.ports.set(containerId, summary.ports ?? []);
      // Forget containers the agent no longer has, so the map does not grow with every replacement.
      const live = new Set(this.source.containers().flatMap((v) => (v.containerId === undefined ? [] : [v.containerId])));
      for (const id of this.ports.keys()) if (!live.has(id) && id !== containerId) this.ports.delete(id);
      for (const listener of this.listeners) listener();
    } catch (error) {
      // The next report of the replica, or the next sweep, tries again.
      this.logger.debug({ err: error, containerId }, 'could not read the published ports of a container');
    } finally {
      this.inFlight.delete(containerId);
    }
  }

  /** Inspects running replicas whose ports are still unknown (a failed inspect, a missed event). */
  sweep(): void {
    for (const view of this.source.containers()) {
      if (view.state === 'running' && view.containerId !== undefined && !this.ports.has(view.containerId)) void this.resolve(view.containerId);
    }
  }
}
