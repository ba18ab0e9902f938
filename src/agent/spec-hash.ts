import type { ServiceSpec } from '../compose/types.ts';
import { stableHash } from '../cluster/stable-hash.ts';

/**
 * The per-service hash stored in the spec-hash label. Only the service's own spec counts, so
 * redeploying a stack with one changed service replaces that service's containers alone.
 */
export function serviceSpecHash(service: ServiceSpec): string {
  return stableHash(service);
}
