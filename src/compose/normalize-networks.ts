/**
 * A service's `networks:` (list or map form) → the networks its replicas join, each with the
 * service name as a DNS alias (plus `aliases:`), as Compose does. No `networks:` (or an empty
 * list) means the stack's `default` network; `network_mode` means none of them (and the two
 * together are refused, as in Compose).
 *
 * Honoured per network: aliases, ipv4_address, ipv6_address (a fixed address is refused with
 * more than one replica: every replica would claim it). Warned about: interface_name,
 * link_local_ips, mac_address, driver_opts, priority, gw_priority.
 */
import { composeCodes } from './compose-codes.ts';
import { defaultNetworkKey } from './declare-networks.ts';
import type { NormalizeContext } from './normalize-context.ts';
import { sharedNamespaceOf } from './normalize-network-mode.ts';
import type { ServiceNetworkSpec } from './types.ts';

const ignoredAttachmentKeys = ['interface_name', 'link_local_ips', 'mac_address', 'driver_opts', 'priority', 'gw_priority'];

export function normalizeNetworks(raw: unknown, networkMode: unknown, replicas: number | 'global', ctx: NormalizeContext): ServiceNetworkSpec[] {
  const path = [...ctx.servicePath, 'networks'];
  const entries: [string, Record<string, unknown>][] = Array.isArray(raw)
    ? raw.map((key) => [String(key), {}])
    : raw !== null && typeof raw === 'object'
      ? Object.entries(raw as Record<string, Record<string, unknown> | null>).map(([key, value]) => [key, value ?? {}])
      : [];
  if (networkMode !== undefined && networkMode !== null) {
    // A dependent of a VPN group is told which service to publish on instead (check-vpn-groups.ts).
    const shared = typeof networkMode === 'string' && sharedNamespaceOf(networkMode.trim()) !== undefined;
    if (entries.length > 0 && !shared) {
      ctx.sink.error(path, composeCodes.invalidNetwork, `"networks" and "network_mode" cannot be combined in service "${ctx.service}": network_mode decides the whole network of the container`);
    }
    return [];
  }
  if (entries.length === 0) entries.push([defaultNetworkKey, {}]);
  const attachments: ServiceNetworkSpec[] = [];
  for (const [key, options] of entries) {
    const entryPath = Array.isArray(raw) ? [...path, entries.findIndex(([k]) => k === key)] : [...path, key];
    const network = ctx.declaredNetworks.get(key);
    if (network === undefined) {
      ctx.sink.error(entryPath, composeCodes.undefinedNetwork, `service "${ctx.service}" uses network "${key}", which is not declared under the top-level "networks:"`);
      continue;
    }
    for (const option of ignoredAttachmentKeys) {
      if (options[option] !== undefined) ctx.sink.warning([...entryPath, option], composeCodes.ignoredKey, `networks.${key}.${option} is not honoured`);
    }
    const aliases = [ctx.service, ...(Array.isArray(options.aliases) ? options.aliases.map(String) : [])];
    const attachment: ServiceNetworkSpec = { network, aliases: [...new Set(aliases)] };
    for (const [option, field] of [['ipv4_address', 'ipv4Address'], ['ipv6_address', 'ipv6Address']] as const) {
      const address = options[option];
      if (typeof address !== 'string' || address === '') continue;
      if (replicas === 'global' || replicas > 1) {
        ctx.sink.error([...entryPath, option], composeCodes.invalidNetwork,
          `networks.${key}.${option} cannot be used with ${replicas === 'global' ? 'global mode' : `${replicas} replicas`}: every replica would claim the same address`);
        continue;
      }
      if (!network.external && !network.ipam.some((pool) => pool.subnet !== undefined)) {
        ctx.sink.error([...entryPath, option], composeCodes.invalidNetwork,
          `networks.${key}.${option} needs a subnet: the engine assigns fixed addresses only on networks with "ipam: { config: [{ subnet: ... }] }"`);
        continue;
      }
      Object.assign(attachment, { [field]: address });
    }
    attachments.push(attachment);
  }
  return attachments;
}
