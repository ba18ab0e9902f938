/**
 * The workload of the whole-cluster simulations: a stack with an at-least-once service spread
 * over every node and an at-most-once singleton (a one-replica service with a volume: at-most-once
 * by default) kept on the managers, since only managers hold a lease (README "Failover").
 */
import type { ServiceSpec } from '../../src/compose/types.ts';
import { service } from '../unit/scheduler/scheduler-harness.ts';

export function workload(webReplicas: number): ServiceSpec[] {
  const web = service('web', { replicas: webReplicas });
  const db = service('db', { replicas: 1, constraints: ['node.role == manager'] });
  return [web, { ...db, volumes: [{ type: 'volume', source: 'data', target: '/data', readOnly: false }] }];
}
