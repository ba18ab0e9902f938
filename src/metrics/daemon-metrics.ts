import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { registerRaftMetrics, type RaftMetrics } from './raft-metrics.ts';
import { registerRolloutMetrics, type RolloutMetrics } from './rollout-metrics.ts';
import { registerVpnMetrics, type VpnMetrics } from './vpn-metrics.ts';
import { registerIngressMetrics } from './ingress-metrics.ts';
import type { IngressListenerStatus } from '../ingress/ingress-controller.ts';

/**
 * Every metric the daemon exports, on a registry of its own (never prom-client's global one), so
 * several daemons or API servers can live in one test process without clashing names.
 */
export interface DaemonMetrics {
  readonly registry: Registry;
  readonly containers: Gauge<'state'>;
  readonly reconcileDurationSeconds: Histogram;
  readonly engineErrors: Counter<'operation'>;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  /** API latency: from the request's arrival to the response sent (streams excluded). */
  readonly httpRequestDurationSeconds: Histogram<'method' | 'route' | 'status'>;
  /** Consensus (cluster mode); the gauges read 0 on a single node. */
  readonly raft: RaftMetrics;
  /** Rolling updates (issue 8). */
  readonly rollouts: RolloutMetrics;
  /** VPN group links (issue 9). */
  readonly vpn: VpnMetrics;
  /** Watching (issue 10): the composition root points these at the inspection hub and event log. */
  readonly observe: ObserveSources;
  /** Published ports (issue 8): the composition root points this at the ingress controller. */
  readonly ingress: { listeners: () => readonly IngressListenerStatus[] };
}

/** Read at scrape time, so the hot paths of the inspector and the event log count nothing extra. */
export interface ObserveSources {
  inspectViewers: () => number;
  inspectFramesSent: () => number;
  inspectViewersCutOff: () => number;
  clusterEvents: () => number;
  /** Live actors of the inspected systems, by kind (walked at scrape time). */
  actorsByKind: () => ReadonlyMap<string, number>;
}

export interface DaemonMetricsOptions {
  /** Process defaults (CPU, memory, event loop lag, GC). Off in unit tests that create many registries. */
  readonly collectProcessMetrics: boolean;
}

/**
 * Lifecycle phases of the container machine (src/machines/container-types.ts), always exported
 * so a dashboard sees a 0 rather than a missing series.
 */
export const knownContainerStates = ['pending', 'creating', 'starting', 'running', 'exited', 'backoff', 'engine-backoff', 'failed', 'stopping', 'removing', 'holding', 'held', 'pausing', 'paused'] as const;

export function createDaemonMetrics(options: DaemonMetricsOptions): DaemonMetrics {
  const registry = new Registry();
  if (options.collectProcessMetrics) collectDefaultMetrics({ register: registry });
  const containers = new Gauge({
    name: 'constellation_containers',
    help: 'Containers managed by this node, by lifecycle phase.',
    labelNames: ['state'] as const,
    registers: [registry],
  });
  for (const state of knownContainerStates) containers.set({ state }, 0);
  const reconcileDurationSeconds = new Histogram({
    name: 'constellation_reconcile_duration_seconds',
    help: 'Duration of one reconcile pass of the node agent.',
    // Passes range from sub-millisecond (nothing to do) to tens of seconds (many creates).
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const engineErrors = new Counter({
    name: 'constellation_engine_errors_total',
    help: 'Failed container engine API calls, by operation.',
    labelNames: ['operation'] as const,
    registers: [registry],
  });
  const httpRequests = new Counter({
    name: 'constellation_http_requests_total',
    help: 'REST API requests, by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpRequestDurationSeconds = new Histogram({
    name: 'constellation_http_request_duration_seconds',
    help: 'REST API latency from the request\'s arrival to the response sent, by method, route pattern and status code (event and inspection streams excluded).',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const observe: ObserveSources = { inspectViewers: () => 0, inspectFramesSent: () => 0, inspectViewersCutOff: () => 0, clusterEvents: () => 0, actorsByKind: () => new Map() };
  const observed = (name: string, help: string, type: 'gauge' | 'counter', read: () => number) => {
    const collect = function (this: Gauge | Counter) {
      const value = read();
      if (type === 'gauge') {
        (this as Gauge).set(value);
      } else {
        // The source is the running total itself: the counter shows it as it is.
        (this as Counter).reset();
        (this as Counter).inc(value);
      }
    };
    if (type === 'gauge') new Gauge({ name, help, registers: [registry], collect });
    else new Counter({ name, help, registers: [registry], collect });
  };
  observed('constellation_inspect_viewers', 'Viewers connected to GET /v1/inspect.', 'gauge', () => observe.inspectViewers());
  observed('constellation_inspect_frames_sent_total', 'Inspection frames sent, summed over viewers.', 'counter', () => observe.inspectFramesSent());
  observed('constellation_inspect_viewers_cut_off_total', 'Inspection viewers closed because they fell too far behind.', 'counter', () => observe.inspectViewersCutOff());
  observed('constellation_cluster_events_total', 'Cluster events appended to the event log (GET /v1/events).', 'counter', () => observe.clusterEvents());
  new Gauge({
    name: 'constellation_actors',
    help: 'Live actors in the daemon\'s actor systems, by kind (the name they were spawned under, else their machine id).',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect() {
      // Reset first: a kind with no actors left disappears instead of keeping its last count.
      this.reset();
      for (const [kind, count] of observe.actorsByKind()) this.set({ kind }, count);
    },
  });
  const rollouts = registerRolloutMetrics(registry);
  const ingress: DaemonMetrics['ingress'] = { listeners: () => [] };
  registerIngressMetrics(registry, () => ingress.listeners());
  const raft = registerRaftMetrics(registry);
  const vpn = registerVpnMetrics(registry);
  return { registry, containers, reconcileDurationSeconds, engineErrors, httpRequests, httpRequestDurationSeconds, raft, rollouts, vpn, observe, ingress };
}
