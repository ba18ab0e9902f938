import type { StackSpec } from '../compose/types.ts';
import { serviceSpecHash } from '../agent/spec-hash.ts';
import type { RolloutKind } from '../machines/rollout-types.ts';
import type { CommandResult, RollbackStackCommand } from './commands.ts';
import { emptyDictionary } from './dictionary.ts';
import { type RolloutRecord, type ServiceRolloutRecord, stackHistoryLimit, type StackVersionRecord } from './rollout-records.ts';
import { serviceSlots, serviceSpecAt, slotVersion } from './slot-versions.ts';
import type { ClusterStateData, StackRecord } from './state.ts';

/** Appends a version to the stack's history, keeping the last `stackHistoryLimit`. */
export function withVersion(history: readonly StackVersionRecord[] | undefined, entry: StackVersionRecord): StackVersionRecord[] {
  return [...(history ?? []).filter((old) => old.version !== entry.version), entry].slice(-stackHistoryLimit);
}

/**
 * The rollout a new version of a deployed stack starts: for each service of the new spec, the
 * slots whose replicas run a version with another spec (computed from the state *before* the new
 * version applies). Services without such slots are not part of it; a rollout with none is none.
 */
export function rolloutFor(state: Readonly<ClusterStateData>, previous: StackRecord, next: StackSpec, version: number, kind: RolloutKind, atMs: number): RolloutRecord | undefined {
  const services = emptyDictionary<ServiceRolloutRecord>();
  for (const spec of next.services) {
    const before = previous.spec.services.find((old) => old.name === spec.name);
    if (!before) continue;
    const hash = serviceSpecHash(spec);
    const from: Record<string, number> = {};
    for (const slot of serviceSlots(state, previous.name, before)) {
      if (spec.deploy.mode === 'replicated' && slot > spec.deploy.replicas) continue;
      const runs = slotVersion(state, previous.name, spec.name, slot) ?? previous.version;
      const running = serviceSpecAt(state, previous.name, spec.name, runs);
      if (running && serviceSpecHash(running) !== hash) from[String(slot)] = runs;
    }
    if (Object.keys(from).length > 0) services[spec.name] = { from };
  }
  if (Object.keys(services).length === 0) return undefined;
  return { id: version, kind, fromVersion: previous.version, startedAtMs: atMs, services };
}

export type RollbackPlan =
  | { readonly ok: true; readonly spec: StackSpec; readonly restores: number; readonly service?: string; readonly auto: boolean; readonly reason?: string }
  | { readonly ok: false; readonly result: CommandResult };

const refuse = (code: string, message: string): RollbackPlan => ({ ok: false, result: { ok: false, code, message } });

/**
 * What a rollback restores. By hand: the newest *stable* version before the current one whose
 * spec differs (of the service, when one is named), or the version asked for. Automatic (a
 * service's rollout rolled back): the version the rollout started from, for that service only.
 */
export function planRollback(state: Readonly<ClusterStateData>, command: RollbackStackCommand): RollbackPlan {
  const record = state.stacks[command.name];
  if (!record) return refuse('stack_not_found', `no stack named "${command.name}"`);
  const history = state.history[command.name] ?? [];
  if (command.service !== undefined && !record.spec.services.some((spec) => spec.name === command.service)) {
    return refuse('service_not_found', `stack "${command.name}" has no service "${command.service}"`);
  }
  let target: StackVersionRecord | undefined;
  if (command.auto) {
    const rollout = state.rollouts[command.name];
    const part = command.service === undefined ? undefined : rollout?.services[command.service];
    if (!rollout || rollout.id !== command.auto.rolloutId || !part || part.revertedBy !== undefined || part.progress?.phase !== 'rolled-back') {
      return refuse('stale_rollout', `rollout ${command.auto.rolloutId} of stack "${command.name}" is not a rolled-back rollout of ${command.service ?? 'a service'} any more`);
    }
    target = history.find((entry) => entry.version === rollout.fromVersion);
    if (!target) return refuse('version_not_found', `stack "${command.name}" version ${rollout.fromVersion} is no longer in its history`);
  } else if (command.toVersion !== undefined) {
    target = history.find((entry) => entry.version === command.toVersion);
    if (!target || target.version === record.version) {
      return refuse('version_not_found', `stack "${command.name}" has no earlier version ${command.toVersion} in its history (kept: ${history.map((entry) => entry.version).join(', ')})`);
    }
  } else {
    const differs = (entry: StackVersionRecord) => (command.service === undefined
      ? entry.specHash !== record.specHash
      : serviceHashIn(entry.spec, command.service) !== serviceHashIn(record.spec, command.service));
    target = [...history].reverse().find((entry) => entry.version < record.version && entry.stable && differs(entry));
    if (!target) {
      return refuse('no_stable_version', `stack "${command.name}" has no earlier stable version to roll back to${command.service ? ` for service ${command.service}` : ''} (a version is stable once all its replicas were healthy)`);
    }
  }
  if (command.service === undefined) return { ok: true, spec: { ...target.spec, name: record.name }, restores: target.version, auto: false };
  const restored = target.spec.services.find((spec) => spec.name === command.service);
  if (!restored) return refuse('service_not_found', `stack "${command.name}" version ${target.version} has no service "${command.service}"`);
  const spec: StackSpec = { ...record.spec, services: record.spec.services.map((spec) => (spec.name === command.service ? restored : spec)) };
  return { ok: true, spec, restores: target.version, service: command.service, auto: command.auto !== undefined, ...(command.reason ? { reason: command.reason } : {}) };
}

function serviceHashIn(spec: StackSpec, service: string): string | undefined {
  const found = spec.services.find((candidate) => candidate.name === service);
  return found ? serviceSpecHash(found) : undefined;
}
