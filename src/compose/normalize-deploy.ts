/**
 * `deploy:` (plus the service-level `restart:`, `scale:`, `cpus:`, `mem_limit:`,
 * `mem_reservation:` and `pids_limit:` that feed it) → DeploySpec with Docker Swarm's defaults,
 * which are the semantics a compose `deploy:` block was written for (`docker service create`):
 *
 *   mode replicated, replicas 1 (global mode: one per eligible node; `replicas` is refused there)
 *   restart_policy: condition any, delay 5s, max_attempts unlimited (0 also means unlimited),
 *                   window 0 (attempts count forever)
 *   update_config / rollback_config: parallelism 1 (0 = all at once), delay 0, failure_action
 *                   pause, monitor 5s, max_failure_ratio 0, order stop-first
 *
 * When `deploy.restart_policy` is absent it is derived from the service's `restart:` key, so a
 * file written for `docker compose` keeps its meaning on a cluster:
 *   no → none;  always, unless-stopped → any;  on-failure[:N] → on-failure with maxAttempts N.
 * "unless-stopped" maps to any because a cluster has no "stopped by the user" state per container:
 * removing the stack is how a user stops it. With neither key present the policy is Swarm's
 * default (any): an orchestrator keeps services running unless told otherwise. When both are
 * present, deploy.restart_policy wins (as in the compose specification).
 */
import { composeCodes } from './compose-codes.ts';
import type { NormalizeContext } from './normalize-context.ts';
import { normalizeLabels } from './normalize-environment.ts';
import { durationField, integerField, numberField, sizeField } from './normalize-values.ts';
import { checkServiceReplicas } from './replica-limits.ts';
import type { DeploySpec, ResourceSpec, RestartPolicySpec, ServiceSpec, UpdateConfigSpec } from './types.ts';
import type { KeyPath } from './yaml-source.ts';

export const restartPolicyDefaults: RestartPolicySpec = { condition: 'any', delayMs: 5000, windowMs: 0 };

export const updateConfigDefaults: UpdateConfigSpec = {
  parallelism: 1, delayMs: 0, failureAction: 'pause', monitorMs: 5000, maxFailureRatio: 0, order: 'stop-first',
};

export type RestartKey = NonNullable<ServiceSpec['restart']>;

export interface ParsedRestart {
  readonly restart: RestartKey;
  readonly maxAttempts?: number;
}

/** Parses the service-level `restart:` value; reports and returns undefined when invalid. */
export function parseRestart(raw: unknown, ctx: NormalizeContext): ParsedRestart | undefined {
  if (raw === undefined || raw === null) return undefined;
  const text = String(raw).trim();
  const path = [...ctx.servicePath, 'restart'];
  if (text === 'no' || text === 'always' || text === 'unless-stopped' || text === 'on-failure') return { restart: text };
  const match = /^on-failure:(\d+)$/.exec(text);
  if (match) return { restart: 'on-failure', maxAttempts: Number(match[1]) };
  ctx.sink.error(path, composeCodes.invalidRestart, `invalid restart ${JSON.stringify(text)}: use "no", "always", "unless-stopped", "on-failure" or "on-failure:N"`);
  return undefined;
}

export function restartPolicyFromRestart(parsed: ParsedRestart | undefined): RestartPolicySpec {
  if (parsed === undefined) return restartPolicyDefaults;
  switch (parsed.restart) {
    case 'no':
      return { ...restartPolicyDefaults, condition: 'none' };
    case 'always':
    case 'unless-stopped':
      return { ...restartPolicyDefaults, condition: 'any' };
    case 'on-failure':
      return {
        ...restartPolicyDefaults,
        condition: 'on-failure',
        ...(parsed.maxAttempts === undefined || parsed.maxAttempts === 0 ? {} : { maxAttempts: parsed.maxAttempts }),
      };
  }
}

export function normalizeDeploy(service: Record<string, unknown>, restart: ParsedRestart | undefined, ctx: NormalizeContext): DeploySpec {
  const deploy = (service.deploy ?? {}) as Record<string, unknown>;
  const path = [...ctx.servicePath, 'deploy'];
  const mode = deploy.mode === undefined || deploy.mode === null ? 'replicated' : String(deploy.mode);
  if (mode !== 'replicated' && mode !== 'global') {
    ctx.sink.error([...path, 'mode'], composeCodes.invalidDeploy, `deploy mode "${mode}" is not supported (use replicated or global)`);
  }
  // Capped here, before anything is saved: see replica-limits.ts for why and why 1000.
  const replicasPath = [...path, 'replicas'];
  const scalePath = [...ctx.servicePath, 'scale'];
  let replicas = checkServiceReplicas(integerField(deploy.replicas, replicasPath, ctx, { min: 0 }), replicasPath, ctx.sink);
  const scale = checkServiceReplicas(integerField(service.scale, scalePath, ctx, { min: 0 }), scalePath, ctx.sink);
  if (scale !== undefined && replicas !== undefined && scale !== replicas) {
    ctx.sink.error([...ctx.servicePath, 'scale'], composeCodes.invalidDeploy, `scale (${scale}) and deploy.replicas (${replicas}) disagree; keep one of them`);
  }
  replicas ??= scale;
  if (mode === 'global' && replicas !== undefined) {
    ctx.sink.error([...path, 'replicas'], composeCodes.invalidDeploy, 'replicas cannot be set in global mode (global runs one replica per eligible node)');
  }
  for (const key of ['endpoint_mode']) {
    if (deploy[key] !== undefined) ctx.sink.warning([...path, key], composeCodes.ignoredKey, `deploy.${key} is not honoured: Constellation has no service virtual IPs`);
  }
  const restartPolicyRaw = deploy.restart_policy as Record<string, unknown> | undefined;
  return {
    mode: mode === 'global' ? 'global' : 'replicated',
    replicas: mode === 'global' ? 1 : replicas ?? 1,
    placement: normalizePlacement(deploy.placement as Record<string, unknown> | undefined, [...path, 'placement'], ctx),
    resources: normalizeResources(service, deploy.resources as Record<string, unknown> | undefined, [...path, 'resources'], ctx),
    restartPolicy: restartPolicyRaw === undefined || restartPolicyRaw === null
      ? restartPolicyFromRestart(restart)
      : normalizeRestartPolicy(restartPolicyRaw, [...path, 'restart_policy'], ctx),
    updateConfig: withProgressDeadline(normalizeUpdateConfig(deploy.update_config, [...path, 'update_config'], ['continue', 'rollback', 'pause'], ctx), service, ctx),
    rollbackConfig: normalizeUpdateConfig(deploy.rollback_config, [...path, 'rollback_config'], ['continue', 'pause'], ctx),
    labels: normalizeLabels(deploy.labels),
  };
}

function normalizePlacement(raw: Record<string, unknown> | undefined, path: KeyPath, ctx: NormalizeContext): DeploySpec['placement'] {
  const placement = raw ?? {};
  const maxReplicasPerNode = integerField(placement.max_replicas_per_node, [...path, 'max_replicas_per_node'], ctx, { min: 1 });
  return {
    constraints: Array.isArray(placement.constraints) ? placement.constraints.map(String) : [],
    preferences: Array.isArray(placement.preferences)
      ? (placement.preferences as { spread?: string }[]).filter((p) => typeof p.spread === 'string').map((p) => ({ spread: p.spread! }))
      : [],
    ...(maxReplicasPerNode === undefined ? {} : { maxReplicasPerNode }),
  };
}

function normalizeResources(service: Record<string, unknown>, raw: Record<string, unknown> | undefined, path: KeyPath, ctx: NormalizeContext): DeploySpec['resources'] {
  const resources = raw ?? {};
  const limitsRaw = (resources.limits ?? {}) as Record<string, unknown>;
  const reservationsRaw = (resources.reservations ?? {}) as Record<string, unknown>;
  for (const key of ['generic_resources', 'devices']) {
    if (reservationsRaw[key] !== undefined) {
      ctx.sink.warning([...path, 'reservations', key], composeCodes.ignoredKey, `deploy.resources.reservations.${key} is not honoured: nothing is reserved yet (there is no scheduler); only limits are applied`);
    }
  }
  const limits = resourceSpec(limitsRaw, [...path, 'limits'], ctx);
  const reservations = resourceSpec(reservationsRaw, [...path, 'reservations'], ctx);
  // The legacy service-level keys mean the same thing; Compose merges them into deploy.resources.
  const legacy = (key: string, parse: (v: unknown, p: KeyPath) => number | undefined, target: ResourceSpec, field: keyof ResourceSpec, deployKey: string): ResourceSpec => {
    const value = parse(service[key], [...ctx.servicePath, key]);
    if (value === undefined) return target;
    if (target[field] !== undefined && target[field] !== value) {
      ctx.sink.error([...ctx.servicePath, key], composeCodes.invalidDeploy, `${key} and deploy.resources.${deployKey} disagree; keep one of them`);
      return target;
    }
    return { ...target, [field]: value };
  };
  const cpus = (v: unknown, p: KeyPath): number | undefined => numberField(v, p, ctx, { min: 0 });
  const size = (v: unknown, p: KeyPath): number | undefined => sizeField(v, p, ctx);
  const pids = (v: unknown, p: KeyPath): number | undefined => integerField(v, p, ctx, { min: -1 });
  let mergedLimits = legacy('cpus', cpus, limits, 'cpus', 'limits.cpus');
  mergedLimits = legacy('mem_limit', size, mergedLimits, 'memoryBytes', 'limits.memory');
  mergedLimits = legacy('pids_limit', pids, mergedLimits, 'pids', 'limits.pids');
  const mergedReservations = legacy('mem_reservation', size, reservations, 'memoryBytes', 'reservations.memory');
  return { limits: mergedLimits, reservations: mergedReservations };
}

function resourceSpec(raw: Record<string, unknown>, path: KeyPath, ctx: NormalizeContext): ResourceSpec {
  const cpus = numberField(raw.cpus, [...path, 'cpus'], ctx, { min: 0 });
  const memoryBytes = sizeField(raw.memory, [...path, 'memory'], ctx);
  const pids = integerField(raw.pids, [...path, 'pids'], ctx, { min: -1 });
  return {
    ...(cpus === undefined ? {} : { cpus }),
    ...(memoryBytes === undefined ? {} : { memoryBytes }),
    ...(pids === undefined ? {} : { pids }),
  };
}

function normalizeRestartPolicy(raw: Record<string, unknown>, path: KeyPath, ctx: NormalizeContext): RestartPolicySpec {
  const condition = raw.condition === undefined ? restartPolicyDefaults.condition : String(raw.condition);
  if (condition !== 'none' && condition !== 'on-failure' && condition !== 'any') {
    ctx.sink.error([...path, 'condition'], composeCodes.invalidDeploy, `restart_policy condition "${condition}" is not one of none, on-failure, any`);
  }
  const maxAttempts = integerField(raw.max_attempts, [...path, 'max_attempts'], ctx, { min: 0 });
  return {
    condition: condition === 'none' || condition === 'on-failure' ? condition : 'any',
    delayMs: durationField(raw.delay, [...path, 'delay'], ctx) ?? restartPolicyDefaults.delayMs,
    ...(maxAttempts === undefined || maxAttempts === 0 ? {} : { maxAttempts }),
    windowMs: durationField(raw.window, [...path, 'window'], ctx) ?? restartPolicyDefaults.windowMs,
  };
}

/** `x-constellation: {progress_deadline: 5m}` on the service; kept with update_config (out of the spec hash). */
function withProgressDeadline(update: UpdateConfigSpec, service: Record<string, unknown>, ctx: NormalizeContext): UpdateConfigSpec {
  const extension = service['x-constellation'];
  if (extension === undefined || extension === null) return update;
  const path = [...ctx.servicePath, 'x-constellation'];
  if (typeof extension !== 'object' || Array.isArray(extension)) {
    ctx.sink.error(path, composeCodes.invalidDeploy, 'x-constellation must be a mapping (e.g. progress_deadline: 10m)');
    return update;
  }
  const raw = (extension as Record<string, unknown>).progress_deadline;
  if (raw === undefined) return update;
  const progressDeadlineMs = durationField(raw, [...path, 'progress_deadline'], ctx);
  if (progressDeadlineMs === undefined) return update;
  if (progressDeadlineMs <= 0) {
    ctx.sink.error([...path, 'progress_deadline'], composeCodes.invalidDeploy, 'progress_deadline must be longer than 0s');
    return update;
  }
  return { ...update, progressDeadlineMs };
}

function normalizeUpdateConfig(rawValue: unknown, path: KeyPath, failureActions: readonly string[], ctx: NormalizeContext): UpdateConfigSpec {
  const raw = (rawValue ?? {}) as Record<string, unknown>;
  const failureAction = raw.failure_action === undefined ? updateConfigDefaults.failureAction : String(raw.failure_action);
  if (!failureActions.includes(failureAction)) {
    ctx.sink.error([...path, 'failure_action'], composeCodes.invalidDeploy, `failure_action "${failureAction}" is not one of ${failureActions.join(', ')}`);
  }
  return {
    parallelism: integerField(raw.parallelism, [...path, 'parallelism'], ctx, { min: 0 }) ?? updateConfigDefaults.parallelism,
    delayMs: durationField(raw.delay, [...path, 'delay'], ctx) ?? updateConfigDefaults.delayMs,
    failureAction: failureActions.includes(failureAction) ? failureAction as UpdateConfigSpec['failureAction'] : updateConfigDefaults.failureAction,
    monitorMs: durationField(raw.monitor, [...path, 'monitor'], ctx) ?? updateConfigDefaults.monitorMs,
    maxFailureRatio: numberField(raw.max_failure_ratio, [...path, 'max_failure_ratio'], ctx, { min: 0, max: 1 }) ?? updateConfigDefaults.maxFailureRatio,
    order: raw.order === 'start-first' ? 'start-first' : 'stop-first',
  };
}
