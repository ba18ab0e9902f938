/**
 * Fills a replicated service's empty slots, lowest slot first, each on the best-ranked node that
 * passes every filter (see spread-tree.ts for the ranking). Slots that already have a node were
 * kept before this runs and are never moved here.
 */
import { hasRoom } from './filters.ts';
import { assign, eligibleNodes, type PlanContext, type ServiceWork } from './plan-context.ts';
import { SpreadTree } from './spread-tree.ts';
import type { SchedulerNode } from './types.ts';

const noLabels: readonly (string | undefined)[] = [];

export function placeReplicated(context: PlanContext, work: ServiceWork): void {
  const { needs } = work;
  const missing: number[] = [];
  for (let slot = 1; slot <= needs.spec.deploy.replicas; slot++) if (!work.slots.has(slot)) missing.push(slot);
  if (missing.length === 0) return;

  const { nodes, ledger } = context;
  const labelValues = (node: SchedulerNode): readonly (string | undefined)[] =>
    needs.preferences.length === 0 ? noLabels : needs.preferences.map((p) => (Object.hasOwn(node.labels, p.label) ? node.labels[p.label] : undefined));
  const tree = new SpreadTree(needs.preferences.length);
  for (const index of eligibleNodes(context, needs)) {
    const node = nodes[index]!;
    const count = work.countOnNode.get(index) ?? 0;
    if (!hasRoom(needs, ledger, index, node, count)) continue;
    tree.add({ kind: 'leaf', node: index, count, load: ledger.replicas[index]! }, labelValues(node));
  }
  if (needs.preferences.length > 0) for (const index of work.slots.values()) tree.countExisting(labelValues(nodes[index]!));
  tree.ready();

  for (let i = 0; i < missing.length; i++) {
    const best = tree.best();
    if (best === undefined) {
      context.unplaced.push({ kind: 'slots', work, slots: missing.slice(i) });
      return;
    }
    assign(context, work, missing[i]!, best.node);
    tree.placeOnBest(hasRoom(needs, ledger, best.node, nodes[best.node]!, work.countOnNode.get(best.node)!));
  }
}
