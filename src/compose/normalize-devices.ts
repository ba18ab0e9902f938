/**
 * `devices:` "HOST[:CONTAINER[:PERMISSIONS]]" or { source, target, permissions } → DeviceSpec.
 * The container path defaults to the host path and permissions to "rwm", as in Docker.
 */
import { composeCodes } from './compose-codes.ts';
import type { NormalizeContext } from './normalize-context.ts';
import type { DeviceSpec } from './types.ts';

export function normalizeDevices(raw: unknown, ctx: NormalizeContext): DeviceSpec[] {
  if (!Array.isArray(raw)) return [];
  const devices: DeviceSpec[] = [];
  raw.forEach((item: unknown, index) => {
    const path = [...ctx.servicePath, 'devices', index];
    let hostPath: string;
    let containerPath: string | undefined;
    let permissions: string | undefined;
    if (typeof item === 'string') {
      const parts = item.split(':');
      if (parts.length > 3) {
        ctx.sink.error(path, composeCodes.invalidDevice, `invalid device ${JSON.stringify(item)}: expected HOST_PATH[:CONTAINER_PATH[:PERMISSIONS]]`);
        return;
      }
      [hostPath, containerPath, permissions] = parts as [string, string | undefined, string | undefined];
    } else {
      const long = item as { source: string; target?: string; permissions?: string };
      hostPath = long.source;
      containerPath = long.target;
      permissions = long.permissions;
    }
    if (!hostPath.startsWith('/') || (containerPath !== undefined && containerPath !== '' && !containerPath.startsWith('/'))) {
      ctx.sink.error(path, composeCodes.invalidDevice, `device paths must be absolute (got ${JSON.stringify(item)}); CDI device names are not supported`);
      return;
    }
    if (permissions !== undefined && !/^[rwm]{1,3}$/.test(permissions)) {
      ctx.sink.error(path, composeCodes.invalidDevice, `device permissions ${JSON.stringify(permissions)} must be a combination of r, w and m`);
      return;
    }
    devices.push({ hostPath, containerPath: containerPath || hostPath, permissions: permissions || 'rwm' });
  });
  return devices;
}
