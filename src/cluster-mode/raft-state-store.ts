import type { ClientRequest, CommandResult } from '../cluster/commands.ts';
import type { ClusterStateData } from '../cluster/state.ts';
import { NotLeaderError, RaftError } from '../raft/errors.ts';
import type { RaftNode } from '../raft/raft-node.ts';
import type { Clock } from '../seams/clock.ts';
import type { StateStore } from '../seams/state-store.ts';

/** What the leader answers a forwarded submit: the result and an index that covers the write. */
export interface ForwardedResult {
  readonly result: CommandResult;
  readonly appliedIndex: number;
}

export interface RaftStateStoreOptions {
  readonly node: RaftNode;
  readonly clock: Clock;
  /** Sends a request to the leader and resolves with its answer (the peer RPC `submit`). */
  readonly forward: (leaderId: string, request: ClientRequest) => Promise<ForwardedResult>;
  /** A submit that finds no leader for this long fails with `no_leader`. Default 30 s. */
  readonly submitTimeoutMs?: number;
}

/** Raft errors after which the same request (same client id and seq) is simply tried again. */
const RETRYABLE = new Set(['not_leader', 'leadership_transfer_in_progress', 'leader_not_ready', 'entry_overwritten', 'outcome_unknown', 'peer_unreachable', 'no_leader']);

export class StoreSubmitError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'StoreSubmitError';
  }
}

/**
 * Desired state backed by the replicated log. `submit` resolves once the request is committed
 * and applied *here* (on a follower: forwarded to the leader, then awaited locally up to the
 * leader's applied index), so whoever wrote reads its own write back from `current()` on the same
 * node. A request is retried with its own client id and sequence across leader changes: the
 * state machine's session table makes it apply exactly once.
 */
export class RaftStateStore implements StateStore {
  private readonly listeners = new Set<(state: Readonly<ClusterStateData>) => void>();
  private readonly appliedWaiters = new Set<{ index: number; resolve: () => void }>();
  private notifyScheduled = false;
  private closed = false;

  constructor(private readonly options: RaftStateStoreOptions) {}

  /** Called by the raft node's onApply/onStateRestored hooks. */
  stateChanged(): void {
    const applied = this.options.node.status().appliedIndex;
    for (const waiter of this.appliedWaiters) {
      if (waiter.index <= applied) {
        this.appliedWaiters.delete(waiter);
        waiter.resolve();
      }
    }
    // One notification per burst of applied entries: listeners re-read the whole state anyway.
    if (this.notifyScheduled || this.closed) return;
    this.notifyScheduled = true;
    this.options.clock.setTimeout(() => {
      this.notifyScheduled = false;
      if (this.closed) return;
      const state = this.current();
      for (const listener of this.listeners) listener(state);
    }, 0);
  }

  open(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Resolves once this member has applied everything its log held when it started. Until then
   * `current()` is older than what this node last acted on (commit indexes are not persisted, so a
   * restarted member starts from its snapshot): an agent reading it would remove what runs.
   */
  synced(lastLogIndexAtStart: number): Promise<void> {
    return this.appliedUpTo(lastLogIndexAtStart, Number.POSITIVE_INFINITY);
  }

  current(): Readonly<ClusterStateData> {
    return this.options.node.state().view();
  }

  async submit(request: ClientRequest): Promise<CommandResult> {
    const deadline = this.options.clock.nowMs() + (this.options.submitTimeoutMs ?? 30_000);
    let lastError: Error = new StoreSubmitError('no_leader', 'no leader is known');
    let delayMs = 20;
    while (!this.closed && this.options.clock.nowMs() < deadline) {
      const status = this.options.node.status();
      try {
        if (status.role === 'leader') return await this.options.node.propose(request);
        if (status.leaderId === undefined) throw new StoreSubmitError('no_leader', 'the cluster has no leader right now (an election is under way, or too few managers are reachable)');
        const answer = await this.options.forward(status.leaderId, request);
        await this.appliedUpTo(answer.appliedIndex, deadline);
        return answer.result;
      } catch (error) {
        const code = error instanceof RaftError || error instanceof StoreSubmitError ? error.code : (error as { code?: string }).code;
        if (!(error instanceof NotLeaderError) && (code === undefined || !RETRYABLE.has(code))) throw error;
        lastError = error as Error;
      }
      await this.sleep(delayMs);
      delayMs = Math.min(delayMs * 2, 500);
    }
    throw new StoreSubmitError('no_leader', `the write was not committed within the submit timeout: ${lastError.message}`);
  }

  subscribe(listener: (state: Readonly<ClusterStateData>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    for (const waiter of this.appliedWaiters) waiter.resolve();
    this.appliedWaiters.clear();
    return Promise.resolve();
  }

  /** Resolves once this member has applied `index` (read-your-writes after a forwarded submit). */
  appliedUpTo(index: number, deadlineMs: number): Promise<void> {
    if (this.options.node.status().appliedIndex >= index) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        index,
        resolve: () => {
          if (timer !== undefined) this.options.clock.clearTimeout(timer);
          resolve();
        },
      };
      const timer = deadlineMs === Number.POSITIVE_INFINITY ? undefined : this.options.clock.setTimeout(() => {
        this.appliedWaiters.delete(waiter);
        reject(new StoreSubmitError('outcome_unknown', `committed on the leader, but this node has not applied index ${index} yet`));
      }, Math.max(0, deadlineMs - this.options.clock.nowMs()));
      this.appliedWaiters.add(waiter);
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.options.clock.setTimeout(resolve, ms));
  }
}
