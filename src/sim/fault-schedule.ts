import type { NetworkFaults } from './sim-network.ts';

/** Members are named by position (0-based) so one schedule fits any cluster of that size. */
export type FaultAction =
  | { readonly kind: 'partition'; readonly groups: readonly (readonly number[])[] }
  | { readonly kind: 'one-way'; readonly from: number; readonly to: number }
  | { readonly kind: 'isolate'; readonly node: number }
  | { readonly kind: 'heal' }
  | { readonly kind: 'crash'; readonly node: number; readonly tornWrites: boolean; readonly downMs: number }
  | { readonly kind: 'network'; readonly faults: NetworkFaults }
  | { readonly kind: 'transfer-leader'; readonly to: number }
  | { readonly kind: 'pause'; readonly node: number; readonly ms: number }
  /** Targeted faults (a "nemesis" that aims at whoever leads when it strikes). */
  | { readonly kind: 'crash-leader'; readonly tornWrites: boolean; readonly downMs: number }
  | { readonly kind: 'isolate-leader' }
  /** Single-server membership changes through the leader: boot a spare, add it as learner, promote it; or remove a member. */
  | { readonly kind: 'add-member' }
  | { readonly kind: 'remove-member'; readonly node: number };

export interface FaultEvent {
  readonly atMs: number;
  readonly action: FaultAction;
}

/**
 * One simulated run: a safety phase of `safetyMs` virtual milliseconds in which `events` happen
 * while `clients` clients hammer `keys` keys, then every fault heals and liveness is demanded.
 */
export interface FaultSchedule {
  readonly nodeCount: number;
  /** Members outside the founding membership, available to `add-member`. */
  readonly spareMembers: number;
  readonly safetyMs: number;
  readonly clients: number;
  readonly keys: number;
  /** Pause between one client's operations: uniform in [0, maxThinkMs]. */
  readonly maxThinkMs: number;
  /** Compact every this many entries (small values exercise snapshots and InstallSnapshot). */
  readonly snapshotEveryEntries: number;
  /** Members' clocks run at 1 ± up to this many per mille of true time. */
  readonly clockDriftPerMille: number;
  readonly events: readonly FaultEvent[];
}

export function describeAction(action: FaultAction, ids: readonly string[]): string {
  const name = (i: number): string => ids[i] ?? `#${i}`;
  switch (action.kind) {
    case 'partition':
      return `partition ${action.groups.map((g) => `{${g.map(name).join(',')}}`).join(' | ')}`;
    case 'one-way':
      return `cut ${name(action.from)} → ${name(action.to)}`;
    case 'isolate':
      return `isolate ${name(action.node)}`;
    case 'heal':
      return 'heal network';
    case 'crash':
      return `crash ${name(action.node)}${action.tornWrites ? ' (torn writes)' : ''}, restart after ${action.downMs} ms`;
    case 'network': {
      const f = action.faults;
      return `network delay ${f.minDelayMs}-${f.maxDelayMs} ms, drop ${f.dropRate}, dup ${f.duplicateRate}, slow ${f.slowRate}`;
    }
    case 'transfer-leader':
      return `transfer leadership to ${name(action.to)}`;
    case 'pause':
      return `pause ${name(action.node)} for ${action.ms} ms`;
    case 'crash-leader':
      return `crash the leader${action.tornWrites ? ' (torn writes)' : ''}, restart after ${action.downMs} ms`;
    case 'isolate-leader':
      return 'isolate the leader';
    case 'add-member':
      return 'add a spare member (learner, then voter)';
    case 'remove-member':
      return `remove ${name(action.node)} from the membership`;
  }
}
