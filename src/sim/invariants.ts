import type { ClientRequest, CommandResult } from '../cluster/commands.ts';
import type { RaftMessage } from '../raft/messages.ts';
import type { RaftStatus } from '../raft/raft-node.ts';
import type { Entry, HardState, NodeId } from '../raft/types.ts';
import { lastIndexOf, type StoredLog } from './sim-storage.ts';

export type InvariantName =
  | 'election-safety'
  | 'leader-append-only'
  | 'log-matching'
  | 'leader-completeness'
  | 'state-machine-safety'
  | 'term-monotonic'
  | 'commit-monotonic'
  | 'commit-within-log'
  | 'vote-once-per-term'
  | 'persist-before-reply';

export interface Violation {
  readonly invariant: InvariantName;
  readonly atMs: number;
  readonly node: NodeId;
  readonly detail: string;
}

export class InvariantViolationError extends Error {
  readonly code = 'sim_invariant_violated';
  constructor(readonly violations: readonly Violation[]) {
    super(violations.map((v) => `[${v.invariant}] t=${v.atMs}ms node ${v.node}: ${v.detail}`).join('\n'));
    this.name = 'InvariantViolationError';
  }
}

/** What the checker may look at for one live member: read-only views, never its internals. */
export interface MemberView {
  readonly id: NodeId;
  /** Bumped on every restart; per-incarnation checks reset when it changes. */
  readonly incarnation: number;
  status(): RaftStatus;
  /**
   * The entry at `index` in the member's in-memory log (what status() describes), undefined when
   * compacted into the snapshot or beyond the end. Its disk may lag behind while an fsync is in
   * flight, so in-memory checks must not use the disk image.
   */
  entry(index: number): Entry | undefined;
  /** Everything the member has written to its disk (synced or not). */
  log(): Readonly<StoredLog>;
  /** What would survive a crash now. */
  durableLog(): Readonly<StoredLog>;
}

interface PerIncarnation {
  incarnation: number;
  lastTerm: number;
  lastCommit: number;
  /**
   * For Leader Append-Only: the term led at the end of the previous step and the terms of the
   * entries it then held above its commit index (committed ones are covered by the committed
   * registry, so only the uncommitted tail — usually a few entries — needs remembering).
   */
  leaderTerm: number | undefined;
  leaderTailFrom: number;
  leaderTailTerms: number[];
  committedCheckedUpTo: number;
}

interface CommittedEntry {
  readonly term: number;
  readonly data: string;
  /** Term of the member that first reported it committed: its real commit term is at most this. */
  readonly observedInTerm: number;
}

/**
 * The Raft safety properties (Ongaro & Ousterhout, Figure 3) plus persistence rules, checked after
 * every simulator step. Violations are collected (an observer must never throw into the member
 * that is writing) and raised by `throwIfViolated()` at the end of the step.
 *
 * Decisions, stated precisely:
 * - Term: within one incarnation a member's term never decreases; its DURABLE term never decreases
 *   over its whole life; a restarted member starts at no less than the durable term it crashed
 *   with. An in-memory term lost in a crash before being synced may be lower afterwards — Raft only
 *   requires the term to be persisted before the member speaks in it, which the vote and append
 *   checks below enforce.
 * - Commit index: Raft treats it as volatile. Here HardState persists it (etcd style), so: never
 *   decreases within an incarnation; the durable commit index never decreases; a restarted member
 *   starts at no less than its durable commit index. Losing an unsynced commit index is allowed:
 *   what must never happen is a committed entry changing, which the committed-entry registry
 *   (State Machine Safety) checks.
 * - Votes: the durable vote for a term never changes to another candidate across the member's life
 *   (crashes included), and no member sends two grants for different candidates in one term.
 * - Persist before reply: a vote grant leaves only when the vote is durable; a successful append
 *   reply, or an InstallSnapshot reply acknowledging a match index, only when what it acknowledges
 *   (entries, or the snapshot) is durable (otherwise a crash could un-replicate an entry the leader
 *   already counted toward a commit). A reply stamped with an older term than the
 *   durable one is exempt: one fsync covered both, and the durable later term already rules out
 *   voting or being counted in the older term (etcd sends a Ready's messages the same way).
 */
export class InvariantChecker {
  private readonly violations: Violation[] = [];
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** (index, term) → the entry's data and the term before it: Log Matching by induction. */
  private readonly entriesByIndexTerm = new Map<string, { prevTerm: number; data: string }>();
  private readonly committed: (CommittedEntry | undefined)[] = [];
  private readonly appliedByIndex = new Map<number, { node: NodeId; request: string; result: string }>();
  private readonly perNode = new Map<NodeId, PerIncarnation>();
  private readonly durableTerm = new Map<NodeId, number>();
  private readonly durableCommit = new Map<NodeId, number>();
  private readonly durableVotes = new Map<string, NodeId>();
  private readonly grants = new Map<string, NodeId>();
  /**
   * Indexes in the order they entered `committed`. Not ascending: a member whose snapshot covers an
   * index never reports it, so a gap below known committed indexes may be filled later.
   */
  private readonly committedOrder: number[] = [];
  /** Per (leader, term): how many of `committedOrder` it has been checked against (Leader Completeness). */
  private readonly leaderCompletenessChecked = new Map<string, number>();
  steps = 0;

  constructor(private readonly nowMs: () => number) {}

  private fail(invariant: InvariantName, node: NodeId, detail: string): void {
    if (this.violations.length < 20) this.violations.push({ invariant, atMs: this.nowMs(), node, detail });
  }

  hasViolations(): boolean {
    return this.violations.length > 0;
  }

  throwIfViolated(): void {
    if (this.violations.length > 0) throw new InvariantViolationError([...this.violations]);
  }

  // ---- hooks from storage -------------------------------------------------------------------

  /** A member wrote entries (not yet durable). */
  onAppend(node: NodeId, entries: readonly Entry[], prevTerm: number): void {
    let previous = prevTerm;
    for (const entry of entries) {
      const key = `${entry.index}:${entry.term}`;
      const value = `${entry.type}:${entry.data}`;
      const known = this.entriesByIndexTerm.get(key);
      if (!known) {
        this.entriesByIndexTerm.set(key, { prevTerm: previous, data: value });
      } else {
        if (known.data !== value) {
          this.fail('log-matching', node, `two different entries at index ${entry.index} term ${entry.term}: ${known.data.slice(0, 80)} vs ${value.slice(0, 80)}`);
        }
        if (previous >= 0 && known.prevTerm >= 0 && known.prevTerm !== previous) {
          this.fail('log-matching', node, `entry at index ${entry.index} term ${entry.term} follows term ${previous} here but term ${known.prevTerm} elsewhere: logs agree on an entry but not on its prefix`);
        }
        if (known.prevTerm < 0 && previous >= 0) this.entriesByIndexTerm.set(key, { prevTerm: previous, data: known.data });
      }
      previous = entry.term;
    }
  }

  /** A hard state became durable on a member. */
  onDurableHardState(node: NodeId, hardState: HardState): void {
    const term = this.durableTerm.get(node) ?? 0;
    if (hardState.term < term) this.fail('term-monotonic', node, `durable term went from ${term} back to ${hardState.term}`);
    this.durableTerm.set(node, Math.max(term, hardState.term));
    const commit = this.durableCommit.get(node) ?? 0;
    if (hardState.commitIndex < commit) this.fail('commit-monotonic', node, `durable commit index went from ${commit} back to ${hardState.commitIndex}`);
    this.durableCommit.set(node, Math.max(commit, hardState.commitIndex));
    if (hardState.votedFor !== undefined) {
      const key = `${node}@${hardState.term}`;
      const earlier = this.durableVotes.get(key);
      if (earlier !== undefined && earlier !== hardState.votedFor) {
        this.fail('vote-once-per-term', node, `durably voted for ${earlier} and then for ${hardState.votedFor} in term ${hardState.term}`);
      }
      this.durableVotes.set(key, hardState.votedFor);
    }
  }

  // ---- hooks from the network and the state machine -----------------------------------------

  /** Every message as it leaves a member. `durable` is what that member's disk holds right now. */
  onSend(from: NodeId, message: RaftMessage, durable: Readonly<StoredLog>): void {
    switch (message.type) {
      case 'request-vote-response': {
        if (!message.granted) return;
        const key = `${from}@${message.term}`;
        const earlier = this.grants.get(key);
        if (earlier !== undefined && earlier !== message.to) {
          this.fail('vote-once-per-term', from, `granted its term-${message.term} vote to ${earlier} and to ${message.to}`);
        }
        this.grants.set(key, message.to);
        // A reply may leave after a later term is already durable (one fsync covered both); the
        // member can then never vote in the older term again, which is all durability must ensure.
        const durableTerm = durable.hardState.term;
        if (durableTerm < message.term || (durableTerm === message.term && durable.hardState.votedFor !== message.to)) {
          this.fail('persist-before-reply', from, `granted a vote to ${message.to} in term ${message.term} while its disk holds term ${durableTerm} vote ${String(durable.hardState.votedFor)}`);
        }
        return;
      }
      case 'append-entries-response':
      case 'install-snapshot-response': {
        // An InstallSnapshot reply always carries a match index; 0 (a refusal from a later term) promises nothing.
        if (message.type === 'append-entries-response' ? !message.success : message.matchIndex === 0) return;
        const acknowledged = message.type === 'append-entries-response' ? 'entries' : 'a snapshot (match index)';
        const durableTerm = durable.hardState.term;
        if (durableTerm < message.term) {
          this.fail('persist-before-reply', from, `replied in term ${message.term} while its durable term is ${durableTerm}`);
          return;
        }
        // Same as for votes: a reply to a leader the member has durably moved past promises nothing.
        if (durableTerm > message.term) return;
        const durableLast = lastIndexOf(durable);
        if (durableLast < message.matchIndex) {
          this.fail('persist-before-reply', from, `acknowledged ${acknowledged} up to ${message.matchIndex} (term ${message.term}) but only ${durableLast} are durable`);
        }
        return;
      }
      default:
        return;
    }
  }

  onApply(node: NodeId, index: number, request: ClientRequest, result: CommandResult): void {
    const requestText = JSON.stringify(request);
    const resultText = JSON.stringify(result);
    const earlier = this.appliedByIndex.get(index);
    if (!earlier) {
      this.appliedByIndex.set(index, { node, request: requestText, result: resultText });
      return;
    }
    if (earlier.request !== requestText) {
      this.fail('state-machine-safety', node, `applied ${requestText.slice(0, 100)} at index ${index}, but ${earlier.node} applied ${earlier.request.slice(0, 100)}`);
    } else if (earlier.result !== resultText) {
      this.fail('state-machine-safety', node, `applying index ${index} gave ${resultText} here but ${earlier.result} on ${earlier.node}: the state machine diverged`);
    }
  }

  /** A member (re)started: its new incarnation must not start below what it had made durable. */
  onStarted(member: MemberView): void {
    const status = member.status();
    const durable = member.durableLog().hardState;
    if (status.term < durable.term) this.fail('term-monotonic', member.id, `restarted at term ${status.term} below its durable term ${durable.term}`);
    if (status.commitIndex < durable.commitIndex) {
      this.fail('commit-monotonic', member.id, `restarted at commit index ${status.commitIndex} below its durable ${durable.commitIndex}`);
    }
    this.perNode.set(member.id, {
      incarnation: member.incarnation,
      lastTerm: status.term,
      lastCommit: status.commitIndex,
      leaderTerm: undefined,
      leaderTailFrom: 0,
      leaderTailTerms: [],
      committedCheckedUpTo: 0,
    });
  }

  // ---- the per-step check -------------------------------------------------------------------

  checkStep(members: readonly MemberView[]): void {
    this.steps++;
    for (const member of members) this.checkMember(member);
  }

  private checkMember(member: MemberView): void {
    const state = this.perNode.get(member.id);
    if (!state || state.incarnation !== member.incarnation) return;
    const status = member.status();
    const log = member.log();
    if (status.term < state.lastTerm) this.fail('term-monotonic', member.id, `term went from ${state.lastTerm} back to ${status.term}`);
    if (status.commitIndex < state.lastCommit) this.fail('commit-monotonic', member.id, `commit index went from ${state.lastCommit} back to ${status.commitIndex}`);
    state.lastTerm = Math.max(state.lastTerm, status.term);
    state.lastCommit = Math.max(state.lastCommit, status.commitIndex);

    const isLeader = status.role === 'leader';
    if (isLeader) {
      const other = this.leaderOfTerm.get(status.term);
      if (other !== undefined && other !== member.id) this.fail('election-safety', member.id, `leads term ${status.term}, which ${other} also led`);
      else this.leaderOfTerm.set(status.term, member.id);
    }

    // Leader Append-Only: a member that led term T at the previous step and still does must still
    // hold every entry it held then.
    if (isLeader && state.leaderTerm === status.term) {
      for (let i = 0; i < state.leaderTailTerms.length; i++) {
        const index = state.leaderTailFrom + i;
        const term = member.entry(index)?.term;
        if (index > status.snapshotIndex && term !== state.leaderTailTerms[i]) {
          this.fail('leader-append-only', member.id, `as leader of term ${status.term} replaced or dropped its entry at index ${index} (term ${state.leaderTailTerms[i]} → ${term ?? 'none'})`);
          break;
        }
      }
    }
    state.leaderTerm = isLeader ? status.term : undefined;
    state.leaderTailTerms = [];
    if (isLeader) {
      state.leaderTailFrom = Math.max(status.commitIndex, status.snapshotIndex) + 1;
      for (let index = state.leaderTailFrom; index <= status.lastLogIndex; index++) state.leaderTailTerms.push(member.entry(index)?.term ?? -1);
    }

    this.checkCommitted(member, status, log, state);
    if (isLeader) this.checkLeaderCompleteness(member, status);
  }

  /** Every index a member calls committed must hold the same entry on every member, forever. */
  private checkCommitted(member: MemberView, status: RaftStatus, log: Readonly<StoredLog>, state: PerIncarnation): void {
    if (status.commitIndex > status.lastLogIndex) {
      this.fail('commit-within-log', member.id, `commit index ${status.commitIndex} is beyond its last log index ${status.lastLogIndex}`);
      return;
    }
    for (let index = Math.max(state.committedCheckedUpTo + 1, status.snapshotIndex + 1); index <= status.commitIndex; index++) {
      const entry = member.entry(index);
      if (!entry) continue;
      const known = this.committed[index];
      if (!known) {
        this.committed[index] = { term: entry.term, data: `${entry.type}:${entry.data}`, observedInTerm: status.term };
        this.committedOrder.push(index);
      } else if (known.term !== entry.term || known.data !== `${entry.type}:${entry.data}`) {
        this.fail('state-machine-safety', member.id, `holds term ${entry.term} at committed index ${index}, but term ${known.term} was committed there`);
      }
    }
    state.committedCheckedUpTo = Math.max(state.committedCheckedUpTo, status.commitIndex);
    // A snapshot on disk covers committed entries only, so its last entry must match them.
    if (log.snapshot && log.snapshot.lastIncludedIndex > 0) {
      const known = this.committed[log.snapshot.lastIncludedIndex];
      if (known && known.term !== log.snapshot.lastIncludedTerm) {
        this.fail('state-machine-safety', member.id, `snapshot ends at index ${log.snapshot.lastIncludedIndex} term ${log.snapshot.lastIncludedTerm}, but term ${known.term} was committed there`);
      }
    }
  }

  /**
   * A leader of term T holds every entry known committed in a term before T. Each (leader, term)
   * is checked once against every committed entry, in the order the entries became known, so an
   * index filled in below ones already checked (a gap left by compaction) is still checked.
   */
  private checkLeaderCompleteness(member: MemberView, status: RaftStatus): void {
    const key = `${member.id}@${status.term}`;
    let position = this.leaderCompletenessChecked.get(key) ?? 0;
    for (; position < this.committedOrder.length; position++) {
      const index = this.committedOrder[position] as number;
      const known = this.committed[index];
      if (!known || known.observedInTerm >= status.term) continue;
      if (index <= status.snapshotIndex) continue;
      const term = member.entry(index)?.term;
      if (term !== known.term) {
        this.fail('leader-completeness', member.id, `leads term ${status.term} without the entry committed at index ${index} (term ${known.term}); it holds ${term === undefined ? 'nothing' : `term ${term}`} there`);
        break;
      }
    }
    this.leaderCompletenessChecked.set(key, position);
  }

  /** Numbers for the run summary. */
  summary(): { steps: number; committedEntries: number; termsWithLeader: number } {
    return { steps: this.steps, committedEntries: this.committed.filter(Boolean).length, termsWithLeader: this.leaderOfTerm.size };
  }
}
