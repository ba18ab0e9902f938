import type { ServiceSpec } from '../compose/types.ts';
import { stableHash } from '../cluster/stable-hash.ts';

/**
 * The per-replica hash stored in the spec-hash label: a changed hash replaces the replica. Only
 * what shapes one container counts — the replica count (and the rollout settings, which say how
 * to replace, not what) are left out, so scaling never restarts the replicas that stay.
 */
export function serviceSpecHash(service: ServiceSpec): string {
  const { replicas: _replicas, updateConfig: _update, rollbackConfig: _rollback, ...deploy } = service.deploy;
  return stableHash({ ...service, deploy });
}
