import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createDaemonMetrics } from '../../../src/metrics/daemon-metrics.ts';

// docs/metrics.md is the catalog of what GET /metrics exports: it must name every metric, and
// only metrics that exist.
const catalog = readFileSync(new URL('../../../docs/metrics.md', import.meta.url), 'utf8');

describe('metrics catalog', () => {
  it('lists every metric the daemon exports, and no other constellation_ metric', async () => {
    const metrics = createDaemonMetrics({ collectProcessMetrics: true });
    const exported = (await metrics.registry.getMetricsAsJSON()).map((metric) => metric.name);
    expect(exported.length).toBeGreaterThan(20);
    const missing = exported.filter((name) => !catalog.includes(`\`${name}\``) && !catalog.includes(`${name}\``) && !/^nodejs_eventloop_lag_(min|max|mean|stddev|p50|p90|p99)_seconds$/.test(name));
    expect(missing).toEqual([]);
    const documented = [...catalog.matchAll(/`(constellation_[a-z_]+)`/g)].map((match) => match[1]!);
    expect(documented.filter((name) => !exported.includes(name))).toEqual([]);
  });

  it('reads the observe sources at scrape time', async () => {
    const metrics = createDaemonMetrics({ collectProcessMetrics: false });
    metrics.observe.inspectViewers = () => 3;
    metrics.observe.clusterEvents = () => 42;
    const text = await metrics.registry.metrics();
    expect(text).toContain('constellation_inspect_viewers 3');
    expect(text).toContain('constellation_cluster_events_total 42');
    metrics.observe.clusterEvents = () => 43;
    expect(await metrics.registry.metrics()).toContain('constellation_cluster_events_total 43');
  });
});
