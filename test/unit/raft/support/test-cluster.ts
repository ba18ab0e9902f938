import type { Entry, Membership, NodeId } from '../../../../src/raft/types.ts';
import type { RaftMessage } from '../../../../src/raft/messages.ts';
import type { Outbox, RaftConfig, RaftInput, RaftState } from '../../../../src/raft/raft-state.ts';
import { createInitialState } from '../../../../src/raft/initial-state.ts';
import { step } from '../../../../src/raft/step.ts';

/**
 * A tiny deterministic network for scenario tests of the pure step function: no clock, no
 * randomness. Messages queue until delivered; a test can cut links, drop messages or deliver one at
 * a time. Applied entries are recorded per member, and a member's "state machine" is the list of
 * data it applied (so snapshots are easy to check).
 */
export class TestCluster {
  readonly states = new Map<NodeId, RaftState>();
  readonly applied = new Map<NodeId, string[]>();
  readonly outboxes = new Map<NodeId, Outbox[]>();
  queue: RaftMessage[] = [];
  /** Members whose disk is "slow": their writes are not reported durable until `syncNow`. */
  readonly slowDisks = new Set<NodeId>();
  private readonly cut = new Set<string>();
  private nextProposalId = 1;

  constructor(ids: readonly NodeId[], config: Partial<RaftConfig> = {}, membership: Membership = { voters: [...ids], learners: [] }) {
    for (const id of ids) this.addMember(id, config, membership);
  }

  addMember(id: NodeId, config: Partial<RaftConfig> = {}, membership?: Membership): void {
    this.states.set(id, createInitialState(membership ? { id, config, initialMembership: membership } : { id, config }));
    this.applied.set(id, []);
    this.outboxes.set(id, []);
  }

  /**
   * Gives `id` a log of entries with the given terms (index 1, 2, ...), a current term and optionally
   * a vote, as if it had lived through that history (same index and term → same data, as Log Matching demands).
   */
  setLog(id: NodeId, terms: readonly number[], term: number, votedFor?: NodeId): void {
    const current = this.state(id);
    const entries: Entry[] = terms.map((entryTerm, i) => ({ term: entryTerm, index: i + 1, type: 'normal', data: `${i + 1}@${entryTerm}` }));
    this.states.set(id, createInitialState({ id, config: current.config, initialMembership: current.membership, hardState: { term, votedFor, commitIndex: 0 }, entries }));
  }

  /** Replace a member's state wholesale (to set up a log for a scenario). */
  setState(id: NodeId, update: (state: RaftState) => RaftState): void {
    this.states.set(id, update(this.state(id)));
  }

  state(id: NodeId): RaftState {
    const state = this.states.get(id);
    if (!state) throw new Error(`no member ${id}`);
    return state;
  }

  input(id: NodeId, input: RaftInput): Outbox {
    const { state, outbox } = step(this.state(id), input);
    this.states.set(id, state);
    this.outboxes.get(id)?.push(outbox);
    const applied = this.applied.get(id) as string[];
    if (outbox.applySnapshot) applied.splice(0, applied.length, ...(JSON.parse(outbox.applySnapshot.data) as string[]));
    for (const entry of outbox.apply) if (entry.type === 'normal') applied.push(entry.data);
    for (const message of outbox.messages) {
      if (!this.cut.has(`${message.from}>${message.to}`)) this.queue.push(message);
    }
    // Storage here is instantaneous: what the outbox persisted is durable at once.
    const persisted = outbox.persist.entries?.at(-1);
    if (persisted && !this.slowDisks.has(id)) this.input(id, { type: 'log-synced', index: persisted.index, term: persisted.term });
    if (outbox.snapshotRequest !== undefined) {
      this.input(id, { type: 'snapshot-taken', index: outbox.snapshotRequest, data: JSON.stringify(applied) });
    }
    return outbox;
  }

  /** Reports `id`'s log durable up to its last entry. */
  syncNow(id: NodeId): Outbox {
    const log = this.state(id).log;
    return this.input(id, { type: 'log-synced', index: log.lastIndex, term: log.lastTerm });
  }

  /** Delivers queued messages (including the ones they cause) until the network is quiet. */
  deliverAll(options: { drop?: (message: RaftMessage) => boolean; observe?: (message: RaftMessage) => void; maxMessages?: number } = {}): number {
    let delivered = 0;
    const limit = options.maxMessages ?? 100_000;
    while (this.queue.length > 0) {
      if (delivered >= limit) throw new Error(`network did not settle after ${limit} messages`);
      const message = this.queue.shift() as RaftMessage;
      delivered++;
      if (options.drop?.(message)) continue;
      options.observe?.(message);
      if (!this.states.has(message.to)) continue;
      this.input(message.to, { type: 'message', message });
    }
    return delivered;
  }

  /** Delivers only the queued messages matching `filter`, once (not what they cause). */
  deliverWhere(filter: (message: RaftMessage) => boolean): RaftMessage[] {
    const chosen = this.queue.filter(filter);
    this.queue = this.queue.filter((message) => !filter(message));
    for (const message of chosen) this.input(message.to, { type: 'message', message });
    return chosen;
  }

  dropWhere(filter: (message: RaftMessage) => boolean): void {
    this.queue = this.queue.filter((message) => !filter(message));
  }

  /** Cuts both directions between `a` and each of `others`. */
  isolate(a: NodeId, others: readonly NodeId[] = [...this.states.keys()]): void {
    for (const b of others) {
      if (b === a) continue;
      this.cut.add(`${a}>${b}`);
      this.cut.add(`${b}>${a}`);
    }
    this.queue = this.queue.filter((message) => !this.cut.has(`${message.from}>${message.to}`));
  }

  heal(): void {
    this.cut.clear();
  }

  /** Fires `id`'s election timer and lets the network settle. */
  elect(id: NodeId): void {
    this.input(id, { type: 'election-timeout' });
    this.deliverAll();
  }

  propose(id: NodeId, ...data: string[]): Outbox {
    return this.input(id, { type: 'propose', proposalId: this.nextProposalId++, data });
  }

  heartbeat(id: NodeId): void {
    this.input(id, { type: 'heartbeat-timeout' });
    this.deliverAll();
  }

  leaders(): NodeId[] {
    return [...this.states.values()].filter((state) => state.role === 'leader').map((state) => state.id);
  }

  /** The log as [index, term] pairs (after the snapshot). */
  logOf(id: NodeId): [number, number][] {
    const log = this.state(id).log;
    return log.slice(log.firstIndex).map((entry: Entry) => [entry.index, entry.term]);
  }
}
