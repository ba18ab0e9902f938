import type { ConfigChange } from './raft-state.ts';
import type { Draft } from './draft.ts';
import { appendAsLeader } from './leader-append.ts';
import { applyChange, describeChange, encodeConfigEntry, syncProgress } from './membership.ts';
import { broadcastAppends } from './replication.ts';
import { maybeCommit } from './commit.ts';

/**
 * Leader: propose a single-server membership change. At most one change may be pending (appended
 * but not yet applied), and none before this leader's own no-op has committed (a new leader may hold
 * an uncommitted change from its predecessor; see the raft-dev "single-server changes bug" fix).
 */
export function onProposeConfig(d: Draft, proposalId: number, change: ConfigChange): void {
  const s = d.s;
  const reject = (code: 'not_leader' | 'leadership_transfer_in_progress' | 'config_change_pending' | 'leader_not_ready' | 'invalid_membership_change' | 'learner_not_caught_up', message: string): void => {
    d.out.proposals.push({ proposalId, accepted: false, code, message, leaderId: s.leaderId });
  };
  if (s.role !== 'leader') return reject('not_leader', `${s.id} is not the leader`);
  if (s.leadTransferee !== undefined) return reject('leadership_transfer_in_progress', `leadership is moving to ${s.leadTransferee}`);
  if (s.commitIndex < s.termStartIndex) return reject('leader_not_ready', 'the new leader has not committed an entry of its term yet; retry shortly');
  if (s.pendingConfigIndex > s.appliedIndex) return reject('config_change_pending', `the change at index ${s.pendingConfigIndex} is not applied yet; one change at a time`);
  const result = applyChange(s.membership, change);
  if (!result.ok) return reject('invalid_membership_change', `${describeChange(change)}: ${result.message}`);
  if (change.type === 'promote') {
    // A voter far behind would stall commits: promote only once the learner holds everything committed.
    const match = s.progress[change.node]?.match ?? 0;
    if (match < s.commitIndex) return reject('learner_not_caught_up', `${change.node} holds up to ${match}, the leader has committed ${s.commitIndex}`);
  }
  const [entry] = appendAsLeader(d, [{ type: 'config', data: encodeConfigEntry({ change, membership: result.membership }) }]);
  if (!entry) return;
  s.pendingConfigIndex = entry.index;
  syncProgress(s);
  d.out.proposals.push({ proposalId, accepted: true, firstIndex: entry.index, lastIndex: entry.index, term: entry.term });
  maybeCommit(d);
  broadcastAppends(d);
}
