import type { FailoverEvent } from '../orchestrator/failover/failover-reconciler.ts';
import type { ClusterEventBody } from './cluster-event-types.ts';

/** The failover reconciler's decision as a cluster event (seconds rounded to milliseconds). */
export function failoverEventBody(event: FailoverEvent): ClusterEventBody {
  return {
    type: 'failover',
    node: event.node,
    cause: event.cause,
    stack: event.stack,
    service: event.service,
    moved: { ...event.moved },
    replicas: Object.keys(event.moved).length,
    seconds: Math.round(event.seconds * 1000) / 1000,
  };
}
