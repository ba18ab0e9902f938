/**
 * `x-constellation.vpn` of a service → VpnSpec. It matters only on the VPN of a group (a service
 * others join with `network_mode: service:<it>`), which always gets one, defaults filled:
 *
 *   x-constellation:
 *     vpn:
 *       on_unhealthy: stop   # stop (default) | keep | pause: what happens to the dependents
 *                            # while the VPN is down or unhealthy (the vpn-link's kill switch)
 *
 * Our own extension key, so a typo in it is refused rather than ignored: a misspelt
 * `on_unhealthy` would silently leave the default in place.
 */
import { composeCodes } from './compose-codes.ts';
import type { DiagnosticSink } from './diagnostics.ts';
import type { VpnOnUnhealthy, VpnSpec } from './types.ts';
import type { KeyPath } from './yaml-source.ts';

export const extensionKey = 'x-constellation';
/** Every key of our extension on a service; progress_deadline is read by normalize-deploy.ts. */
const knownExtensionKeys = ['vpn', 'progress_deadline'];
const onUnhealthyValues: readonly VpnOnUnhealthy[] = ['stop', 'keep', 'pause'];
export const defaultVpnSpec: VpnSpec = { onUnhealthy: 'stop' };

/** isVpn: whether other services join this one's namespace. */
export function normalizeVpnOptions(service: Record<string, unknown>, servicePath: KeyPath, isVpn: boolean, sink: DiagnosticSink): VpnSpec | undefined {
  const path = [...servicePath, extensionKey];
  const extension = service[extensionKey];
  if (extension === undefined || extension === null) return isVpn ? defaultVpnSpec : undefined;
  // Not a mapping: normalize-deploy.ts reports it.
  if (typeof extension !== 'object' || Array.isArray(extension)) return isVpn ? defaultVpnSpec : undefined;
  const settings = extension as Record<string, unknown>;
  for (const key of Object.keys(settings)) {
    if (!knownExtensionKeys.includes(key)) {
      sink.error([...path, key], composeCodes.unknownKey, `unknown key "${key}" under "${extensionKey}" (known: ${knownExtensionKeys.join(', ')})`);
    }
  }
  if (settings.vpn === undefined || settings.vpn === null) return isVpn ? defaultVpnSpec : undefined;
  const vpn = mapping(settings.vpn, [...path, 'vpn'], sink);
  if (vpn === undefined) return isVpn ? defaultVpnSpec : undefined;
  let onUnhealthy = defaultVpnSpec.onUnhealthy;
  for (const [key, value] of Object.entries(vpn)) {
    if (key !== 'on_unhealthy') {
      sink.error([...path, 'vpn', key], composeCodes.unknownKey, `unknown key "${key}" under "${extensionKey}.vpn" (known: on_unhealthy)`);
    } else if (typeof value === 'string' && (onUnhealthyValues as readonly string[]).includes(value.trim())) {
      onUnhealthy = value.trim() as VpnOnUnhealthy;
    } else {
      sink.error([...path, 'vpn', key], composeCodes.invalidValue,
        `${extensionKey}.vpn.on_unhealthy must be one of ${onUnhealthyValues.join(', ')}, not ${JSON.stringify(value)}`);
    }
  }
  if (!isVpn) {
    const name = String(servicePath[servicePath.length - 1]);
    sink.warning([...path, 'vpn'], composeCodes.ignoredKey,
      `${extensionKey}.vpn is not honoured on "${name}": it applies to a service that others join with network_mode: "service:${name}", and none does`);
    return undefined;
  }
  return { onUnhealthy };
}

function mapping(value: unknown, path: KeyPath, sink: DiagnosticSink): Record<string, unknown> | undefined {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  sink.error(path, composeCodes.wrongType, `"${path[path.length - 1]!}" must be a mapping`);
  return undefined;
}
