import type { LinkView } from '../machines/vpn-link-types.ts';

/**
 * What the node agent reports for metrics. H-api implements it with prom-client; tests pass the
 * no-op. Kept as an interface so the actors never import a metrics library.
 */
export interface AgentTelemetry {
  observeReconcile(durationMs: number): void;
  /** One failed engine API call, by operation (create, start, stop, remove, list, events, …). */
  engineError(operation: string): void;
  /** Container counts by state (phase), replacing the previous counts. */
  setContainerStates(counts: Record<string, number>): void;
  /** A VPN group slot's link state; `recoveredSeconds` once, when a recovery ends. */
  vpnLink?(view: LinkView, recoveredSeconds?: number): void;
  vpnLinkRemoved?(link: string): void;
}

export const noopTelemetry: AgentTelemetry = {
  observeReconcile: () => {},
  engineError: () => {},
  setContainerStates: () => {},
};
