import type { NodeId } from './types.ts';
import type { Draft } from './draft.ts';
import { send } from './draft.ts';
import { isVoter } from './quorum.ts';
import { sendAppends } from './replication.ts';

/**
 * Leader transfer (Raft thesis §3.10): stop taking proposals, bring the target up to date, then tell
 * it to campaign at once (TimeoutNow). Abandoned after about an election timeout.
 */
export function onTransferLeadership(d: Draft, to: NodeId): void {
  const s = d.s;
  if (s.role !== 'leader') {
    d.out.transfers.push({ to, status: 'rejected', code: 'not_leader', message: `${s.id} is not the leader`, leaderId: s.leaderId });
    return;
  }
  if (to === s.id) {
    d.out.transfers.push({ to, status: 'started' });
    return;
  }
  if (!isVoter(s.membership, to)) {
    d.out.transfers.push({ to, status: 'rejected', code: 'transfer_failed', message: `${to} is not a voter`, leaderId: s.leaderId });
    return;
  }
  if (s.leadTransferee !== undefined && s.leadTransferee !== to) {
    d.out.transfers.push({ to: s.leadTransferee, status: 'aborted', code: 'transfer_failed', message: `superseded by a transfer to ${to}`, leaderId: s.leaderId });
  }
  s.leadTransferee = to;
  s.transferRounds = 0;
  d.out.transfers.push({ to, status: 'started' });
  if (!maybeSendTimeoutNow(d, to)) sendAppends(d, to);
}

/** Once the transferee holds the whole log, tell it to campaign. */
export function maybeSendTimeoutNow(d: Draft, peer: NodeId): boolean {
  const s = d.s;
  if (s.role !== 'leader' || s.leadTransferee !== peer) return false;
  if ((s.progress[peer]?.match ?? 0) !== s.log.lastIndex) return false;
  send(d, { type: 'timeout-now', term: s.term, from: s.id, to: peer });
  return true;
}

/** Called every check-quorum round (one election timeout). */
export function expireTransfer(d: Draft): void {
  const s = d.s;
  if (s.leadTransferee === undefined) return;
  s.transferRounds += 1;
  if (s.transferRounds >= 2) {
    d.out.transfers.push({ to: s.leadTransferee, status: 'aborted', code: 'transfer_failed', message: `${s.leadTransferee} did not take over within an election timeout`, leaderId: s.leaderId });
    s.leadTransferee = undefined;
    s.transferRounds = 0;
  }
}
