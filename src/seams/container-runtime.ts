/**
 * The Docker engine as a seam. The real implementation wraps dockerode; the simulator's is an
 * in-memory engine with configurable latency and faults. Everything an actor needs from an
 * engine goes through here, so no actor imports dockerode.
 */
export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
export type HealthState = 'none' | 'starting' | 'healthy' | 'unhealthy';

export interface ContainerSummary {
  readonly id: string;
  readonly name: string;
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly state: ContainerState;
  readonly health: HealthState;
  /** Present once the container has exited at least once. */
  readonly exitCode?: number;
  readonly createdAtMs: number;
  readonly startedAtMs?: number;
  /** Where the engine published the container's ports on the node (inspect only; the listing may omit it). */
  readonly ports?: readonly PublishedPort[];
  /** The engine's network mode (`bridge`, `host`, `container:<id>`, a network name), when it says. */
  readonly networkMode?: string;
}

/** A container port the engine published on the node: what an ingress forwarder connects to. */
export interface PublishedPort {
  readonly target: number;
  readonly protocol: 'tcp' | 'udp' | 'sctp';
  readonly hostPort: number;
}

export interface PortBinding {
  readonly target: number;
  readonly published?: number;
  readonly protocol: 'tcp' | 'udp' | 'sctp';
  readonly hostIp?: string;
}

export interface MountRequest {
  readonly type: 'volume' | 'bind' | 'tmpfs';
  /** Volume name or host path; absent for anonymous volumes and tmpfs. */
  readonly source?: string;
  readonly target: string;
  readonly readOnly: boolean;
}

export interface HealthcheckRequest {
  /** Docker's form: ['CMD', ...], ['CMD-SHELL', '...'] or ['NONE']. */
  readonly test: readonly string[];
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
  readonly retries?: number;
  readonly startPeriodMs?: number;
  /** Interval between checks during the start period; engines before API 1.44 ignore it. */
  readonly startIntervalMs?: number;
}

/** A network to create on the engine (a stack's network on this node). */
export interface NetworkCreateRequest {
  readonly name: string;
  readonly driver: string;
  readonly internal: boolean;
  readonly attachable: boolean;
  readonly enableIpv6: boolean;
  readonly options: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly ipam: readonly { readonly subnet?: string; readonly ipRange?: string; readonly gateway?: string; readonly auxAddresses: Readonly<Record<string, string>> }[];
  /**
   * An existing network of this name is reused only when it carries every one of these labels
   * (it is this stack's, made earlier or by a concurrent create); any other is not ours to use.
   */
  readonly ownerLabels: Readonly<Record<string, string>>;
}

/** One network a container joins, with the DNS names it answers to there. */
export interface NetworkAttachment {
  /** Engine name of the network. */
  readonly name: string;
  readonly aliases: readonly string[];
  readonly ipv4Address?: string;
  readonly ipv6Address?: string;
  /** How to create the network when it is missing; absent for an external network, which must exist. */
  readonly create?: NetworkCreateRequest;
}

export interface NetworkSummary {
  readonly id: string;
  readonly name: string;
  readonly driver: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface CreateContainerRequest {
  readonly name: string;
  readonly image: string;
  readonly command?: readonly string[];
  readonly entrypoint?: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly ports: readonly PortBinding[];
  readonly mounts: readonly MountRequest[];
  readonly healthcheck?: HealthcheckRequest;
  readonly networkMode?: string;
  /** Networks to join, in order; empty or absent = `networkMode`, else the engine's default network. */
  readonly networks?: readonly NetworkAttachment[];
  readonly capAdd: readonly string[];
  readonly capDrop: readonly string[];
  readonly devices: readonly { readonly hostPath: string; readonly containerPath: string; readonly permissions: string }[];
  readonly user?: string;
  readonly workingDir?: string;
  readonly stopGracePeriodMs?: number;
  /** Signal that stops the container (e.g. "SIGINT"); absent = the image's, else SIGTERM. */
  readonly stopSignal?: string;
  readonly nanoCpus?: number;
  readonly memoryBytes?: number;
  readonly pidsLimit?: number;
}

export type RuntimeEventAction =
  | 'create' | 'start' | 'die' | 'stop' | 'kill' | 'destroy' | 'oom' | 'pause' | 'unpause' | 'restart' | 'health_status';

export interface RuntimeEvent {
  readonly action: RuntimeEventAction;
  readonly containerId: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly exitCode?: number;
  readonly health?: HealthState;
  readonly timeMs: number;
}

export interface RuntimeEventSubscription {
  close(): void;
}

export type RuntimeErrorCode = 'not_found' | 'conflict' | 'image_not_found' | 'network_not_found' | 'engine_unavailable' | 'invalid_request' | 'engine_error';

/** Every engine failure surfaces as this, with the operation named so metrics can count it. */
export class RuntimeError extends Error {
  constructor(
    readonly code: RuntimeErrorCode,
    readonly operation: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RuntimeError';
  }
}

export interface ContainerRuntime {
  ping(): Promise<void>;
  /** Containers (running or not) whose labels include every given label. */
  list(labels: Readonly<Record<string, string>>): Promise<ContainerSummary[]>;
  inspect(id: string): Promise<ContainerSummary | undefined>;
  /** Pulls the image when the engine does not have it. */
  ensureImage(image: string): Promise<void>;
  /**
   * Creates the container and connects it to every network of the request (a failed connect
   * removes it again). A network that does not exist is RuntimeError `network_not_found`.
   */
  create(request: CreateContainerRequest): Promise<string>;
  start(id: string): Promise<void>;
  stop(id: string, gracePeriodMs: number): Promise<void>;
  /** Freezes every process of the container (a paused container sends nothing); pausing a paused one is done. */
  pause(id: string): Promise<void>;
  /** Thaws a paused container; one that is not paused is done. */
  unpause(id: string): Promise<void>;
  remove(id: string): Promise<void>;
  /**
   * Creates the network unless one of that name exists; an existing one is returned when it
   * carries the request's `ownerLabels` (also when a concurrent create won the race), and is
   * RuntimeError `conflict` otherwise.
   */
  ensureNetwork(request: NetworkCreateRequest): Promise<NetworkSummary>;
  /** Networks whose labels include every given label. */
  listNetworks(labels: Readonly<Record<string, string>>): Promise<NetworkSummary[]>;
  /** A missing network returns normally; one that containers still use is RuntimeError `conflict`. */
  removeNetwork(id: string): Promise<void>;
  /**
   * Streams container events. `onEnd` fires once when the stream breaks (e.g. dockerd restarted);
   * the caller re-subscribes and re-lists, because events during the gap are lost.
   */
  events(onEvent: (event: RuntimeEvent) => void, onEnd: (error?: Error) => void): RuntimeEventSubscription;
}
