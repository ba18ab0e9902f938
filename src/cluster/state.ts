import type { StackSpec } from '../compose/types.ts';
import { stableHash } from './stable-hash.ts';
import { clientIdProblem } from './client-id.ts';
import type { ClientRequest, ClusterCommand, CommandResult, NodeRecord } from './commands.ts';
import { dictionaryOf, emptyDictionary } from './dictionary.ts';
import { updatedNode } from './node-update.ts';
import { nextPlacement, placementProblem, trimPlacements, type PlacementTable } from './placements.ts';
import type { RolloutRecord, StackVersionRecord } from './rollout-records.ts';
import { planRollback, rolloutFor, withVersion } from './stack-versions.ts';

export interface StackRecord {
  readonly name: string;
  /** Bumped on every accepted deploy of this stack; never goes backwards. */
  readonly version: number;
  readonly specHash: string;
  readonly spec: StackSpec;
  readonly updatedAtMs: number;
}

/** Every record keyed by a user string is prototype-free (see dictionary.ts). */
export interface ClusterStateData {
  /** Index of the last applied request (log index, or a local sequence for the single-node store). */
  appliedIndex: number;
  stacks: Record<string, StackRecord>;
  /**
   * The last version of each removed stack, so that a stack deployed again under the same name
   * goes on counting: a version never repeats, and a decision made for the old stack (a placement
   * still in flight from a deposed leader) can never pass for one about the new.
   */
  removedStackVersions: Record<string, number>;
  nodes: Record<string, NodeRecord>;
  /** Desired placements, written only by the leader's scheduler through the log. */
  placements: PlacementTable;
  kv: Record<string, string>;
  /** The last versions of each stack's spec (see rollout-records.ts), oldest first. */
  history: Record<string, StackVersionRecord[]>;
  /** Each stack's current or last rollout. */
  rollouts: Record<string, RolloutRecord>;
  /** Last applied seq and its result per client, for exactly-once retries. */
  sessions: Record<string, { seq: number; result: CommandResult }>;
}

export function emptyClusterState(): ClusterStateData {
  return { appliedIndex: 0, stacks: emptyDictionary(), removedStackVersions: emptyDictionary(), nodes: emptyDictionary(), placements: emptyDictionary(), kv: emptyDictionary(), history: emptyDictionary(), rollouts: emptyDictionary(), sessions: emptyDictionary() };
}

/**
 * The replicated state machine. Mutable on purpose: copying the whole state per applied entry
 * would make throughput fall with state size. Determinism comes from applying the same requests
 * in the same order, which Raft (or the single-node store) guarantees.
 */
export class ClusterState {
  private data: ClusterStateData;

  constructor(data: ClusterStateData = emptyClusterState()) {
    // Rebuilt prototype-free whatever it came from (JSON.parse, earlier code's files, a caller's
    // plain objects), so a live and a restored member hold the same thing. State written before
    // placements and removed-stack versions existed restores with them empty.
    this.data = {
      ...data,
      stacks: dictionaryOf(data.stacks),
      removedStackVersions: dictionaryOf(data.removedStackVersions),
      nodes: dictionaryOf(data.nodes, nodeRecord),
      placements: dictionaryOf(data.placements, (services) => dictionaryOf(services)),
      kv: dictionaryOf(data.kv),
      // State from before rolling updates has neither: every slot then runs its stack's version.
      history: dictionaryOf(data.history),
      rollouts: dictionaryOf(data.rollouts, (record) => ({ ...record, services: dictionaryOf(record.services) })),
      sessions: dictionaryOf(data.sessions),
    };
  }

  get appliedIndex(): number {
    return this.data.appliedIndex;
  }

  view(): Readonly<ClusterStateData> {
    return this.data;
  }

  apply(index: number, request: ClientRequest): CommandResult {
    if (index <= this.data.appliedIndex) {
      throw new Error(`apply out of order: index ${index} after ${this.data.appliedIndex}`);
    }
    this.data.appliedIndex = index;
    const problem = clientIdProblem(request.clientId);
    // Refused alike on every member (the check is deterministic), and no session is recorded.
    if (problem) return { ok: false, code: 'invalid_client_id', message: problem };
    const session = this.data.sessions[request.clientId];
    if (session && request.seq <= session.seq) {
      // A retry of something already applied: answer as before and change nothing.
      return session.seq === request.seq ? session.result : { ok: false, code: 'stale_request', message: `seq ${request.seq} is older than ${session.seq}` };
    }
    const result = this.execute(request.command);
    this.data.sessions[request.clientId] = { seq: request.seq, result };
    return result;
  }

  /** Advances the applied index for entries that carry no request (no-ops, membership). */
  skip(index: number): void {
    if (index > this.data.appliedIndex) this.data.appliedIndex = index;
  }

  snapshot(): string {
    return JSON.stringify(this.data);
  }

  static restore(serialized: string): ClusterState {
    return new ClusterState(JSON.parse(serialized) as ClusterStateData);
  }

  /**
   * A new version of a stack: recorded in its history, its placements trimmed to the new spec,
   * and the slots that run another spec listed in a new rollout (which the leader then moves
   * batch by batch). `revertOf`: an automatic rollback of that service within the current
   * rollout, whose slots already run the restored spec, so the rollout goes on as it was.
   */
  private acceptVersion(spec: StackSpec, specHash: string, atMs: number, entry: Pick<StackVersionRecord, 'kind' | 'restores' | 'service' | 'reason'>, revertOf?: string): number {
    const name = spec.name;
    const previous = this.data.stacks[name];
    const version = (previous?.version ?? this.data.removedStackVersions[name] ?? 0) + 1;
    const current = this.data.rollouts[name];
    // Computed before the new version applies: which version each slot runs now.
    const rollout = revertOf === undefined && previous ? rolloutFor(this.data, previous, spec, version, entry.kind === 'rollback' ? 'rollback' : 'update', atMs) : undefined;
    delete this.data.removedStackVersions[name];
    this.data.stacks[name] = { name, version, specHash, spec, updatedAtMs: atMs };
    this.data.history[name] = withVersion(this.data.history[name], { version, specHash, spec, atMs, stable: false, ...entry });
    if (revertOf !== undefined && current) {
      const part = current.services[revertOf]!;
      this.data.rollouts[name] = { ...current, services: dictionaryOf({ ...current.services, [revertOf]: { ...part, revertedBy: version } }) };
    } else if (rollout) this.data.rollouts[name] = rollout;
    else delete this.data.rollouts[name];
    const kept = trimPlacements(this.data.placements[name], spec.services);
    if (kept) this.data.placements[name] = kept;
    else delete this.data.placements[name];
    return version;
  }

  private execute(command: ClusterCommand): CommandResult {
    switch (command.type) {
      case 'deploy-stack': {
        const previous = this.data.stacks[command.stack.name];
        if (previous && previous.specHash === command.specHash) return { ok: true, version: previous.version };
        return { ok: true, version: this.acceptVersion(command.stack, command.specHash, command.atMs, { kind: 'deploy' }) };
      }
      case 'rollback-stack': {
        const plan = planRollback(this.data, command);
        if (!plan.ok) return plan.result;
        const entry = { kind: 'rollback' as const, restores: plan.restores, ...(plan.service ? { service: plan.service } : {}), ...(plan.reason ? { reason: plan.reason } : {}) };
        const version = this.acceptVersion(plan.spec, stableHash(plan.spec), command.atMs, entry, plan.auto ? command.service : undefined);
        return { ok: true, version };
      }
      case 'rollout-progress': {
        const rollout = this.data.rollouts[command.stack];
        const part = rollout?.services[command.service];
        if (!rollout || rollout.id !== command.rolloutId || !part) {
          return { ok: false, code: 'stale_rollout', message: `stack "${command.stack}" is no longer rolling out version ${command.rolloutId} of ${command.service}` };
        }
        this.data.rollouts[command.stack] = { ...rollout, services: dictionaryOf({ ...rollout.services, [command.service]: { ...part, progress: command.progress, updatedAtMs: command.atMs } }) };
        return { ok: true, version: rollout.id };
      }
      case 'mark-stable': {
        const history = this.data.history[command.stack];
        const index = history?.findIndex((entry) => entry.version === command.version) ?? -1;
        if (!history || index < 0) return { ok: false, code: 'version_not_found', message: `stack "${command.stack}" has no version ${command.version} in its history` };
        if (!history[index]!.stable) this.data.history[command.stack] = history.map((entry, at) => (at === index ? { ...entry, stable: true } : entry));
        return { ok: true, version: command.version };
      }
      case 'remove-stack': {
        const removed = this.data.stacks[command.name];
        if (!removed) return { ok: false, code: 'stack_not_found', message: `no stack named "${command.name}"` };
        this.data.removedStackVersions[command.name] = removed.version;
        delete this.data.stacks[command.name];
        delete this.data.placements[command.name];
        delete this.data.history[command.name];
        delete this.data.rollouts[command.name];
        return { ok: true };
      }
      case 'register-node':
        this.data.nodes[command.node.id] = nodeRecord(command.node);
        return { ok: true };
      case 'remove-node':
        // Placements on the node stay: moving its replicas is the failover reconciler's decision.
        delete this.data.nodes[command.nodeId];
        return { ok: true };
      case 'update-node': {
        const node = this.data.nodes[command.nodeId];
        if (!node) return { ok: false, code: 'node_not_found', message: `no node with id "${command.nodeId}"` };
        this.data.nodes[command.nodeId] = nodeRecord(updatedNode(node, command));
        return { ok: true };
      }
      case 'place-service': {
        const stack = this.data.stacks[command.stack];
        const previous = this.data.placements[command.stack]?.[command.service];
        const problem = placementProblem(command, {
          stackVersion: stack?.version,
          service: stack?.spec.services.find((spec) => spec.name === command.service),
          nodes: this.data.nodes,
        });
        if (problem) return problem;
        // The entry's own index is the fencing token of every slot it moves (see PlacementRecord).
        const next = nextPlacement(command, previous, this.data.appliedIndex);
        (this.data.placements[command.stack] ??= emptyDictionary())[command.service] = next;
        return { ok: true, version: next.version };
      }
      case 'put': {
        const previous = this.data.kv[command.key];
        this.data.kv[command.key] = command.value;
        return previous === undefined ? { ok: true } : { ok: true, previous };
      }
      case 'delete': {
        const previous = this.data.kv[command.key];
        delete this.data.kv[command.key];
        return previous === undefined ? { ok: true } : { ok: true, previous };
      }
    }
  }
}

/** Labels are user strings as keys too. */
function nodeRecord(node: NodeRecord): NodeRecord {
  return { ...node, labels: dictionaryOf(node.labels) };
}
