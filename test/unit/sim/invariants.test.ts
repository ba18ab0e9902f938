import { describe, expect, it } from 'vitest';
import type { RaftStatus } from '../../../src/raft/raft-node.ts';
import type { Entry, HardState } from '../../../src/raft/types.ts';
import { InvariantChecker, InvariantViolationError, type MemberView } from '../../../src/sim/invariants.ts';
import type { StoredLog } from '../../../src/sim/sim-storage.ts';

const entry = (index: number, term: number, data = `d${index}.${term}`): Entry => ({ index, term, type: 'normal', data });
const hs = (term: number, votedFor?: string, commitIndex = 0): HardState => ({ term, votedFor, commitIndex });

/** A member whose status and log the test sets directly. */
class FakeMember implements MemberView {
  incarnation = 1;
  role: RaftStatus['role'] = 'follower';
  term = 1;
  commitIndex = 0;
  /** Entries up to here are compacted away (the test leaves them out of `stored.entries`). */
  snapshotIndex = 0;
  stored: StoredLog = { hardState: hs(0), snapshot: undefined, entries: [] };
  durable: StoredLog = { hardState: hs(0), snapshot: undefined, entries: [] };
  constructor(readonly id: string) {}
  status(): RaftStatus {
    const last = this.stored.entries[this.stored.entries.length - 1];
    return {
      id: this.id, role: this.role, term: this.term, votedFor: undefined, leaderId: undefined, commitIndex: this.commitIndex,
      appliedIndex: this.commitIndex, lastLogIndex: last?.index ?? this.snapshotIndex, lastLogTerm: last?.term ?? 0, snapshotIndex: this.snapshotIndex, membership: { voters: [], learners: [] },
    };
  }
  entry(index: number): Entry | undefined {
    return this.stored.entries.find((e) => e.index === index);
  }
  log(): StoredLog {
    return this.stored;
  }
  durableLog(): StoredLog {
    return this.durable;
  }
}

function setup(count = 3) {
  const checker = new InvariantChecker(() => 0);
  const members = Array.from({ length: count }, (_, i) => new FakeMember(`n${i + 1}`));
  for (const m of members) checker.onStarted(m);
  return { checker, members, step: () => checker.checkStep(members) };
}

function violated(checker: InvariantChecker): string {
  try {
    checker.throwIfViolated();
  } catch (error) {
    expect(error).toBeInstanceOf(InvariantViolationError);
    return (error as Error).message;
  }
  return '';
}

describe('InvariantChecker', () => {
  it('passes a healthy history', () => {
    const { checker, members, step } = setup();
    const [a, b] = members;
    a!.role = 'leader';
    a!.stored.entries = [entry(1, 1), entry(2, 1)];
    checker.onAppend('n1', a!.stored.entries, 0);
    b!.stored.entries = [entry(1, 1), entry(2, 1)];
    checker.onAppend('n2', b!.stored.entries, 0);
    a!.commitIndex = 2;
    b!.commitIndex = 1;
    step();
    expect(violated(checker)).toBe('');
  });

  it('catches two leaders in one term (Election Safety), even at different steps', () => {
    const { checker, members, step } = setup();
    members[0]!.role = 'leader';
    step();
    members[0]!.role = 'follower';
    members[1]!.role = 'leader';
    step();
    expect(violated(checker)).toMatch(/election-safety.*leads term 1, which n1 also led/);
  });

  it('catches a leader overwriting its own entries (Leader Append-Only)', () => {
    const { checker, members, step } = setup();
    const leader = members[0]!;
    leader.role = 'leader';
    leader.stored.entries = [entry(1, 1), entry(2, 1)];
    step();
    leader.stored.entries = [entry(1, 1)];
    step();
    expect(violated(checker)).toMatch(/leader-append-only.*index 2/);
  });

  it('does not blame a member that stepped down before truncating', () => {
    const { checker, members, step } = setup();
    const old = members[0]!;
    old.role = 'leader';
    old.stored.entries = [entry(1, 1), entry(2, 1)];
    step();
    old.role = 'follower';
    old.term = 2;
    old.stored.entries = [entry(1, 1), entry(2, 2)];
    step();
    expect(violated(checker)).toBe('');
  });

  it('catches different entries at the same index and term, and disagreeing prefixes (Log Matching)', () => {
    const a = setup();
    a.checker.onAppend('n1', [entry(1, 1, 'x')], 0);
    a.checker.onAppend('n2', [entry(1, 1, 'y')], 0);
    expect(violated(a.checker)).toMatch(/log-matching.*two different entries at index 1 term 1/);

    const b = setup();
    b.checker.onAppend('n1', [entry(1, 1), entry(2, 3)], 0);
    b.checker.onAppend('n2', [entry(1, 2), entry(2, 3)], 0);
    expect(violated(b.checker)).toMatch(/follows term 2 here but term 1 elsewhere/);
  });

  it('catches a committed entry that changes (State Machine Safety) and commit beyond the log', () => {
    const { checker, members, step } = setup();
    const [a, b, c] = members;
    a!.stored.entries = [entry(1, 1)];
    a!.commitIndex = 1;
    b!.stored.entries = [entry(1, 2)];
    b!.commitIndex = 1;
    step();
    expect(violated(checker)).toMatch(/state-machine-safety.*committed index 1/);
    c!.commitIndex = 5;
    step();
    expect(violated(checker)).toMatch(/commit-within-log/);
  });

  it('catches divergent applies at one index', () => {
    const { checker } = setup();
    const request = (value: string) => ({ clientId: 'c', seq: 1, command: { type: 'put' as const, key: 'k', value } });
    checker.onApply('n1', 3, request('a'), { ok: true });
    checker.onApply('n2', 3, request('a'), { ok: true });
    expect(violated(checker)).toBe('');
    checker.onApply('n3', 3, request('b'), { ok: true });
    expect(violated(checker)).toMatch(/state-machine-safety.*applied/);
  });

  it('catches a later-term leader missing a committed entry (Leader Completeness)', () => {
    const { checker, members, step } = setup();
    const [a, b] = members;
    a!.stored.entries = [entry(1, 1), entry(2, 1)];
    a!.commitIndex = 2;
    step();
    b!.term = 2;
    b!.role = 'leader';
    b!.stored.entries = [entry(1, 1)];
    step();
    expect(violated(checker)).toMatch(/leader-completeness.*index 2/);
  });

  it('catches term and commit index going backwards', () => {
    const { checker, members, step } = setup();
    members[0]!.term = 5;
    members[0]!.commitIndex = 0;
    step();
    members[0]!.term = 4;
    step();
    expect(violated(checker)).toMatch(/term-monotonic.*from 5 back to 4/);

    const other = setup();
    other.checker.onDurableHardState('n1', hs(3, undefined, 7));
    other.checker.onDurableHardState('n1', hs(3, undefined, 6));
    expect(violated(other.checker)).toMatch(/commit-monotonic.*durable commit index went from 7 back to 6/);
  });

  it('catches a restart below the durable term', () => {
    const { checker, members } = setup();
    const m = members[0]!;
    m.durable = { hardState: hs(9, 'n2'), snapshot: undefined, entries: [] };
    m.term = 3;
    m.incarnation = 2;
    checker.onStarted(m);
    expect(violated(checker)).toMatch(/restarted at term 3 below its durable term 9/);
  });

  it('catches two votes in one term, on disk or on the wire', () => {
    const disk = setup();
    disk.checker.onDurableHardState('n1', hs(4, 'n2'));
    disk.checker.onDurableHardState('n1', hs(4, 'n3'));
    expect(violated(disk.checker)).toMatch(/vote-once-per-term.*n2 and then for n3/);

    const wire = setup();
    const durable = (votedFor: string): StoredLog => ({ hardState: hs(4, votedFor), snapshot: undefined, entries: [] });
    wire.checker.onSend('n1', { type: 'request-vote-response', term: 4, from: 'n1', to: 'n2', granted: true }, durable('n2'));
    wire.checker.onSend('n1', { type: 'request-vote-response', term: 4, from: 'n1', to: 'n3', granted: true }, durable('n3'));
    expect(violated(wire.checker)).toMatch(/granted its term-4 vote to n2 and to n3/);
  });

  it('catches replies sent before the disk holds what they promise', () => {
    const vote = setup();
    vote.checker.onSend('n1', { type: 'request-vote-response', term: 4, from: 'n1', to: 'n2', granted: true }, { hardState: hs(3), snapshot: undefined, entries: [] });
    expect(violated(vote.checker)).toMatch(/persist-before-reply.*granted a vote/);

    const append = setup();
    const message = { type: 'append-entries-response', term: 1, from: 'n1', to: 'n2', success: true, matchIndex: 2, lastLogIndex: 2 } as const;
    append.checker.onSend('n1', message, { hardState: hs(1), snapshot: undefined, entries: [entry(1, 1)] });
    expect(violated(append.checker)).toMatch(/acknowledged entries up to 2.*only 1 are durable/);
  });

  it('catches an InstallSnapshot reply sent before the snapshot (or the term) is durable', () => {
    const reply = { type: 'install-snapshot-response', term: 2, from: 'n1', to: 'n2', matchIndex: 5, snapshotIndex: 5 } as const;
    const snapshot = { lastIncludedIndex: 5, lastIncludedTerm: 1, membership: { voters: ['n1', 'n2', 'n3'], learners: [] }, data: '{}' };

    const notYet = setup();
    notYet.checker.onSend('n1', reply, { hardState: hs(2), snapshot: undefined, entries: [entry(1, 1)] });
    expect(violated(notYet.checker)).toMatch(/persist-before-reply.*n1: acknowledged a snapshot \(match index\) up to 5 \(term 2\) but only 1 are durable/);

    const oldTerm = setup();
    oldTerm.checker.onSend('n1', reply, { hardState: hs(1), snapshot, entries: [] });
    expect(violated(oldTerm.checker)).toMatch(/persist-before-reply.*replied in term 2 while its durable term is 1/);

    // The same reply once snapshot and term are on disk, and a refusal (match 0) that promises nothing.
    const fine = setup();
    fine.checker.onSend('n1', reply, { hardState: hs(2), snapshot, entries: [] });
    fine.checker.onSend('n1', { ...reply, term: 3, matchIndex: 0 }, { hardState: hs(2), snapshot: undefined, entries: [] });
    expect(violated(fine.checker)).toBe('');
  });

  it('catches a leader missing a committed entry that became known only after the leader was checked (a gap left by compaction)', () => {
    const { checker, members, step } = setup();
    const [compacted, leader, lagging] = members;
    // n1 committed 1..3 but compacted 1..2 away, so only index 3 enters the registry.
    compacted!.term = 2;
    compacted!.snapshotIndex = 2;
    compacted!.stored.entries = [entry(3, 2)];
    compacted!.commitIndex = 3;
    // n2 leads term 3 with index 3 right but index 2 wrong.
    leader!.term = 3;
    leader!.role = 'leader';
    leader!.stored.entries = [entry(1, 1), entry(2, 1), entry(3, 2)];
    lagging!.term = 2;
    lagging!.stored.entries = [entry(1, 1), entry(2, 2), entry(3, 2)];
    step();
    expect(violated(checker)).toBe(''); // index 2 is not known committed yet
    // n3 (still in term 2) now reports 1..3 committed: index 2, term 2, fills the gap.
    lagging!.commitIndex = 3;
    step();
    step();
    expect(violated(checker)).toMatch(/leader-completeness.*n2: leads term 3 without the entry committed at index 2 \(term 2\); it holds term 1 there/);
  });
});
