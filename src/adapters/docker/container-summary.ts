import type { ContainerInfo, ContainerInspectInfo } from 'dockerode';
import type { ContainerState, ContainerSummary, HealthState, PublishedPort } from '../../seams/container-runtime.ts';

const containerStates: ReadonlySet<string> = new Set<ContainerState>(['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead']);

/** The engine writes this for "never happened" timestamps. */
const zeroTime = '0001-01-01T00:00:00Z';

function toState(text: string | undefined): ContainerState {
  // An unknown state (a newer engine) is safest read as dead: the agent then replaces the container.
  return text !== undefined && containerStates.has(text) ? (text as ContainerState) : 'dead';
}

function toHealth(text: string | undefined): HealthState {
  return text === 'starting' || text === 'healthy' || text === 'unhealthy' ? text : 'none';
}

function parseTimeMs(text: string | undefined): number | undefined {
  if (text === undefined || text === '' || text.startsWith(zeroTime.slice(0, 10))) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * A listing row. The list endpoint only has health and exit code inside the human Status text
 * ("Up 3 seconds (healthy)", "Exited (137) 2 seconds ago"), and no start time.
 */
export function summaryFromListing(info: ContainerInfo): ContainerSummary {
  const status = info.Status ?? '';
  const healthMatch = /\((?:health: )?(starting|healthy|unhealthy)\)/.exec(status);
  const exitMatch = /^Exited \((-?\d+)\)/.exec(status);
  return {
    id: info.Id,
    name: (info.Names?.[0] ?? '').replace(/^\//, ''),
    image: info.Image,
    labels: info.Labels ?? {},
    state: toState(info.State),
    health: toHealth(healthMatch?.[1]),
    ...(exitMatch?.[1] !== undefined ? { exitCode: Number(exitMatch[1]) } : {}),
    createdAtMs: info.Created * 1000,
    ...(info.HostConfig?.NetworkMode ? { networkMode: info.HostConfig.NetworkMode } : {}),
  };
}

export function summaryFromInspect(info: ContainerInspectInfo): ContainerSummary {
  const state = info.State;
  const startedAtMs = parseTimeMs(state.StartedAt);
  const finishedAtMs = parseTimeMs(state.FinishedAt);
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    image: info.Config.Image,
    labels: info.Config.Labels ?? {},
    state: toState(state.Status),
    health: toHealth(state.Health?.Status),
    // ExitCode reads 0 for a container that never ran; only report it once it has finished.
    ...(finishedAtMs !== undefined ? { exitCode: state.ExitCode } : {}),
    createdAtMs: parseTimeMs(info.Created) ?? 0,
    ...(startedAtMs !== undefined ? { startedAtMs } : {}),
    ports: publishedPorts(info.NetworkSettings?.Ports),
    ...(info.HostConfig?.NetworkMode ? { networkMode: info.HostConfig.NetworkMode } : {}),
  };
}

/**
 * `NetworkSettings.Ports` ("80/tcp" → [{HostIp, HostPort}], null when not published) → one entry
 * per container port and protocol. The engine binds IPv4 and IPv6 separately with the same port
 * number, so the first binding is the port.
 */
export function publishedPorts(ports: Readonly<Record<string, readonly { HostIp?: string; HostPort?: string }[] | null | undefined>> | undefined): PublishedPort[] {
  const out: PublishedPort[] = [];
  for (const [key, bindings] of Object.entries(ports ?? {})) {
    const match = /^(\d+)\/(tcp|udp|sctp)$/.exec(key);
    const hostPort = Number(bindings?.[0]?.HostPort);
    if (!match || !Number.isInteger(hostPort) || hostPort <= 0) continue;
    out.push({ target: Number(match[1]), protocol: match[2] as PublishedPort['protocol'], hostPort });
  }
  return out;
}
