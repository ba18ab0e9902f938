import type { ServiceRolloutView, RolloutView } from '../../orchestrator/rollout/rollout-views.ts';
import { formatElapsed } from './elapsed.ts';
import type { ProgressItem } from './progress.ts';

/**
 * One service's rollout in a line: "batch 2/4 monitoring 3.1s: 1/4 updated, 1 healthy" (and
 * failed slots, the reason when it stopped).
 */
export function describeServiceRollout(part: ServiceRolloutView): string {
  const where = part.phase === 'updating' || part.phase === 'rolling-back'
    ? `${part.phase === 'rolling-back' ? 'rolling back, ' : ''}batch ${part.batch}/${part.batches}${part.step ? ` ${part.step}` : ''}${part.step === 'monitoring' && part.inStepMs !== undefined ? ` ${formatElapsed(part.inStepMs)}` : ''}`
    : part.phase;
  const failed = part.failed.length > 0 ? `, failed slot(s) ${part.failed.join(', ')}` : '';
  const reason = part.reason && part.phase !== 'completed' ? ` — ${part.reason}` : '';
  return `${where}: ${part.updated}/${part.total} updated, ${part.healthy} healthy${failed}${reason}`;
}

/** Progress lines for `deploy`: services in the rollout show it, the others their replicas. */
export function withRollout(items: readonly ProgressItem[], view: RolloutView | undefined, version: number): ProgressItem[] {
  const rollout = view?.rollout;
  if (!rollout || rollout.id !== version) return [...items];
  return items.map((item) => {
    const part = rollout.services.find((service) => service.service === item.label);
    if (!part) return item;
    const state: ProgressItem['state'] = part.phase === 'completed' ? item.state : part.phase === 'rolled-back' || part.phase === 'failed' || part.phase === 'paused' ? 'failed' : 'converging';
    return { ...item, text: `rollout ${describeServiceRollout(part)}`, state };
  });
}
