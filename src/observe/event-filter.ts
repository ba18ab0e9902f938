import type { ClusterEvent } from './cluster-event-types.ts';

/** `?type=replica.*,node.status&stack=web&service=app&node=n1`: every given criterion must hold. */
export interface EventFilterSpec {
  /** Exact types, or prefixes written `replica.*`. */
  readonly types: readonly string[];
  readonly stacks: readonly string[];
  readonly services: readonly string[];
  readonly nodes: readonly string[];
}

export const allEvents: EventFilterSpec = { types: [], stacks: [], services: [], nodes: [] };

export function eventMatches(event: ClusterEvent, filter: EventFilterSpec): boolean {
  if (filter.types.length > 0 && !filter.types.some((type) => (type.endsWith('*') ? event.type.startsWith(type.slice(0, -1)) : event.type === type))) return false;
  const fields = event as { stack?: string; service?: string; node?: string; from?: string; to?: string };
  if (filter.stacks.length > 0 && (fields.stack === undefined || !filter.stacks.includes(fields.stack))) return false;
  if (filter.services.length > 0 && (fields.service === undefined || !filter.services.includes(fields.service))) return false;
  if (filter.nodes.length > 0) {
    // A leader change is about both nodes it names; a failover about the down node and where its replicas went.
    const nodes = event.type === 'leader.changed' ? [fields.from, fields.to] : event.type === 'failover' ? [event.node, ...Object.values(event.moved)] : [fields.node];
    if (!nodes.some((node) => node !== undefined && filter.nodes.includes(node))) return false;
  }
  return true;
}
