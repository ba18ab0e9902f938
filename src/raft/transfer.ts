import type { NodeId } from './types.ts';
import type { Draft } from './draft.ts';
import { send } from './draft.ts';
import { becomeProbe } from './progress.ts';
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
    // Leadership stays here: a pending transfer is cancelled and proposals are taken again.
    if (s.leadTransferee !== undefined) abortTransfer(d, `cancelled: leadership stays with ${s.id}`);
    d.out.transfers.push({ to, status: 'started' });
    return;
  }
  if (!isVoter(s.membership, to)) {
    d.out.transfers.push({ to, status: 'rejected', code: 'transfer_failed', message: `${to} is not a voter`, leaderId: s.leaderId });
    return;
  }
  if (s.leadTransferee === to) {
    // A repeat (a client retrying) must not restart the timeout, or retries faster than it would
    // keep proposals refused for ever: the transfer already under way answers for it.
    d.out.transfers.push({ to, status: 'started' });
    return;
  }
  if (s.leadTransferee !== undefined) abortTransfer(d, `superseded by a transfer to ${to}`);
  s.leadTransferee = to;
  s.transferRounds = 0;
  d.out.transfers.push({ to, status: 'started' });
  if (!maybeSendTimeoutNow(d, to)) sendCatchUp(d, to);
}

/**
 * Proposals are refused while the target catches up, so it should not wait for the next heartbeat
 * to reveal lost appends or a lost probe: send now. A replicating target is resent everything past
 * what it acknowledged (appends that were merely slow arrive twice, which the follower shrugs off);
 * a probing one gets its probe again from where it stands (not from `match`, which a new leader
 * does not know yet and which would send the whole log or a snapshot). A snapshot in flight is
 * left to finish.
 */
function sendCatchUp(d: Draft, to: NodeId): void {
  const pr = d.s.progress[to];
  if (pr?.state === 'replicate') becomeProbe(pr);
  else if (pr?.state === 'probe') pr.probeSent = false;
  sendAppends(d, to);
}

function abortTransfer(d: Draft, message: string): void {
  const s = d.s;
  if (s.leadTransferee === undefined) return;
  d.out.transfers.push({ to: s.leadTransferee, status: 'aborted', code: 'transfer_failed', message, leaderId: s.leaderId });
  s.leadTransferee = undefined;
  s.transferRounds = 0;
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
  if (s.transferRounds >= 2) abortTransfer(d, `${s.leadTransferee} did not take over within an election timeout`);
}
