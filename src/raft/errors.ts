import type { NodeId } from './types.ts';

export type RaftErrorCode =
  | 'not_leader'
  | 'leadership_transfer_in_progress'
  | 'config_change_pending'
  | 'leader_not_ready'
  | 'invalid_membership_change'
  | 'learner_not_caught_up'
  | 'entry_overwritten'
  | 'outcome_unknown'
  | 'transfer_failed'
  | 'node_stopped'
  | 'storage_failed'
  | 'internal_error';

/** Every failure a RaftNode reports carries a code a caller can branch on. */
export class RaftError extends Error {
  constructor(
    readonly code: RaftErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RaftError';
  }
}

/**
 * Proposals and reads go to the leader. `leaderId` is this member's best guess of who leads now
 * (undefined during an election): retry there.
 */
export class NotLeaderError extends RaftError {
  constructor(
    readonly nodeId: NodeId,
    readonly leaderId: NodeId | undefined,
  ) {
    super('not_leader', `member ${nodeId} is not the leader${leaderId === undefined ? ' (no leader known yet, retry shortly)' : `; retry on ${leaderId}`}`);
    this.name = 'NotLeaderError';
  }
}
