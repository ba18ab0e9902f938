/**
 * How a service's replicas behave when their node loses contact with the managers. Chosen per
 * service with deploy labels (`deploy.labels` travel with the spec through the log, so every
 * node reads the same answer without a loader change):
 *
 *   constellation.delivery: at-most-once | at-least-once
 *   constellation.rebalance: "true" | "false"          (off by default, like Swarm)
 *
 * Default: at-most-once for a `replicas: 1` replicated service with a volume or bind mount (a
 * singleton that owns data must never run twice), at-least-once for everything else (availability
 * first, as Swarm: the cut node keeps running its copy while a replacement runs elsewhere).
 */
import type { ServiceSpec } from '../../compose/types.ts';

export type DeliveryMode = 'at-most-once' | 'at-least-once';

export const DELIVERY_LABEL = 'constellation.delivery';
export const REBALANCE_LABEL = 'constellation.rebalance';

const modes: readonly string[] = ['at-most-once', 'at-least-once'];

export function deliveryMode(spec: ServiceSpec): DeliveryMode {
  const asked = Object.hasOwn(spec.deploy.labels, DELIVERY_LABEL) ? spec.deploy.labels[DELIVERY_LABEL] : undefined;
  if (asked === 'at-most-once' || asked === 'at-least-once') return asked;
  const singleton = spec.deploy.mode === 'replicated' && spec.deploy.replicas === 1;
  const ownsData = spec.volumes.some((volume) => volume.type === 'volume' || volume.type === 'bind');
  return singleton && ownsData ? 'at-most-once' : 'at-least-once';
}

export function wantsRebalance(spec: ServiceSpec): boolean {
  return Object.hasOwn(spec.deploy.labels, REBALANCE_LABEL) && spec.deploy.labels[REBALANCE_LABEL] === 'true';
}

export const FAILOVER_LABEL_CODE = 'COMPOSE_INVALID_FAILOVER_LABEL';

export interface LabelProblem {
  readonly code: typeof FAILOVER_LABEL_CODE;
  readonly path: readonly string[];
  readonly message: string;
}

/** Refused by the compose loader before anything is written: a typo must not silently pick the default. */
export function validateFailoverLabels(spec: ServiceSpec): LabelProblem[] {
  const problems: LabelProblem[] = [];
  const labels = spec.deploy.labels;
  if (Object.hasOwn(labels, DELIVERY_LABEL) && !modes.includes(labels[DELIVERY_LABEL]!)) {
    problems.push({
      code: FAILOVER_LABEL_CODE,
      path: ['deploy', 'labels', DELIVERY_LABEL],
      message: `${DELIVERY_LABEL} must be "at-most-once" or "at-least-once", got "${labels[DELIVERY_LABEL]}"`,
    });
  }
  if (Object.hasOwn(labels, REBALANCE_LABEL) && labels[REBALANCE_LABEL] !== 'true' && labels[REBALANCE_LABEL] !== 'false') {
    problems.push({ code: FAILOVER_LABEL_CODE, path: ['deploy', 'labels', REBALANCE_LABEL], message: `${REBALANCE_LABEL} must be "true" or "false", got "${labels[REBALANCE_LABEL]}"` });
  }
  return problems;
}
