import { hasHealthcheck } from '../agent/container-request.ts';
import type { ApiDeps, ServiceInfo } from './api-deps.ts';

export interface ServiceRow extends ServiceInfo {
  /** `<stack>_<service>`, the name GET /v1/services/:name takes. */
  readonly id: string;
}

export function serviceId(stack: string, service: string): string {
  return `${stack}_${service}`;
}

/**
 * Services as users think of them: everything desired (from the store) joined with what the
 * agent observes. A service the agent has not picked up yet shows 0 running, not converged;
 * one the agent still runs but is no longer desired (being removed) shows too.
 */
export function serviceRows(deps: Pick<ApiDeps, 'store' | 'agent'>, stackFilter?: string): ServiceRow[] {
  const observed = new Map<string, ServiceInfo>();
  for (const status of deps.agent.services()) observed.set(serviceId(status.stack, status.service), status);
  const rows = new Map<string, ServiceRow>();
  for (const record of Object.values(deps.store.current().stacks)) {
    for (const spec of record.spec.services) {
      const id = serviceId(record.name, spec.name);
      const status = observed.get(id);
      rows.set(id, status ? { ...status, id } : {
        id, stack: record.name, service: spec.name, image: spec.image,
        desiredReplicas: spec.deploy.replicas, running: 0, healthy: 0, healthcheck: hasHealthcheck(spec), converged: false, failed: false,
        message: 'waiting for the node agent',
      });
    }
  }
  for (const [id, status] of observed) if (!rows.has(id)) rows.set(id, { ...status, id });
  return [...rows.values()]
    .filter((row) => stackFilter === undefined || row.stack === stackFilter)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
