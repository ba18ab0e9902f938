import type { Entry, EntryType, Membership, NodeId, Snapshot } from './types.ts';

/**
 * Every message between Raft members. Plain JSON (no Map, no undefined-only fields that matter,
 * no class instances) so the ws transport can `JSON.stringify` / `JSON.parse` it unchanged and the
 * simulator can copy it. Every message names its `type`, the sender's `term`, `from` and `to`.
 */
interface Envelope {
  readonly term: number;
  readonly from: NodeId;
  readonly to: NodeId;
}

/** A candidate asks for a vote (Raft §5.2). `term` is the candidate's new, already persisted term. */
export interface RequestVote extends Envelope {
  readonly type: 'request-vote';
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  /**
   * Set when the candidate campaigns because the leader told it to (TimeoutNow): voters then grant
   * even though they heard from a live leader within the election timeout.
   */
  readonly leaderTransfer: boolean;
}

export interface RequestVoteResponse extends Envelope {
  readonly type: 'request-vote-response';
  readonly granted: boolean;
}

/**
 * Pre-vote (Raft thesis §9.6): "would you vote for me?" `term` is the term the sender WOULD
 * campaign in (its current term + 1); neither side adopts it, so a partitioned node cannot
 * inflate terms.
 */
export interface PreVote extends Envelope {
  readonly type: 'pre-vote';
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
}

/** A granted pre-vote echoes the proposed term; a refusal carries the voter's current term. */
export interface PreVoteResponse extends Envelope {
  readonly type: 'pre-vote-response';
  readonly granted: boolean;
}

/** Log replication (Raft §5.3). May carry many entries (batching) and several may be in flight (pipelining). */
export interface AppendEntries extends Envelope {
  readonly type: 'append-entries';
  readonly prevLogIndex: number;
  readonly prevLogTerm: number;
  readonly entries: readonly Entry[];
  readonly leaderCommit: number;
}

/**
 * Reply to AppendEntries. On success `matchIndex` is the last index the follower now knows to match
 * the leader's log. On rejection the follower hints where the logs diverge so the leader can skip a
 * whole term per round trip instead of one entry (fast back-off):
 * - `conflictTerm` undefined: the follower's log is too short; retry from `conflictIndex`
 *   (= follower's last index + 1).
 * - otherwise: the follower has `conflictTerm` at `rejectedIndex`, and `conflictIndex` is the first
 *   index of that term in its log.
 */
export interface AppendEntriesResponse extends Envelope {
  readonly type: 'append-entries-response';
  readonly success: boolean;
  readonly matchIndex: number;
  /** The prevLogIndex of the AppendEntries being rejected (lets the leader drop stale rejections). */
  readonly rejectedIndex?: number;
  readonly conflictIndex?: number;
  readonly conflictTerm?: number;
  readonly lastLogIndex: number;
}

/**
 * Leader heartbeat (etcd style: separate from AppendEntries so it needs no log consistency check).
 * `commitIndex` is min(follower's match, leader commit), which the follower can safely adopt.
 * `context` is the newest ReadIndex round; an echo in the response confirms leadership for every
 * read registered up to that round.
 */
export interface Heartbeat extends Envelope {
  readonly type: 'heartbeat';
  readonly commitIndex: number;
  readonly context?: number;
}

export interface HeartbeatResponse extends Envelope {
  readonly type: 'heartbeat-response';
  readonly context?: number;
  /** The responder's last log index, so the leader notices a follower that needs entries. */
  readonly lastLogIndex: number;
}

/** The whole snapshot in one message (no chunking): sent to a follower behind the compacted log. */
export interface InstallSnapshot extends Envelope {
  readonly type: 'install-snapshot';
  readonly snapshot: Snapshot;
}

export interface InstallSnapshotResponse extends Envelope {
  readonly type: 'install-snapshot-response';
  /** The follower's match index after handling the snapshot (its commit index if it ignored it). */
  readonly matchIndex: number;
  /** The snapshot's lastIncludedIndex being answered (lets the leader match the reply to the send). */
  readonly snapshotIndex: number;
}

/** Leader transfer: the target, already caught up, campaigns at once (skipping pre-vote). */
export interface TimeoutNow extends Envelope {
  readonly type: 'timeout-now';
}

export type RaftMessage =
  | RequestVote
  | RequestVoteResponse
  | PreVote
  | PreVoteResponse
  | AppendEntries
  | AppendEntriesResponse
  | Heartbeat
  | HeartbeatResponse
  | InstallSnapshot
  | InstallSnapshotResponse
  | TimeoutNow;

export type RaftMessageType = RaftMessage['type'];

export const RAFT_MESSAGE_TYPES: readonly RaftMessageType[] = [
  'request-vote',
  'request-vote-response',
  'pre-vote',
  'pre-vote-response',
  'append-entries',
  'append-entries-response',
  'heartbeat',
  'heartbeat-response',
  'install-snapshot',
  'install-snapshot-response',
  'timeout-now',
];

export type MessageValidation = { readonly ok: true; readonly message: RaftMessage } | { readonly ok: false; readonly error: string };

const ENTRY_TYPES: readonly EntryType[] = ['normal', 'noop', 'config'];

/**
 * Checks that a value decoded from the wire is a well-formed RaftMessage. The transport calls this
 * on every frame so a malformed frame is dropped with a reason instead of reaching the state machine.
 */
export function validateRaftMessage(value: unknown): MessageValidation {
  const problem = findProblem(value);
  return problem === undefined ? { ok: true, message: value as RaftMessage } : { ok: false, error: problem };
}

function findProblem(value: unknown): string | undefined {
  if (!isRecord(value)) return 'message is not an object';
  const type = value['type'];
  if (typeof type !== 'string' || !(RAFT_MESSAGE_TYPES as readonly string[]).includes(type)) return `unknown message type ${JSON.stringify(type)}`;
  const where = (field: string): string => `${type}.${field}`;
  if (!isIndex(value['term'])) return `${where('term')} must be a non-negative integer`;
  if (!isNodeId(value['from'])) return `${where('from')} must be a non-empty string`;
  if (!isNodeId(value['to'])) return `${where('to')} must be a non-empty string`;
  const indexes = (...fields: string[]): string | undefined => {
    for (const field of fields) if (!isIndex(value[field])) return `${where(field)} must be a non-negative integer`;
    return undefined;
  };
  const optionalIndexes = (...fields: string[]): string | undefined => {
    for (const field of fields) if (value[field] !== undefined && !isIndex(value[field])) return `${where(field)} must be a non-negative integer when present`;
    return undefined;
  };
  const flag = (field: string): string | undefined => (typeof value[field] === 'boolean' ? undefined : `${where(field)} must be a boolean`);
  switch (type as RaftMessageType) {
    case 'request-vote':
      return indexes('lastLogIndex', 'lastLogTerm') ?? flag('leaderTransfer');
    case 'pre-vote':
      return indexes('lastLogIndex', 'lastLogTerm');
    case 'request-vote-response':
    case 'pre-vote-response':
      return flag('granted');
    case 'append-entries': {
      const bad = indexes('prevLogIndex', 'prevLogTerm', 'leaderCommit');
      if (bad) return bad;
      const entries = value['entries'];
      if (!Array.isArray(entries)) return `${where('entries')} must be an array`;
      for (let i = 0; i < entries.length; i++) {
        const entryProblem = findEntryProblem(entries[i]);
        if (entryProblem) return `${where(`entries[${i}]`)}: ${entryProblem}`;
      }
      return undefined;
    }
    case 'append-entries-response':
      return flag('success') ?? indexes('matchIndex', 'lastLogIndex') ?? optionalIndexes('rejectedIndex', 'conflictIndex', 'conflictTerm');
    case 'heartbeat':
      return indexes('commitIndex') ?? optionalIndexes('context');
    case 'heartbeat-response':
      return indexes('lastLogIndex') ?? optionalIndexes('context');
    case 'install-snapshot': {
      const snapshotProblem = findSnapshotProblem(value['snapshot']);
      return snapshotProblem ? `${where('snapshot')}: ${snapshotProblem}` : undefined;
    }
    case 'install-snapshot-response':
      return indexes('matchIndex', 'snapshotIndex');
    case 'timeout-now':
      return undefined;
  }
}

function findEntryProblem(value: unknown): string | undefined {
  if (!isRecord(value)) return 'entry is not an object';
  if (!isIndex(value['term']) || !isIndex(value['index'])) return 'term and index must be non-negative integers';
  if (!(ENTRY_TYPES as readonly unknown[]).includes(value['type'])) return `unknown entry type ${JSON.stringify(value['type'])}`;
  if (typeof value['data'] !== 'string') return 'data must be a string';
  return undefined;
}

function findSnapshotProblem(value: unknown): string | undefined {
  if (!isRecord(value)) return 'snapshot is not an object';
  if (!isIndex(value['lastIncludedIndex']) || !isIndex(value['lastIncludedTerm'])) return 'lastIncludedIndex and lastIncludedTerm must be non-negative integers';
  if (typeof value['data'] !== 'string') return 'data must be a string';
  return isMembership(value['membership']) ? undefined : 'membership must be { voters: string[], learners: string[] }';
}

function isMembership(value: unknown): value is Membership {
  return isRecord(value) && isNodeIdArray(value['voters']) && isNodeIdArray(value['learners']);
}

function isNodeIdArray(value: unknown): boolean {
  return Array.isArray(value) && value.every(isNodeId);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isNodeId(value: unknown): value is NodeId {
  return typeof value === 'string' && value.length > 0;
}
