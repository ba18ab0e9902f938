/**
 * Published host ports that cannot all be bound on one node are refused at load time. Otherwise
 * the deploy is accepted and every replica after the first fails with "port is already
 * allocated" and is restarted forever. Two cases, each reported at the `ports:` entry:
 *   - a fixed host port (or range) on a service with more than one replica: every replica would
 *     bind it (this node runs them all; a global service runs one);
 *   - two entries — of two services, or of one — publishing overlapping host ports.
 * Ports without a published host port get an ephemeral one per replica and never conflict.
 */
import { composeCodes } from './compose-codes.ts';
import type { DiagnosticSink } from './diagnostics.ts';
import { describeBindings, hostBindings, HostPortTable } from './host-port-table.ts';
import { parsePortEntry } from './normalize-ports.ts';
import { replicasOnOneNode } from './replica-limits.ts';
import type { ServiceSpec } from './types.ts';
import { formatKeyPath, type KeyPath } from './yaml-source.ts';

interface Entry {
  readonly service: string;
  readonly index: number;
}

export function checkPortConflicts(
  services: readonly ServiceSpec[],
  raw: Readonly<Record<string, Record<string, unknown> | null>>,
  sink: DiagnosticSink,
  lineOf: (path: KeyPath) => number | undefined,
): void {
  const table = new HostPortTable<Entry>();
  const where = (entry: Entry): string => {
    const path = ['services', entry.service, 'ports', entry.index];
    const line = lineOf(path);
    return `${formatKeyPath(path)}${line === undefined ? '' : `, line ${line}`}`;
  };
  for (const service of services) {
    const items = raw[service.name]?.ports;
    if (!Array.isArray(items)) continue;
    const replicas = replicasOnOneNode(service);
    // Scaled to zero, it binds nothing (the API's cross-stack check skips it the same way).
    if (replicas === 0) continue;
    items.forEach((item: unknown, index) => {
      const parsed = parsePortEntry(item);
      // Invalid entries were reported by normalizePorts.
      if (typeof parsed === 'string') return;
      const bindings = hostBindings(parsed);
      if (bindings.length === 0) return;
      const path = ['services', service.name, 'ports', index];
      if (replicas > 1) {
        sink.error(path, composeCodes.portConflict,
          `host port ${describeBindings(bindings)} is published by each of the ${replicas} replicas, but only one can bind it on this node: `
          + 'drop the host port (e.g. "80" instead of "8080:80") to give each replica its own, or run one replica');
      }
      // Look up the whole entry before adding it: the ports of one range never conflict with each other.
      for (const { owner: entry, bindings: overlapping } of table.clashes(bindings, (other) => `${other.service}\0${other.index}`)) {
        const owner = entry.service === service.name ? 'another entry of this service' : `service "${entry.service}"`;
        sink.error(path, composeCodes.portConflict,
          `host port ${describeBindings(overlapping)} is also published by ${owner} (${where(entry)}); two containers cannot bind one host port on this node`);
      }
      for (const binding of bindings) table.add(binding, { service: service.name, index });
    });
  }
}
