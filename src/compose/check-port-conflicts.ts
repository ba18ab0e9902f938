/**
 * Published host ports that cannot all be bound on one node are refused at load time. Otherwise
 * the deploy is accepted and every replica after the first fails with "port is already
 * allocated" and is restarted forever. Two cases, each reported at the `ports:` entry:
 *   - a fixed `mode: host` port (or range) on a service with more than one replica: every replica
 *     would bind it (one node may run them all; a global service runs one); an ingress port (the
 *     default) is served by every node's forwarder and its replicas bind ephemeral ports;
 *   - two entries — of two services, or of one — publishing overlapping host ports.
 * Ports without a published host port get an ephemeral one per replica and never conflict.
 */
import { composeCodes } from './compose-codes.ts';
import type { DiagnosticSink } from './diagnostics.ts';
import { describeBindings, hostBindings, HostPortTable, nodeBindings } from './host-port-table.ts';
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
      // An ingress port is served by the forwarder of every node; replicas bind ephemeral ports.
      if (replicas > 1 && nodeBindings(parsed).length > 0) {
        sink.error(path, composeCodes.portConflict,
          `host port ${describeBindings(bindings)} is published by each of the ${replicas} replicas, but only one can bind it on this node: `
          + 'publish it in ingress mode (the default) so every node forwards it to the replicas, drop the host port to give each replica its own, or run one replica');
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
