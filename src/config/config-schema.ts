/**
 * The daemon configuration: its TypeScript type and the JSON schema (draft 2020-12) that
 * validates it and supplies defaults. additionalProperties is false on every settings object so a
 * misspelt key is reported instead of silently ignored; the one open map is node.labels (user
 * chosen label names, string values). config/constellation.yml.example documents every key; a
 * test keeps the two in step.
 */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface Config {
  readonly node: {
    /** Defaults to the host name. */
    readonly id: string;
    /** Relative paths are relative to the daemon's working directory. */
    readonly dataDir: string;
    readonly labels: Readonly<Record<string, string>>;
  };
  readonly docker: {
    /** After loading never empty: '' in the file means DOCKER_HOST, else unix:///var/run/docker.sock. */
    readonly host: string;
  };
  readonly api: {
    readonly host: string;
    readonly port: number;
    readonly token: string;
    /** May only read (viewers); '' = the one generated into <dataDir>/api-token.read-only. */
    readonly readOnlyToken: string;
  };
  readonly cluster: {
    /** Start a new cluster with this node as its first manager (ignored once the node is a member). */
    readonly bootstrap: boolean;
    /** Join token (manager or worker) used with `seeds` or discovery to join an existing cluster. */
    readonly token: string;
    /** Optional: pins the cluster secret at bootstrap; else one is generated. */
    readonly secret: string;
    readonly listen: { readonly host: string; readonly port: number };
    /** "host:port" peers reach this node's cluster port on; '' = listen host and port. */
    readonly advertiseAddress: string;
    /** Cluster ports of managers to join through, "host:port". */
    readonly seeds: readonly string[];
    readonly heartbeatIntervalMs: number;
    readonly nodeDownAfterMs: number;
    readonly discovery: { readonly tailscale: { readonly enabled: boolean; readonly socket: string; readonly tag: string } };
  };
  readonly raft: { readonly electionTimeoutMs: number; readonly heartbeatIntervalMs: number; readonly snapshotEveryEntries: number };
  readonly reconcile: { readonly intervalMs: number };
  readonly log: { readonly level: LogLevel; readonly format: 'auto' | 'json' | 'pretty' };
  readonly metrics: { readonly enabled: boolean };
}

export const defaultDockerHost = 'unix:///var/run/docker.sock';

type JsonSchema = Record<string, unknown>;

const section = (properties: Record<string, JsonSchema>): JsonSchema => ({
  type: 'object',
  additionalProperties: false,
  default: {},
  properties,
});

const port = (fallback: number): JsonSchema => ({ type: 'integer', minimum: 1, maximum: 65535, default: fallback });
const positiveInteger = (fallback: number): JsonSchema => ({ type: 'integer', minimum: 1, default: fallback });

export const configSchema: JsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  additionalProperties: false,
  properties: {
    node: section({
      // No schema default: it is the host name, filled in by the loader.
      id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' },
      dataDir: { type: 'string', minLength: 1, default: './data' },
      labels: {
        type: 'object',
        propertyNames: { pattern: '^[A-Za-z0-9][A-Za-z0-9_./-]*$' },
        additionalProperties: { type: 'string' },
        default: {},
      },
    }),
    docker: section({ host: { type: 'string', default: '' } }),
    api: section({
      host: { type: 'string', minLength: 1, default: '127.0.0.1' },
      port: port(7420),
      token: { type: 'string', default: '' },
      readOnlyToken: { type: 'string', default: '' },
    }),
    cluster: section({
      bootstrap: { type: 'boolean', default: false },
      token: { type: 'string', default: '' },
      secret: { type: 'string', default: '' },
      listen: section({ host: { type: 'string', minLength: 1, default: '127.0.0.1' }, port: port(7421) }),
      advertiseAddress: { type: 'string', default: '' },
      seeds: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
      heartbeatIntervalMs: positiveInteger(500),
      nodeDownAfterMs: positiveInteger(2000),
      discovery: section({
        tailscale: section({
          enabled: { type: 'boolean', default: false },
          socket: { type: 'string', minLength: 1, default: '/var/run/tailscale/tailscaled.sock' },
          tag: { type: 'string', minLength: 1, default: 'tag:constellation' },
        }),
      }),
    }),
    raft: section({
      electionTimeoutMs: positiveInteger(1000),
      heartbeatIntervalMs: positiveInteger(100),
      snapshotEveryEntries: positiveInteger(10_000),
    }),
    reconcile: section({ intervalMs: positiveInteger(5000) }),
    log: section({
      level: { enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], default: 'info' },
      format: { enum: ['auto', 'json', 'pretty'], default: 'auto' },
    }),
    metrics: section({ enabled: { type: 'boolean', default: true } }),
  },
};

export interface SettingInfo {
  /** Dotted key, e.g. "api.port". */
  readonly key: string;
  readonly path: readonly string[];
  /** The JSON type used to coerce text from environment variables and flags. */
  readonly type: 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'map';
}

/** Every setting (leaf) of the schema; maps and lists are leaves. */
export function configSettings(schema: JsonSchema = configSchema, prefix: readonly string[] = []): SettingInfo[] {
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  if (schema.type === 'object' && properties !== undefined) {
    return Object.entries(properties).flatMap(([name, child]) => configSettings(child, [...prefix, name]));
  }
  const type = schema.type === 'object' ? 'map' : schema.type === undefined ? 'string' : String(schema.type);
  return [{ key: prefix.join('.'), path: prefix, type: type as SettingInfo['type'] }];
}

/** "node.dataDir" → "CONSTELLATION_NODE_DATA_DIR". */
export function envVarName(path: readonly string[]): string {
  return `CONSTELLATION_${path.map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')}`;
}
