/**
 * Loads the daemon configuration: defaults < YAML file < CONSTELLATION_* environment variables
 * < command-line overrides (dotted keys, e.g. "api.port"). Everything is validated against
 * config-schema.ts; every problem is reported with where it came from — the file and line, the
 * environment variable, or the flag — before the daemon does anything.
 *
 * Security by default: an API listening beyond loopback requires api.token; the cluster port
 * opens only in cluster mode, where every request on it is authenticated.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import { schemaProblems } from '../compose/schema-diagnostics.ts';
import type { ComposeDiagnostic } from '../compose/types.ts';
import { formatKeyPath, parseYamlSource, type KeyPath, type YamlSource } from '../compose/yaml-source.ts';
import { coerceSetting } from './coerce-setting.ts';
import { configSchema, configSettings, defaultDockerHost, envVarName, type Config, type SettingInfo } from './config-schema.ts';
import { isLoopbackHost } from './loopback.ts';

export type { Config } from './config-schema.ts';

/** Same shape as compose diagnostics: file (or "environment" / "command line"), line, path. */
export type ConfigDiagnostic = ComposeDiagnostic;

export interface LoadConfigOptions {
  /** A YAML file; when given it must exist. Without it the defaults apply. */
  readonly file?: string;
  readonly env: NodeJS.ProcessEnv;
  /** Dotted key → text, from CLI flags (e.g. { 'api.port': '7500' }). */
  readonly overrides?: Readonly<Record<string, string>>;
}

export type LoadConfigResult =
  | { readonly ok: true; readonly config: Config; readonly warnings: ConfigDiagnostic[] }
  | { readonly ok: false; readonly errors: ConfigDiagnostic[]; readonly warnings: ConfigDiagnostic[] };

export const configCodes = {
  fileUnreadable: 'CONFIG_FILE_UNREADABLE',
  yamlSyntax: 'CONFIG_YAML_SYNTAX',
  notAMapping: 'CONFIG_NOT_A_MAPPING',
  unknownKey: 'CONFIG_UNKNOWN_KEY',
  wrongType: 'CONFIG_WRONG_TYPE',
  invalidValue: 'CONFIG_INVALID_VALUE',
  badEnvironmentValue: 'CONFIG_BAD_ENVIRONMENT_VALUE',
  unknownEnvironmentVariable: 'CONFIG_UNKNOWN_ENVIRONMENT_VARIABLE',
  badOverride: 'CONFIG_BAD_OVERRIDE',
  unknownOverride: 'CONFIG_UNKNOWN_OVERRIDE',
  tokenRequired: 'CONFIG_API_TOKEN_REQUIRED',
  readOnlyTokenSame: 'CONFIG_API_READ_ONLY_TOKEN_SAME',
  joinTokenRequired: 'CONFIG_JOIN_TOKEN_REQUIRED',
  advertiseAddressRequired: 'CONFIG_ADVERTISE_ADDRESS_REQUIRED',
  timing: 'CONFIG_RAFT_TIMING',
} as const;

/** Variables with the CONSTELLATION_ prefix that are not settings (used by the CLI itself). */
const nonSettingVariables = new Set(['CONSTELLATION_CONFIG']);

type Origin = { readonly kind: 'file' } | { readonly kind: 'env'; readonly variable: string } | { readonly kind: 'flag'; readonly key: string };

export function loadConfig(options: LoadConfigOptions): LoadConfigResult {
  const errors: ConfigDiagnostic[] = [];
  const warnings: ConfigDiagnostic[] = [];
  const fail = (): LoadConfigResult => ({ ok: false, errors, warnings });

  let source: YamlSource = { value: {}, lineOf: () => undefined };
  if (options.file !== undefined) {
    let content: string;
    try {
      content = readFileSync(options.file, 'utf8');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(error as Error).message})`;
      errors.push({ severity: 'error', code: configCodes.fileUnreadable, message: `config file ${options.file} ${reason}`, file: options.file });
      return fail();
    }
    const parsed = parseYamlSource(content, { file: options.file, codePrefix: 'CONFIG' });
    if (!parsed.ok) return { ok: false, errors: parsed.errors, warnings };
    source = parsed.source.value === null ? { ...parsed.source, value: {} } : parsed.source;
    if (typeof source.value !== 'object' || Array.isArray(source.value)) {
      errors.push({ severity: 'error', code: configCodes.notAMapping, message: 'the config file must be a mapping of settings', file: options.file, line: 1 });
      return fail();
    }
  }

  const settings = configSettings();
  const merged = structuredClone(source.value) as Record<string, unknown>;
  const origins = new Map<string, Origin>();
  const apply = (setting: SettingInfo, value: unknown, origin: Origin): void => {
    setAt(merged, setting.path, value);
    origins.set(setting.key, origin);
  };

  for (const setting of settings) {
    const variable = envVarName(setting.path);
    const text = options.env[variable];
    if (text === undefined) continue;
    const coerced = coerceSetting(setting, text);
    if (coerced.ok) apply(setting, coerced.value, { kind: 'env', variable });
    else errors.push(originDiagnostic({ kind: 'env', variable }, setting.key, configCodes.badEnvironmentValue, `${variable}=${JSON.stringify(text)} ${coerced.message}`));
  }
  const knownVariables = new Set(settings.map((s) => envVarName(s.path)));
  for (const variable of Object.keys(options.env)) {
    if (variable.startsWith('CONSTELLATION_') && !knownVariables.has(variable) && !nonSettingVariables.has(variable)) {
      warnings.push({ severity: 'warning', code: configCodes.unknownEnvironmentVariable, message: `${variable} is not a Constellation setting and is ignored`, file: 'environment' });
    }
  }

  const byKey = new Map(settings.map((s) => [s.key, s]));
  for (const [key, text] of Object.entries(options.overrides ?? {})) {
    const setting = byKey.get(key);
    if (setting === undefined) {
      errors.push(originDiagnostic({ kind: 'flag', key }, key, configCodes.unknownOverride, `unknown setting "${key}"`));
      continue;
    }
    const coerced = coerceSetting(setting, text);
    if (coerced.ok) apply(setting, coerced.value, { kind: 'flag', key });
    else errors.push(originDiagnostic({ kind: 'flag', key }, key, configCodes.badOverride, `${key}=${JSON.stringify(text)} ${coerced.message}`));
  }
  if (errors.length > 0) return fail();

  const validate = configValidator();
  if (!validate(merged)) {
    for (const problem of schemaProblems(validate.errors ?? [], merged, 'CONFIG')) {
      errors.push(locate(problem.path, problem.code, problem.message, source, origins));
    }
    return fail();
  }

  const config = finish(merged, options.env);
  checkSecurity(config, source, origins, errors);
  if (config.raft.heartbeatIntervalMs >= config.raft.electionTimeoutMs) {
    errors.push(locate(['raft', 'heartbeatIntervalMs'], configCodes.timing,
      `raft.heartbeatIntervalMs (${config.raft.heartbeatIntervalMs}) must be below raft.electionTimeoutMs (${config.raft.electionTimeoutMs}), or followers start elections against a healthy leader`,
      source, origins));
  }
  return errors.length > 0 ? fail() : { ok: true, config, warnings };
}

let compiled: ValidateFunction | undefined;
function configValidator(): ValidateFunction {
  // useDefaults fills every absent setting (and absent section, whose own defaults then apply).
  compiled ??= new Ajv2020({ allErrors: true, useDefaults: true, strict: true }).compile(configSchema);
  return compiled;
}

function finish(merged: Record<string, unknown>, env: NodeJS.ProcessEnv): Config {
  const config = merged as unknown as Config & { node: { id?: string }; docker: { host: string } };
  const nodeId = config.node.id === undefined || config.node.id === '' ? hostname() : config.node.id;
  const dockerHost = config.docker.host !== '' ? config.docker.host : env.DOCKER_HOST !== undefined && env.DOCKER_HOST !== '' ? env.DOCKER_HOST : defaultDockerHost;
  return { ...config, node: { ...config.node, id: nodeId }, docker: { ...config.docker, host: dockerHost } };
}

function checkSecurity(config: Config, source: YamlSource, origins: ReadonlyMap<string, Origin>, errors: ConfigDiagnostic[]): void {
  if (!isLoopbackHost(config.api.host) && config.api.token === '') {
    errors.push(locate(['api', 'host'], configCodes.tokenRequired,
      `api.host ${config.api.host} is reachable from other machines: set api.token (CONSTELLATION_API_TOKEN) so the API is not open to the network`,
      source, origins));
  }
  if (config.api.readOnlyToken !== '' && config.api.readOnlyToken === config.api.token) {
    errors.push(locate(['api', 'readOnlyToken'], configCodes.readOnlyTokenSame,
      'api.readOnlyToken equals api.token: a viewer holding it could deploy; choose another value (or leave it empty for a generated one)',
      source, origins));
  }
  // The cluster port opens only in cluster mode, and there every request is authenticated (the
  // mesh and peer RPCs by the cluster secret, a join by its token), so it may face the network.
  const clusterMode = config.cluster.bootstrap || config.cluster.seeds.length > 0 || config.cluster.discovery.tailscale.enabled;
  if (clusterMode && !config.cluster.bootstrap && config.cluster.token === '') {
    errors.push(locate(['cluster', 'token'], configCodes.joinTokenRequired,
      'joining a cluster needs a join token: set cluster.token (--token), as printed by `constellation cluster tokens` on a manager',
      source, origins));
  }
  if (clusterMode && config.cluster.advertiseAddress === '' && ['0.0.0.0', '::', '[::]'].includes(config.cluster.listen.host)) {
    errors.push(locate(['cluster', 'advertiseAddress'], configCodes.advertiseAddressRequired,
      `cluster.listen.host ${config.cluster.listen.host} is not an address peers can dial: set cluster.advertiseAddress to host:port`,
      source, origins));
  }
}

/** Places a problem where its value came from: a flag, a variable, or the file's line. */
function locate(path: KeyPath, code: string, message: string, source: YamlSource, origins: ReadonlyMap<string, Origin>): ConfigDiagnostic {
  const key = formatKeyPath(path);
  const origin = [...origins.entries()].find(([settingKey]) => key === settingKey || key.startsWith(`${settingKey}.`) || key.startsWith(`${settingKey}[`))?.[1];
  if (origin !== undefined && origin.kind !== 'file') return originDiagnostic(origin, key, code, message);
  const line = source.lineOf(path);
  return {
    severity: 'error',
    code,
    message,
    ...(source.file === undefined ? {} : { file: source.file }),
    ...(line === undefined ? {} : { line }),
    path: key,
  };
}

function originDiagnostic(origin: Origin, key: string, code: string, message: string): ConfigDiagnostic {
  if (origin.kind === 'env') {
    return { severity: 'error', code, message: message.includes(origin.variable) ? message : `${origin.variable}: ${message}`, file: 'environment', path: key };
  }
  return { severity: 'error', code, message, file: 'command line', path: key };
}

function setAt(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const part of path.slice(0, -1)) {
    const next = node[part];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}
