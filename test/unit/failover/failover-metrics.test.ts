import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registerFailoverMetrics } from '../../../src/metrics/failover-metrics.ts';

describe('failover metrics', () => {
  it('counts failovers with their duration and shows nodes by status at scrape time', async () => {
    const registry = new Registry();
    let statuses = ['ready', 'ready', 'ready'];
    const metrics = registerFailoverMetrics(registry, () => statuses);
    expect(await registry.getSingleMetricAsString('constellation_nodes')).toContain('constellation_nodes{status="ready"} 3');
    statuses = ['ready', 'ready', 'down'];
    metrics.failover('node-down', 2.4);
    const text = await registry.metrics();
    expect(text).toContain('constellation_nodes{status="down"} 1');
    expect(text).toContain('constellation_nodes{status="suspect"} 0');
    expect(text).toContain('constellation_failovers_total{cause="node-down"} 1');
    expect(text).toContain('constellation_failover_duration_seconds_bucket{le="2.5"} 1');
    expect(text).toContain('constellation_failover_duration_seconds_bucket{le="2"} 0');
  });
});
