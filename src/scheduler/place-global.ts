/**
 * A global service runs one replica on every node that takes new replicas and meets its
 * constraints — including nodes that joined since the last plan. Such a node whose free
 * resources or host ports do not allow the replica gets a pending replica that names the node.
 *
 * Slots: a global service's replicas are numbered like replicated ones (positive integers, what
 * the `place-service` command accepts); a new node takes the lowest free number, and a replica
 * keeps its number for as long as it stays on its node. The node, not the number, identifies a
 * global replica.
 */
import { hasRoom } from './filters.ts';
import { assign, eligibleNodes, type PlanContext, type ServiceWork } from './plan-context.ts';

export function placeGlobal(context: PlanContext, work: ServiceWork): void {
  const { needs } = work;
  let nextSlot = 1;
  for (const index of eligibleNodes(context, needs)) {
    if (work.countOnNode.has(index)) continue;
    const node = context.nodes[index]!;
    if (!hasRoom(needs, context.ledger, index, node, 0)) {
      context.unplaced.push({ kind: 'node', work, node: index });
      continue;
    }
    while (work.slots.has(nextSlot)) nextSlot++;
    assign(context, work, nextSlot, index);
  }
}
