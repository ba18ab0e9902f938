import type { NodeRecord, UpdateNodeCommand } from './commands.ts';

/**
 * The node record after an operator's update; labels are removed first, then added.
 * Object.fromEntries defines own properties, so a label named `__proto__` is kept as a label.
 */
export function updatedNode(node: NodeRecord, command: UpdateNodeCommand): NodeRecord {
  const removed = new Set(command.labelsRemove ?? []);
  const labels = new Map(Object.entries(node.labels).filter(([key]) => !removed.has(key)));
  for (const [key, value] of Object.entries(command.labelsAdd ?? {})) labels.set(key, value);
  return {
    ...node,
    labels: Object.fromEntries(labels),
    ...(command.availability !== undefined ? { availability: command.availability } : {}),
    ...(command.role !== undefined ? { role: command.role } : {}),
  };
}
