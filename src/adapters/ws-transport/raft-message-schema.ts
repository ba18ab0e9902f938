import { Ajv } from 'ajv';
import type { RaftMessage } from '../../raft/messages.ts';

/**
 * JSON Schema of every frame a Raft member may send, written by hand to mirror the RaftMessage
 * union in src/raft/messages.ts. Strict on purpose (no extra properties): a frame that does not
 * match exactly is dropped and counted before it reaches the state machine. When a message type
 * gains a field, add it here too; the transport test round-trips one message of every type.
 */
const index = { type: 'integer', minimum: 0 } as const;
const nodeId = { type: 'string', minLength: 1, maxLength: 256 } as const;
const envelope = { term: index, from: nodeId, to: nodeId } as const;

const entry = {
  type: 'object',
  additionalProperties: false,
  required: ['term', 'index', 'type', 'data'],
  properties: { term: index, index, type: { enum: ['normal', 'noop', 'config'] }, data: { type: 'string' } },
} as const;

const membership = {
  type: 'object',
  additionalProperties: false,
  required: ['voters', 'learners'],
  properties: { voters: { type: 'array', items: nodeId }, learners: { type: 'array', items: nodeId } },
} as const;

const snapshot = {
  type: 'object',
  additionalProperties: false,
  required: ['lastIncludedIndex', 'lastIncludedTerm', 'membership', 'data'],
  properties: { lastIncludedIndex: index, lastIncludedTerm: index, membership, data: { type: 'string' } },
} as const;

function message(type: string, fields: Record<string, object>, optional: Record<string, object> = {}): object {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['type', 'term', 'from', 'to', ...Object.keys(fields)],
    properties: { type: { const: type }, ...envelope, ...fields, ...optional },
  };
}

export const raftMessageSchema = {
  $id: 'constellation/raft-message/v1',
  oneOf: [
    message('request-vote', { lastLogIndex: index, lastLogTerm: index, leaderTransfer: { type: 'boolean' } }),
    message('request-vote-response', { granted: { type: 'boolean' } }),
    message('pre-vote', { lastLogIndex: index, lastLogTerm: index }),
    message('pre-vote-response', { granted: { type: 'boolean' } }),
    message('append-entries', { prevLogIndex: index, prevLogTerm: index, entries: { type: 'array', items: entry }, leaderCommit: index }),
    message('append-entries-response', { success: { type: 'boolean' }, matchIndex: index, lastLogIndex: index }, { rejectedIndex: index, conflictIndex: index, conflictTerm: index }),
    message('heartbeat', { commitIndex: index }, { context: index }),
    message('heartbeat-response', { lastLogIndex: index }, { context: index }),
    message('install-snapshot', { snapshot }),
    message('install-snapshot-response', { matchIndex: index, snapshotIndex: index }),
    message('timeout-now', {}),
  ],
} as const;

const ajv = new Ajv({ allErrors: false, strict: true });
const validateFrame = ajv.compile<RaftMessage>(raftMessageSchema);

export type FrameValidation<M> = { readonly ok: true; readonly message: M } | { readonly ok: false; readonly error: string };

/** Schema check for one decoded frame; the error names the first failing path. */
export function validateRaftFrame(value: unknown): FrameValidation<RaftMessage> {
  if (validateFrame(value)) return { ok: true, message: value };
  const kind = typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string' ? (value as { type: string }).type : 'frame';
  return { ok: false, error: `${kind} does not match the RaftMessage schema: ${ajv.errorsText(validateFrame.errors)}` };
}
