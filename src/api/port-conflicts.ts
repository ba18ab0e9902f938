import type { StackRecord } from '../cluster/state.ts';
import { describeBindings, hostBindings, HostPortTable } from '../compose/host-port-table.ts';
import { replicasOnOneNode } from '../compose/replica-limits.ts';
import type { ComposeDiagnostic, StackSpec } from '../compose/types.ts';
import { formatKeyPath } from '../compose/yaml-source.ts';
import { ApiError } from './api-error.ts';

interface Owner {
  readonly stack: string;
  readonly service: string;
}

/**
 * Refuses a deploy whose published host ports overlap those of another stack already deployed:
 * on this single node both cannot bind, and the loser's replicas would fail and restart forever.
 * The loader checks within one stack; this checks across stacks, against the state store. The
 * stack's own previous version is skipped, so redeploying it never conflicts with itself. A
 * service scaled to 0 replicas binds nothing, on either side.
 */
export function assertNoHostPortConflicts(stack: StackSpec, deployed: Readonly<Record<string, StackRecord>>): void {
  const table = new HostPortTable<Owner>();
  for (const record of Object.values(deployed)) {
    if (record.name === stack.name) continue;
    for (const service of record.spec.services) {
      if (replicasOnOneNode(service) === 0) continue;
      for (const binding of hostBindings(service.ports)) table.add(binding, { stack: record.name, service: service.name });
    }
  }
  const diagnostics: ComposeDiagnostic[] = [];
  for (const service of stack.services) {
    if (replicasOnOneNode(service) === 0) continue;
    for (const { owner, bindings } of table.clashes(hostBindings(service.ports), (other) => `${other.stack}\0${other.service}`)) {
      diagnostics.push({
        severity: 'error',
        code: 'port_conflict',
        message: `service "${service.name}" publishes host port ${describeBindings(bindings)}, already published by service "${owner.service}" of stack "${owner.stack}"`,
        path: formatKeyPath(['services', service.name, 'ports']),
        service: service.name,
      });
    }
  }
  const [first] = diagnostics;
  if (first === undefined) return;
  const more = diagnostics.length > 1 ? ` (and ${diagnostics.length - 1} more conflict${diagnostics.length === 2 ? '' : 's'})` : '';
  throw new ApiError(409, 'port_conflict',
    `${first.message}${more}; publish another host port, or remove the other stack first`, diagnostics);
}
