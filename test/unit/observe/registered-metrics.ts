import { createDaemonMetrics, type DaemonMetrics } from '../../../src/metrics/daemon-metrics.ts';
import { registerFailoverMetrics } from '../../../src/metrics/failover-metrics.ts';

/**
 * Every metric a daemon registers: the ones it always has, plus those it adds in cluster mode
 * (start-daemon passes its registry to the cluster services, which register the failover ones).
 */
export async function registeredMetricNames(): Promise<{ metrics: DaemonMetrics; names: string[] }> {
  const metrics = createDaemonMetrics({ collectProcessMetrics: true });
  registerFailoverMetrics(metrics.registry, () => []);
  const names = (await metrics.registry.getMetricsAsJSON()).map((metric) => metric.name);
  return { metrics, names };
}
