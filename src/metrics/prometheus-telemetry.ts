import type { LinkView } from '../machines/vpn-link-types.ts';
import type { DaemonMetrics } from './daemon-metrics.ts';
import { knownContainerStates } from './daemon-metrics.ts';

/**
 * The agent's telemetry seam (AgentTelemetry in src/actors/agent-telemetry.ts) backed by the
 * daemon's prom-client metrics. The agent reports plain numbers; only this file knows Prometheus.
 */
export class PrometheusTelemetry {
  constructor(private readonly metrics: DaemonMetrics) {}

  observeReconcile(durationMs: number): void {
    this.metrics.reconcileDurationSeconds.observe(durationMs / 1000);
  }

  engineError(operation: string): void {
    this.metrics.engineErrors.inc({ operation });
  }

  vpnLink(view: LinkView, recoveredSeconds?: number): void {
    this.metrics.vpn.link(view, recoveredSeconds);
  }

  vpnLinkRemoved(link: string): void {
    this.metrics.vpn.removed(link);
  }

  /** Replaces every state's count: states absent from `counts` drop to 0 instead of going stale. */
  setContainerStates(counts: Record<string, number>): void {
    const gauge = this.metrics.containers;
    gauge.reset();
    for (const state of knownContainerStates) gauge.set({ state }, 0);
    for (const [state, count] of Object.entries(counts)) gauge.set({ state }, count);
  }
}
