import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { IngressListenerStatus } from '../../../src/ingress/ingress-controller.ts';
import { registerIngressMetrics } from '../../../src/metrics/ingress-metrics.ts';

describe('ingress metrics', () => {
  it('export each port\'s backends, binding and connection counts as they stand at scrape time', async () => {
    const registry = new Registry();
    let listeners: IngressListenerStatus[] = [
      { key: 'tcp/*/8080', state: 'open', backends: [{ host: '10.0.0.2', port: 32768, replica: 'web_web_1', node: 'n2' }], connections: 7, failedConnections: 1 },
      { key: 'udp/*/53', state: 'failed', backends: [], connections: 0, failedConnections: 0 },
    ];
    registerIngressMetrics(registry, () => listeners);
    const text = await registry.metrics();
    expect(text).toContain('constellation_ingress_backends{port="tcp/*/8080"} 1');
    expect(text).toContain('constellation_ingress_listening{port="udp/*/53"} 0');
    expect(text).toContain('constellation_ingress_connections_total{port="tcp/*/8080"} 7');
    expect(text).toContain('constellation_ingress_failed_connections_total{port="tcp/*/8080"} 1');
    // A port no longer published disappears; counts move with the forwarders.
    listeners = [{ ...listeners[0]!, connections: 9 }];
    const later = await registry.metrics();
    expect(later).toContain('constellation_ingress_connections_total{port="tcp/*/8080"} 9');
    expect(later).not.toContain('udp/*/53');
  });
});
