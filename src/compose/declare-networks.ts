/**
 * The top-level `networks:` → the stack's networks by key, always with `default` (the network of
 * every service that names none), as Compose does: engine name `<stack>_<key>` unless `name:` is
 * set, and an `external: true` network is used under its own name and never created or removed.
 *
 * What a node honours when it creates a network on its engine: driver `bridge` (also the
 * default), `overlay` as a bridge on each node (warned: replicas on other nodes are not reachable
 * through it yet), `internal`, `attachable`, `enable_ipv6`, `labels`, `driver_opts` and the
 * default IPAM driver's `config` (subnet, ip_range, gateway, aux_addresses). Refused: other
 * drivers (macvlan, ipvlan, host, none, plugins need a parent interface or a plugin that a node
 * may not have) and other IPAM drivers. Warned about: `enable_ipv4`, `ipam.options`, and options
 * next to `external` (an external network is used as it is).
 */
import { composeCodes } from './compose-codes.ts';
import type { DiagnosticSink } from './diagnostics.ts';
import { normalizeLabels } from './normalize-environment.ts';
import type { IpamPoolSpec, NetworkSpec } from './types.ts';

export const defaultNetworkKey = 'default';

const creationKeys = ['driver', 'driver_opts', 'ipam', 'internal', 'attachable', 'enable_ipv4', 'enable_ipv6', 'labels'];

export function declareNetworks(raw: unknown, stack: string, sink: DiagnosticSink): Map<string, NetworkSpec> {
  const networks = new Map<string, NetworkSpec>();
  const entries = raw !== null && typeof raw === 'object' ? Object.entries(raw as Record<string, Record<string, unknown> | null>) : [];
  if (!entries.some(([key]) => key === defaultNetworkKey)) networks.set(defaultNetworkKey, declareNetwork(defaultNetworkKey, {}, stack, sink));
  for (const [key, definition] of entries) networks.set(key, declareNetwork(key, definition ?? {}, stack, sink));
  return networks;
}

function declareNetwork(key: string, def: Record<string, unknown>, stack: string, sink: DiagnosticSink): NetworkSpec {
  const path = ['networks', key];
  const externalRaw = def.external;
  const externalName = externalRaw !== null && typeof externalRaw === 'object' ? (externalRaw as { name?: unknown }).name : undefined;
  const external = externalRaw === true || externalRaw === 'true' || (externalRaw !== null && typeof externalRaw === 'object');
  const explicitName = typeof def.name === 'string' && def.name !== '' ? def.name : typeof externalName === 'string' && externalName !== '' ? externalName : undefined;
  const name = explicitName ?? (external ? key : `${stack}_${key}`);
  if (external) {
    for (const option of creationKeys) {
      if (def[option] !== undefined) sink.warning([...path, option], composeCodes.ignoredKey, `"${option}" of external network "${key}" is not honoured: an external network is used as it is`);
    }
  }
  const driverRaw = external || def.driver === undefined || def.driver === null ? 'bridge' : String(def.driver);
  if (driverRaw === 'overlay') {
    sink.warning([...path, 'driver'], composeCodes.ignoredKey,
      `network "${key}" is created as a bridge on each node: services reach each other by name only among replicas on the same node (cross-node networking is not there yet)`);
  } else if (driverRaw !== 'bridge') {
    sink.error([...path, 'driver'], composeCodes.networkUnsupported,
      `network driver "${driverRaw}" is not supported: each node creates the stack's networks as bridges on its own engine (macvlan, ipvlan and plugin drivers need interfaces or plugins a node may not have); use "bridge", or create the network yourself and declare it "external: true"`);
  }
  if (def.enable_ipv4 !== undefined) {
    sink.warning([...path, 'enable_ipv4'], composeCodes.ignoredKey, `"enable_ipv4" of network "${key}" is not honoured: networks always get IPv4`);
  }
  return {
    key,
    name,
    external,
    driver: 'bridge',
    driverOpts: external ? {} : stringMap(def.driver_opts),
    internal: !external && isTrue(def.internal),
    attachable: !external && isTrue(def.attachable),
    enableIpv6: !external && isTrue(def.enable_ipv6),
    labels: external ? {} : normalizeLabels(def.labels),
    ipam: external ? [] : ipamPools(def.ipam, [...path, 'ipam'], key, sink),
  };
}

function ipamPools(raw: unknown, path: readonly (string | number)[], key: string, sink: DiagnosticSink): IpamPoolSpec[] {
  if (raw === null || typeof raw !== 'object') return [];
  const ipam = raw as { driver?: unknown; config?: unknown; options?: unknown };
  if (ipam.driver !== undefined && ipam.driver !== 'default') {
    sink.error([...path, 'driver'], composeCodes.networkUnsupported, `IPAM driver "${String(ipam.driver)}" of network "${key}" is not supported: only the engine's default IPAM driver is`);
  }
  if (ipam.options !== undefined) sink.warning([...path, 'options'], composeCodes.ignoredKey, `ipam.options of network "${key}" are not honoured`);
  const pools = Array.isArray(ipam.config) ? (ipam.config as Record<string, unknown>[]) : [];
  return pools.map((pool) => ({
    ...(typeof pool.subnet === 'string' ? { subnet: pool.subnet } : {}),
    ...(typeof pool.ip_range === 'string' ? { ipRange: pool.ip_range } : {}),
    ...(typeof pool.gateway === 'string' ? { gateway: pool.gateway } : {}),
    auxAddresses: stringMap(pool.aux_addresses),
  }));
}

function isTrue(value: unknown): boolean {
  return value === true || value === 'true';
}

function stringMap(raw: unknown): Record<string, string> {
  // fromEntries defines each key as an own property, so a "__proto__" key stays a key.
  if (raw === null || typeof raw !== 'object') return {};
  return Object.fromEntries(Object.entries(raw as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
}
