/**
 * The compose loader: compose YAML (or JSON) text → a normalized StackSpec, or precise
 * diagnostics. Steps, each reporting at file:line key-path (service):
 *   1. parse YAML keeping positions;            4. validate against the compose-spec schema;
 *   2. read `.env` beside the file;              5. normalize each service (short → long forms,
 *   3. interpolate ${VAR} in every value;           units, cluster support policy);
 *                                                6. check across services: VPN groups
 *                                                   (network_mode: service:X), replicas per
 *                                                   stack, host-port conflicts;
 *                                                7. check depends_on and order the services.
 * It never throws for bad input and has no side effects besides reading `.env` and env_files,
 * which it reads only from inside the working directory (env-file-path.ts says why).
 *
 * Environment: variables come from `env` (the caller passes process.env when it wants it; the
 * daemon passes only what the deploy request carries, so its own environment never leaks into a
 * stack) and from `.env` next to the file; `env` wins, as the process environment does in Compose.
 */
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { checkPortConflicts } from './check-port-conflicts.ts';
import { checkVpnGroups } from './check-vpn-groups.ts';
import { checkTopLevelKeys, ignoredVolumeKeys } from './cluster-support.ts';
import { composeCodes } from './compose-codes.ts';
import { composeSchemaValidator } from './compose-schema.ts';
import { dependencyOrder } from './dependency-order.ts';
import { declareNetworks } from './declare-networks.ts';
import { DiagnosticSink } from './diagnostics.ts';
import { parseDotenv } from './dotenv.ts';
import { confineToWorkingDir } from './env-file-path.ts';
import { defaultInitJobRestart } from './init-job-restart.ts';
import { interpolateDocument } from './interpolate-document.ts';
import type { VariableLookup } from './interpolate.ts';
import type { NormalizeContext } from './normalize-context.ts';
import { normalizeService } from './normalize-service.ts';
import { readRegularTextFile, realPathOf } from './read-host-file.ts';
import { validateConstraints } from '../scheduler/validate-placement.ts';
import { validateFailoverLabels } from '../orchestrator/failover/delivery-mode.ts';
import { checkStackReplicas } from './replica-limits.ts';
import { schemaDiagnostics } from './schema-diagnostics.ts';
import { resolveStackName } from './stack-name.ts';
import type { ComposeDiagnostic, ServiceSpec, StackSpec } from './types.ts';
import { parseYamlSource, type KeyPath, type YamlSource } from './yaml-source.ts';

export { formatDiagnostic } from './diagnostics.ts';
export { composeCodes } from './compose-codes.ts';
export { warmComposeSchema } from './compose-schema.ts';

export interface LoadComposeOptions {
  readonly content: string;
  /** Used in messages, to find `.env`, and as the default working directory (its folder). */
  readonly file?: string;
  /**
   * Relative bind mounts and env_files resolve against this; defaults to the file's folder.
   * `.env` and env_files are read only from inside it; without it (and without `file`) none are.
   */
  readonly workingDir?: string;
  readonly stackName?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** For "~" in bind mounts; defaults to the current user's home directory. */
  readonly homeDir?: string;
}

export type LoadComposeResult =
  | { readonly ok: true; readonly stack: StackSpec; readonly warnings: ComposeDiagnostic[] }
  | { readonly ok: false; readonly errors: ComposeDiagnostic[]; readonly warnings: ComposeDiagnostic[] };

export function loadCompose(options: LoadComposeOptions): LoadComposeResult {
  try {
    const result = load(options);
    // In the order a reader meets them in the file, whichever check found them first.
    return result.ok
      ? { ...result, warnings: byLine(result.warnings) }
      : { ...result, errors: byLine(result.errors), warnings: byLine(result.warnings) };
  } catch (error) {
    // A loader bug must not take the daemon down with it; report it like any other problem.
    return {
      ok: false,
      warnings: [],
      errors: [{
        severity: 'error',
        code: 'COMPOSE_INTERNAL_ERROR',
        message: `the compose loader failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`,
        ...(options.file === undefined ? {} : { file: options.file }),
      }],
    };
  }
}

function load(options: LoadComposeOptions): LoadComposeResult {
  const { file } = options;
  const parsed = parseYamlSource(options.content, { ...(file === undefined ? {} : { file }), codePrefix: 'COMPOSE' });
  if (!parsed.ok) return { ok: false, errors: parsed.errors, warnings: [] };
  const raw = parsed.source;
  const sink = new DiagnosticSink(raw, serviceOfPath);
  const fail = (): LoadComposeResult => ({ ok: false, errors: sink.errors, warnings: sink.warnings });

  if (raw.value === null || typeof raw.value !== 'object' || Array.isArray(raw.value)) {
    sink.error([], composeCodes.notAMapping, 'a compose file must be a mapping with a "services:" key');
    return fail();
  }

  const workingDir = options.workingDir ?? (file === undefined ? undefined : dirname(resolve(file)));
  const lookup = environmentLookup(options.env ?? {}, workingDir, sink);
  const value = interpolateDocument(raw.value, lookup, sink) as Record<string, unknown>;
  const source: YamlSource = { ...raw, value };

  const validate = composeSchemaValidator();
  if (!validate(value)) sink.errors.push(...schemaDiagnostics(validate.errors ?? [], source, 'COMPOSE', serviceOfPath));
  if (sink.errors.length > 0) return fail();

  const stackName = resolveStackName({
    ...(options.stackName === undefined ? {} : { stackName: options.stackName }),
    nameInFile: value.name,
    ...(file === undefined ? {} : { file }),
  });
  if (!stackName.ok) sink.error(stackName.fromFile ? ['name'] : [], composeCodes.invalidStackName, stackName.message);

  const servicesRaw = (value.services ?? {}) as Record<string, Record<string, unknown> | null>;
  if (Object.keys(servicesRaw).length === 0) sink.error(value.services === undefined ? [] : ['services'], composeCodes.noServices, 'the file defines no services');

  checkTopLevelKeys(value, sink);
  const declaredVolumes = declareVolumes(value.volumes, stackName.ok ? stackName.name : '', sink);
  const declaredNetworks = declareNetworks(value.networks, stackName.ok ? stackName.name : '', sink);

  const services: ServiceSpec[] = [];
  for (const [name, serviceRaw] of Object.entries(servicesRaw)) {
    const ctx: NormalizeContext = {
      service: name,
      servicePath: ['services', name],
      ...(workingDir === undefined ? {} : { workingDir }),
      homeDir: options.homeDir ?? homedir(),
      lookup,
      declaredVolumes,
      declaredNetworks,
      sink,
      readTextFile: readRegularTextFile,
      realPath: realPathOf,
    };
    const spec = normalizeService(serviceRaw ?? {}, ctx);
    if (spec) services.push(spec);
  }

  // Checks across services, on what normalized (a broken service already has its own errors).
  const grouped = checkVpnGroups(services, servicesRaw, new Set(Object.keys(servicesRaw)), sink);
  checkStackReplicas(services, servicesRaw, sink);
  checkPortConflicts(services, servicesRaw, sink, source.lineOf);
  // A constraint on an attribute nodes do not have would leave every replica pending forever.
  for (const spec of services) for (const problem of validateConstraints(spec)) sink.error(['services', spec.name, ...problem.path], problem.code, problem.message);
  for (const spec of services) for (const problem of validateFailoverLabels(spec)) sink.error(['services', spec.name, ...problem.path], problem.code, problem.message);

  const ordered = defaultInitJobRestart(orderServices(grouped, new Set(Object.keys(servicesRaw)), sink), servicesRaw, sink);
  if (sink.errors.length > 0 || !stackName.ok) return fail();
  return { ok: true, stack: { name: stackName.name, services: ordered }, warnings: sink.warnings };
}

/** Stable sort by line; diagnostics about the file as a whole (no line) come first. */
function byLine(diagnostics: readonly ComposeDiagnostic[]): ComposeDiagnostic[] {
  return diagnostics.map((diagnostic, index) => ({ diagnostic, index }))
    .sort((a, b) => (a.diagnostic.line ?? 0) - (b.diagnostic.line ?? 0) || a.index - b.index)
    .map(({ diagnostic }) => diagnostic);
}

function serviceOfPath(path: KeyPath): string | undefined {
  return path[0] === 'services' && path.length >= 2 ? String(path[1]) : undefined;
}

/** The given env wins over `.env` beside the file, as the process environment does in Compose. */
function environmentLookup(env: Readonly<Record<string, string | undefined>>, workingDir: string | undefined, sink: DiagnosticSink): VariableLookup {
  const given: VariableLookup = (name) => (Object.hasOwn(env, name) ? env[name] : undefined);
  if (workingDir === undefined) return given;
  // A .env that is a symlink out of the working directory is refused like such an env_file.
  const dotenv = confineToWorkingDir(workingDir, '.env', realPathOf);
  if (!dotenv.ok) {
    sink.error([], composeCodes.envFileOutsideWorkingDir, `.env in ${workingDir} ${dotenv.why}: it is not read; replace the link with the file itself`);
    return given;
  }
  const content = readRegularTextFile(dotenv.path);
  if (content === undefined) return given;
  const parsed = parseDotenv(content, given);
  // Line number and what is wrong, never the line itself (dotenv.ts says why).
  for (const issue of parsed.errors) sink.error([], composeCodes.dotenvInvalid, `${join(workingDir, '.env')}:${issue.line}: ${issue.message}`);
  return (name) => given(name) ?? (Object.hasOwn(parsed.values, name) ? parsed.values[name] : undefined);
}

/**
 * Named volumes declared at the top level → the engine volume name: `name:` if set, the declared
 * name for `external: true`, else "<stack>_<volume>" as Compose does, so stacks never share data
 * by accident.
 */
function declareVolumes(raw: unknown, stack: string, sink: DiagnosticSink): Map<string, string> {
  const volumes = new Map<string, string>();
  if (raw === null || typeof raw !== 'object') return volumes;
  for (const [name, definition] of Object.entries(raw as Record<string, Record<string, unknown> | null>)) {
    const def = definition ?? {};
    for (const key of ignoredVolumeKeys) {
      if (def[key] !== undefined) {
        sink.warning(['volumes', name, key], composeCodes.ignoredKey, `volume option "${key}" is not honoured: volumes are local volumes on the node that runs the replica`);
      }
    }
    const external = def.external === true || def.external === 'true';
    volumes.set(name, typeof def.name === 'string' && def.name !== '' ? def.name : external ? name : `${stack}_${name}`);
  }
  return volumes;
}

function orderServices(services: ServiceSpec[], namesInFile: ReadonlySet<string>, sink: DiagnosticSink): ServiceSpec[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  // Optional dependencies (required: false) on absent services are dropped with a warning.
  const required = services.map((s) => {
    const deps = Object.entries(s.dependsOn).filter(([dep, how]) => {
      // A service that failed normalization already has its own errors; don't call it unknown.
      if (namesInFile.has(dep) && !byName.has(dep)) return false;
      if (byName.has(dep) || how.required) return true;
      sink.warning(['services', s.name, 'depends_on', dep], composeCodes.dependsOnUnknown, `optional dependency "${dep}" is not defined and is ignored`);
      return false;
    });
    return { name: s.name, dependsOn: deps.map(([dep]) => dep) };
  });
  const { order, problems } = dependencyOrder(required);
  for (const problem of problems) {
    if (problem.kind === 'unknown') {
      sink.error(['services', problem.service, 'depends_on', problem.names[0]!], composeCodes.dependsOnUnknown,
        `service "${problem.service}" depends on "${problem.names[0]!}", which is not defined in this file`);
    } else {
      sink.error(['services', problem.service, 'depends_on'], composeCodes.dependsOnCycle,
        `depends_on forms a cycle: ${problem.names.join(' -> ')}`);
    }
  }
  return order.map((name) => {
    const spec = byName.get(name)!;
    const deps = new Set(required.find((r) => r.name === name)!.dependsOn);
    const dependsOn = Object.fromEntries(Object.entries(spec.dependsOn).filter(([dep]) => deps.has(dep)));
    return { ...spec, dependsOn };
  });
}
