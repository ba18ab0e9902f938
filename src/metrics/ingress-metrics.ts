import { Counter, Gauge, type Registry } from 'prom-client';
import type { IngressListenerStatus } from '../ingress/ingress-controller.ts';

/**
 * The ingress forwarders of this node, read at scrape time: ready backends per published port,
 * whether the port is bound here, connections (TCP) or client flows (UDP) carried, and those no
 * backend could take (none ready, or every connect refused).
 */
export function registerIngressMetrics(registry: Registry, listeners: () => readonly IngressListenerStatus[]): void {
  new Gauge({
    name: 'constellation_ingress_backends',
    help: 'Ready replicas this node forwards a published port to.',
    labelNames: ['port'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const listener of listeners()) this.set({ port: listener.key }, listener.backends.length);
    },
  });
  new Gauge({
    name: 'constellation_ingress_listening',
    help: '1 when this node listens on the published port, 0 while it cannot bind it.',
    labelNames: ['port'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const listener of listeners()) this.set({ port: listener.key }, listener.state === 'open' ? 1 : 0);
    },
  });
  // Counters kept by the forwarders themselves; exported as they stand at scrape time.
  new Counter({
    name: 'constellation_ingress_connections_total',
    help: 'Connections (TCP) or client flows (UDP) a published port accepted on this node.',
    labelNames: ['port'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const listener of listeners()) this.inc({ port: listener.key }, listener.connections);
    },
  });
  new Counter({
    name: 'constellation_ingress_failed_connections_total',
    help: 'Connections or datagrams no backend could take (none ready, or every connect refused).',
    labelNames: ['port'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const listener of listeners()) this.inc({ port: listener.key }, listener.failedConnections);
    },
  });
}
