/**
 * Normalized service specs: what the compose loader produces and everything downstream consumes.
 * Durations are milliseconds, sizes bytes, and every short form is expanded to the long one.
 */
export type DependsOnCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

export interface PortSpec {
  readonly target: number;
  readonly published?: number;
  readonly protocol: 'tcp' | 'udp' | 'sctp';
  readonly hostIp?: string;
  readonly mode: 'ingress' | 'host';
}

export interface VolumeSpec {
  readonly type: 'volume' | 'bind' | 'tmpfs';
  readonly source?: string;
  readonly target: string;
  readonly readOnly: boolean;
}

export interface HealthcheckSpec {
  /** ["CMD", ...], ["CMD-SHELL", cmd] or ["NONE"]; [] keeps the image's test (only timings change). */
  readonly test: readonly string[];
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly startPeriodMs: number;
  /** Interval between checks during the start period (Docker API 1.44+); absent = intervalMs. */
  readonly startIntervalMs?: number;
  readonly disable: boolean;
}

export interface DeviceSpec {
  readonly hostPath: string;
  readonly containerPath: string;
  readonly permissions: string;
}

export interface RestartPolicySpec {
  readonly condition: 'none' | 'on-failure' | 'any';
  readonly delayMs: number;
  /** Undefined means unlimited. */
  readonly maxAttempts?: number;
  /** Attempts count only inside this window; 0 means forever. */
  readonly windowMs: number;
}

export interface UpdateConfigSpec {
  readonly parallelism: number;
  readonly delayMs: number;
  readonly failureAction: 'continue' | 'rollback' | 'pause';
  readonly monitorMs: number;
  readonly maxFailureRatio: number;
  readonly order: 'stop-first' | 'start-first';
  /**
   * `x-constellation.progress_deadline` of the service (update_config only): how long one batch
   * may take to turn healthy before the rollout counts as stuck. Absent = 10 minutes.
   */
  readonly progressDeadlineMs?: number;
}

export interface ResourceSpec {
  readonly cpus?: number;
  readonly memoryBytes?: number;
  readonly pids?: number;
}

export interface DeploySpec {
  readonly mode: 'replicated' | 'global';
  readonly replicas: number;
  readonly placement: {
    readonly constraints: readonly string[];
    readonly preferences: readonly { readonly spread: string }[];
    readonly maxReplicasPerNode?: number;
  };
  readonly resources: { readonly limits: ResourceSpec; readonly reservations: ResourceSpec };
  readonly restartPolicy: RestartPolicySpec;
  readonly updateConfig: UpdateConfigSpec;
  readonly rollbackConfig: UpdateConfigSpec;
  readonly labels: Readonly<Record<string, string>>;
}

/** One address pool of a network (`ipam.config[]`). */
export interface IpamPoolSpec {
  readonly subnet?: string;
  readonly ipRange?: string;
  readonly gateway?: string;
  readonly auxAddresses: Readonly<Record<string, string>>;
}

/**
 * A network of the stack: its own `default` one or an entry of the top-level `networks:`. Each
 * node creates it on its own engine as a bridge (cross-node service discovery is not there yet).
 */
export interface NetworkSpec {
  /** Key in the file ("default" for the stack's own network). */
  readonly key: string;
  /** Engine name: `name:` if set, the key itself for `external: true`, else `<stack>_<key>`. */
  readonly name: string;
  /** Used as it is, never created or removed; it must exist on the node. */
  readonly external: boolean;
  readonly driver: 'bridge';
  readonly driverOpts: Readonly<Record<string, string>>;
  readonly internal: boolean;
  readonly attachable: boolean;
  readonly enableIpv6: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly ipam: readonly IpamPoolSpec[];
}

/** A service's membership of one network. */
export interface ServiceNetworkSpec {
  readonly network: NetworkSpec;
  /** DNS names of the service's replicas on that network: the service name first. */
  readonly aliases: readonly string[];
  readonly ipv4Address?: string;
  readonly ipv6Address?: string;
}

/** What the vpn-link does with a group's dependents while its VPN service is down or unhealthy. */
export type VpnOnUnhealthy = 'stop' | 'keep' | 'pause';

/**
 * Set on a service that other services join with `network_mode: service:<it>` (the VPN of a
 * group; src/compose/vpn-groups.ts lists the groups), from `x-constellation.vpn`, defaults filled.
 */
export interface VpnSpec {
  /** `x-constellation.vpn.on_unhealthy`; default `stop` (the kill switch). */
  readonly onUnhealthy: VpnOnUnhealthy;
}

export interface ServiceSpec {
  readonly name: string;
  readonly image: string;
  readonly command?: readonly string[];
  readonly entrypoint?: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  readonly ports: readonly PortSpec[];
  readonly volumes: readonly VolumeSpec[];
  readonly labels: Readonly<Record<string, string>>;
  readonly healthcheck?: HealthcheckSpec;
  /** The top-level compose `restart:` key; deploy.restartPolicy is derived from it when absent. */
  readonly restart?: 'no' | 'always' | 'on-failure' | 'unless-stopped';
  readonly dependsOn: Readonly<Record<string, { readonly condition: DependsOnCondition; readonly required: boolean; readonly restart: boolean }>>;
  /**
   * The engine's network mode: `host`, `none`, `bridge`, `default`, or `service:<name>` for a
   * dependent of a VPN group (never `container:`; the loader rewrites one naming a service of the
   * stack and refuses any other).
   */
  readonly networkMode?: string;
  /** Only on the VPN service of a group (see VpnSpec). */
  readonly vpn?: VpnSpec;
  /**
   * Networks the replicas join, in file order; empty with network_mode. Absent only in specs
   * stored before per-stack networks existed: those replicas stay on the engine's default network.
   */
  readonly networks?: readonly ServiceNetworkSpec[];
  readonly capAdd: readonly string[];
  readonly capDrop: readonly string[];
  readonly devices: readonly DeviceSpec[];
  readonly user?: string;
  readonly workingDir?: string;
  readonly stopGracePeriodMs: number;
  /** Signal sent to stop the container (e.g. "SIGINT"); absent = the image's / engine's default. */
  readonly stopSignal?: string;
  readonly deploy: DeploySpec;
}

export interface StackSpec {
  readonly name: string;
  /** In dependency order (a service comes after everything it depends on). */
  readonly services: readonly ServiceSpec[];
}

/** A message about the input that names where it is: file, line, key path, service. */
export interface ComposeDiagnostic {
  readonly severity: 'error' | 'warning';
  readonly code: string;
  readonly message: string;
  readonly file?: string;
  readonly line?: number;
  readonly path?: string;
  readonly service?: string;
}
