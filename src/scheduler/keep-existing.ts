/**
 * Stability first: every replica that already has a node stays there while that node may keep it
 * and it still passes the filters — a healthy placement is never moved just to even things out.
 * Replicas are admitted one by one into the ledger, so if a node can no longer hold all it runs
 * (its capacity shrank, a redeploy added a host port), the ones admitted later are moved.
 * A replica whose node is unknown is always moved: no node will run it, and a placement naming
 * an unknown node would be refused by the log.
 */
import { hasRoom, keepsExisting, meetsConstraints } from './filters.ts';
import { assign, type PlanContext, type ServiceWork } from './plan-context.ts';

const slotPattern = /^[1-9][0-9]*$/;

export function keepExisting(context: PlanContext, work: ServiceWork): void {
  const record = work.record;
  if (record === undefined) return;
  const deploy = work.needs.spec.deploy;
  const slots = Object.entries(record.slots)
    .filter(([slot]) => slotPattern.test(slot) && Number.isSafeInteger(Number(slot)))
    .map(([slot, nodeId]) => [Number(slot), nodeId] as const)
    .sort((a, b) => a[0] - b[0]);
  for (const [slot, nodeId] of slots) {
    if (deploy.mode === 'replicated' && slot > deploy.replicas) continue;
    const index = typeof nodeId === 'string' ? context.indexById.get(nodeId) : undefined;
    if (index === undefined) continue;
    const node = context.nodes[index]!;
    const count = work.countOnNode.get(index) ?? 0;
    // A global service runs once per node: a second slot on the same node is dropped.
    if (deploy.mode === 'global' && count > 0) continue;
    if (!keepsExisting(node, context.options, work.needs) || !meetsConstraints(work.needs, node)) continue;
    if (!hasRoom(work.needs, context.ledger, index, node, count)) continue;
    assign(context, work, slot, index);
  }
}
