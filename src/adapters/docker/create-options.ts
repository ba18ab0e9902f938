import type { ContainerCreateOptions, EndpointSettings, NetworkCreateOptions } from 'dockerode';
import type { CreateContainerRequest, HealthcheckRequest, NetworkAttachment, NetworkCreateRequest, PortBinding } from '../../seams/container-runtime.ts';

const nanosecondsPerMs = 1_000_000;

function portKey(port: PortBinding): string {
  return `${port.target}/${port.protocol}`;
}

function healthcheckOptions(healthcheck: HealthcheckRequest): NonNullable<ContainerCreateOptions['Healthcheck']> {
  // The engine wants durations in nanoseconds; 0 means "inherit the image's value".
  return {
    Test: [...healthcheck.test],
    ...(healthcheck.intervalMs !== undefined ? { Interval: healthcheck.intervalMs * nanosecondsPerMs } : {}),
    ...(healthcheck.timeoutMs !== undefined ? { Timeout: healthcheck.timeoutMs * nanosecondsPerMs } : {}),
    ...(healthcheck.retries !== undefined ? { Retries: healthcheck.retries } : {}),
    ...(healthcheck.startPeriodMs !== undefined ? { StartPeriod: healthcheck.startPeriodMs * nanosecondsPerMs } : {}),
    ...(healthcheck.startIntervalMs !== undefined ? { StartInterval: healthcheck.startIntervalMs * nanosecondsPerMs } : {}),
  };
}

/** How a container joins one network: its DNS aliases there and any fixed address. */
export function toEndpointSettings(attachment: NetworkAttachment): EndpointSettings {
  const fixed = attachment.ipv4Address !== undefined || attachment.ipv6Address !== undefined;
  return {
    Aliases: [...attachment.aliases],
    ...(fixed ? {
      IPAMConfig: {
        ...(attachment.ipv4Address !== undefined ? { IPv4Address: attachment.ipv4Address } : {}),
        ...(attachment.ipv6Address !== undefined ? { IPv6Address: attachment.ipv6Address } : {}),
      },
    } : {}),
  };
}

export function toNetworkCreateOptions(request: NetworkCreateRequest): NetworkCreateOptions {
  return {
    Name: request.name,
    // Engines before API 1.44 create a second network of the same name without it.
    CheckDuplicate: true,
    Driver: request.driver,
    Internal: request.internal,
    Attachable: request.attachable,
    EnableIPv6: request.enableIpv6,
    Options: { ...request.options },
    Labels: { ...request.labels },
    ...(request.ipam.length > 0 ? {
      IPAM: {
        Driver: 'default',
        Config: request.ipam.map((pool) => ({
          ...(pool.subnet !== undefined ? { Subnet: pool.subnet } : {}),
          ...(pool.ipRange !== undefined ? { IPRange: pool.ipRange } : {}),
          ...(pool.gateway !== undefined ? { Gateway: pool.gateway } : {}),
          ...(Object.keys(pool.auxAddresses).length > 0 ? { AuxiliaryAddresses: { ...pool.auxAddresses } } : {}),
        })),
      },
    } : {}),
  };
}

/**
 * The engine's create body for one request. Restarts are left to the node agent (RestartPolicy
 * "no"): it honours compose's restart_policy with its own backoff and must see every exit.
 */
/**
 * The container joins the first of its networks at create (engines before API 1.44 take only one
 * there); DockerodeRuntime.create connects it to the others before it is started.
 */
export function toCreateOptions(request: CreateContainerRequest): ContainerCreateOptions {
  const first = request.networks?.[0];
  const networkMode = request.networkMode ?? first?.name;
  const exposedPorts: Record<string, object> = {};
  const portBindings: Record<string, { HostPort: string; HostIp?: string }[]> = {};
  for (const port of request.ports) {
    const key = portKey(port);
    exposedPorts[key] = {};
    // A target without a published port is published on a port the engine picks, as compose does.
    const binding = {
      HostPort: port.published === undefined ? '' : String(port.published),
      ...(port.hostIp !== undefined ? { HostIp: port.hostIp } : {}),
    };
    (portBindings[key] ??= []).push(binding);
  }
  return {
    name: request.name,
    Image: request.image,
    ...(request.command !== undefined ? { Cmd: [...request.command] } : {}),
    ...(request.entrypoint !== undefined ? { Entrypoint: [...request.entrypoint] } : {}),
    Env: Object.entries(request.env).map(([key, value]) => `${key}=${value}`),
    Labels: { ...request.labels },
    ...(request.ports.length > 0 ? { ExposedPorts: exposedPorts } : {}),
    ...(request.healthcheck !== undefined ? { Healthcheck: healthcheckOptions(request.healthcheck) } : {}),
    ...(request.user !== undefined ? { User: request.user } : {}),
    ...(request.workingDir !== undefined ? { WorkingDir: request.workingDir } : {}),
    // The engine counts the stop timeout in whole seconds; round up so the grace period is never cut short.
    ...(request.stopGracePeriodMs !== undefined ? { StopTimeout: Math.ceil(request.stopGracePeriodMs / 1000) } : {}),
    ...(request.stopSignal !== undefined ? { StopSignal: request.stopSignal } : {}),
    ...(first !== undefined && request.networkMode === undefined ? { NetworkingConfig: { EndpointsConfig: { [first.name]: toEndpointSettings(first) } } } : {}),
    HostConfig: {
      ...(request.ports.length > 0 ? { PortBindings: portBindings } : {}),
      Mounts: request.mounts.map((mount) => ({
        Type: mount.type,
        Target: mount.target,
        ReadOnly: mount.readOnly,
        // Empty means an anonymous volume, or nothing for tmpfs (which refuses a source).
        Source: mount.source ?? '',
      })),
      ...(networkMode !== undefined ? { NetworkMode: networkMode } : {}),
      CapAdd: [...request.capAdd],
      CapDrop: [...request.capDrop],
      Devices: request.devices.map((device) => ({
        PathOnHost: device.hostPath,
        PathInContainer: device.containerPath,
        CgroupPermissions: device.permissions,
      })),
      ...(request.nanoCpus !== undefined ? { NanoCpus: request.nanoCpus } : {}),
      ...(request.memoryBytes !== undefined ? { Memory: request.memoryBytes } : {}),
      ...(request.pidsLimit !== undefined ? { PidsLimit: request.pidsLimit } : {}),
      RestartPolicy: { Name: 'no' },
    },
  };
}
