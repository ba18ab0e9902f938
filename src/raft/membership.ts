import type { Entry, Membership, NodeId } from './types.ts';
import type { ConfigChange, ConfigRecord, RaftState } from './raft-state.ts';
import { peersOf } from './quorum.ts';
import { newProgress } from './progress.ts';

/**
 * Single-server membership changes (Raft thesis §4.1). A config entry carries both the change and
 * the resulting membership, so any member (even one that joined late and never saw the initial
 * list) learns the full membership from the newest config entry it holds.
 */
export interface ConfigEntryData {
  readonly change: ConfigChange;
  readonly membership: Membership;
}

export function encodeConfigEntry(data: ConfigEntryData): string {
  return JSON.stringify(data);
}

export function decodeConfigEntry(data: string): ConfigEntryData | undefined {
  try {
    const parsed = JSON.parse(data) as Partial<ConfigEntryData> | null;
    const membership = parsed?.membership;
    if (!membership || !Array.isArray(membership.voters) || !Array.isArray(membership.learners) || !parsed?.change) return undefined;
    return parsed as ConfigEntryData;
  } catch {
    return undefined;
  }
}

export type ChangeResult = { readonly ok: true; readonly membership: Membership } | { readonly ok: false; readonly message: string };

/** The membership after `change`, or why the change makes no sense. */
export function applyChange(membership: Membership, change: ConfigChange): ChangeResult {
  const { voters, learners } = membership;
  const id = change.node;
  switch (change.type) {
    case 'add-learner':
      if (voters.includes(id) || learners.includes(id)) return { ok: false, message: `${id} is already a member` };
      return { ok: true, membership: { voters: [...voters], learners: [...learners, id] } };
    case 'promote':
      if (!learners.includes(id)) return { ok: false, message: `${id} is not a learner (add it as a learner first)` };
      return { ok: true, membership: { voters: [...voters, id], learners: learners.filter((x) => x !== id) } };
    case 'demote':
      if (!voters.includes(id)) return { ok: false, message: `${id} is not a voter` };
      if (voters.length === 1) return { ok: false, message: `${id} is the last voter; demoting it would leave no quorum` };
      return { ok: true, membership: { voters: voters.filter((x) => x !== id), learners: [...learners, id] } };
    case 'remove':
      if (!voters.includes(id) && !learners.includes(id)) return { ok: false, message: `${id} is not a member` };
      if (voters.length === 1 && voters[0] === id) return { ok: false, message: `${id} is the last voter; removing it would leave no quorum` };
      return { ok: true, membership: { voters: voters.filter((x) => x !== id), learners: learners.filter((x) => x !== id) } };
  }
}

function effective(base: Membership, configs: readonly ConfigRecord[]): Membership {
  return configs.length === 0 ? base : (configs[configs.length - 1] as ConfigRecord).membership;
}

/** The membership in force at `index` (the newest config entry at or before it). */
export function membershipAt(s: RaftState, index: number): Membership {
  let result = s.baseMembership;
  for (const record of s.configs) {
    if (record.index > index) break;
    result = record.membership;
  }
  return result;
}

/** Config takes effect when appended: call after entries enter the log (after any truncation). */
export function noteAppended(s: RaftState, entries: readonly Entry[]): void {
  let configs: ConfigRecord[] | undefined;
  for (const entry of entries) {
    if (entry.type !== 'config') continue;
    const decoded = decodeConfigEntry(entry.data);
    if (!decoded) continue;
    configs ??= s.configs.slice();
    configs.push({ index: entry.index, membership: decoded.membership });
  }
  if (configs) {
    s.configs = configs;
    s.membership = effective(s.baseMembership, configs);
  }
}

/** A truncated config entry no longer applies: fall back to the one before it. */
export function noteTruncated(s: RaftState, fromIndex: number): void {
  if (s.configs.some((record) => record.index >= fromIndex)) {
    s.configs = s.configs.filter((record) => record.index < fromIndex);
    s.membership = effective(s.baseMembership, s.configs);
  }
}

/** After compaction to `index`, the base becomes the membership at that index. */
export function noteCompacted(s: RaftState, index: number): void {
  s.baseMembership = membershipAt(s, index);
  s.configs = s.configs.filter((record) => record.index > index);
  s.membership = effective(s.baseMembership, s.configs);
}

export function noteRestored(s: RaftState, membership: Membership): void {
  s.baseMembership = membership;
  s.configs = [];
  s.membership = membership;
}

/** Leader: track exactly the current peers (new members start probing; removed ones are forgotten). */
export function syncProgress(s: RaftState): void {
  const peers = peersOf(s.membership, s.id);
  const progress: RaftState['progress'] = {};
  for (const id of peers) progress[id] = s.progress[id] ?? newProgress(s.log.lastIndex + 1);
  s.progress = progress;
}

export function describeChange(change: ConfigChange): string {
  return `${change.type} ${change.node as NodeId}`;
}
