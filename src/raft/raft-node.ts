import { createActor } from 'xstate';
import type { Actor, InspectionEvent } from 'xstate';
import type { ClientRequest, CommandResult } from '../cluster/commands.ts';
import { ClusterState } from '../cluster/state.ts';
import type { Clock } from '../seams/clock.ts';
import type { Random } from '../seams/random.ts';
import type { RaftStorage } from '../seams/raft-storage.ts';
import type { Transport } from '../seams/transport.ts';
import type { RaftMessage } from './messages.ts';
import type { Entry, HardState, Membership, NodeId, Snapshot } from './types.ts';
import type { ConfigChange, Outbox, ProposalOutcome, RaftState } from './raft-state.ts';
import { raftRoleMachine } from '../machines/raft-role.ts';
import type { RaftRoleExternalEvent } from '../machines/raft-role.ts';
import { createInitialState } from './initial-state.ts';
import { NotLeaderError, RaftError } from './errors.ts';
import type { RaftErrorCode } from './errors.ts';

export type RaftRole = 'follower' | 'preCandidate' | 'candidate' | 'leader';

export interface RaftNodeOptions {
  readonly id: NodeId;
  /**
   * The membership this member starts with when its storage holds no snapshot (a fresh cluster:
   * give every founding member the same list). Omit it for a member that joins an existing cluster:
   * it then waits, without campaigning, until the leader adds it and replicates to it.
   */
  readonly initialMembership?: Membership;
  readonly storage: RaftStorage;
  readonly transport: Transport<RaftMessage>;
  readonly clock: Clock;
  readonly random: Random;
  /** Base election timeout T; each wait is drawn from [T, 2T). */
  readonly electionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  /** Most entries in one AppendEntries (default 1024). */
  readonly maxEntriesPerAppend?: number;
  /** Most AppendEntries in flight per follower while replicating (default 64). */
  readonly maxInflightAppends?: number;
  /** Compact the log into a snapshot every this many applied entries (default 10000; 0 = never). */
  readonly snapshotEveryEntries?: number;
  /** Pre-vote (default true). */
  readonly preVote?: boolean;
  /** Check-quorum and the leader lease it implies for vote requests (default true). */
  readonly checkQuorum?: boolean;
  /**
   * Called for every applied client request, in log order. After a restart the member replays its
   * log from the snapshot, so an index may be reported again (with the same entry).
   */
  readonly onApply?: (index: number, request: ClientRequest, result: CommandResult) => void;
  /** After each batch of applied entries of any kind (client requests, no-ops, membership). */
  readonly onApplied?: (appliedIndex: number) => void;
  /** A snapshot from the leader replaced the whole state machine (no onApply for what it covers). */
  readonly onStateRestored?: () => void;
  /**
   * Storage failed (write or sync), or a step broke a Raft invariant: the node has stopped itself and
   * rejected everything pending (RaftError 'storage_failed' / 'internal_error'). Restart the process.
   */
  readonly onFatalError?: (error: Error) => void;
  /** Sees the role machine's actor system (XState `inspect`); attach only while someone watches. */
  readonly inspect?: (event: InspectionEvent) => void;
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly role: RaftRole;
  readonly term: number;
  readonly votedFor: NodeId | undefined;
  readonly leaderId: NodeId | undefined;
  readonly commitIndex: number;
  /** Last index applied to the ClusterState returned by `state()`. */
  readonly appliedIndex: number;
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  /** Last index covered by the snapshot (entries at or before it are compacted away). */
  readonly snapshotIndex: number;
  /** Effective membership: the latest config entry in the log, committed or not. */
  readonly membership: Membership;
}

export type RaftRoleActor = Actor<typeof raftRoleMachine>;

export interface RaftNode {
  readonly id: NodeId;
  /** Loads storage, restores the state machine, applies what was committed, starts timers and listening. */
  start(): Promise<void>;
  /**
   * Stops timers and stops listening; pending proposals and reads reject with RaftError
   * 'node_stopped'. Does not close storage or transport: whoever created them closes them.
   */
  stop(): Promise<void>;
  /**
   * Replicates a client request and resolves with its result once committed and applied here.
   * Rejects with NotLeaderError {leaderId?} on a non-leader, RaftError 'leadership_transfer_in_progress'
   * while handing over, 'entry_overwritten' when a new leader replaced the entry (retrying with the
   * same clientId/seq is safe: it applies once).
   */
  propose(request: ClientRequest): Promise<CommandResult>;
  /**
   * Linearizable read barrier (ReadIndex): resolves with an index once this member has confirmed it
   * still leads and has applied up to that index; then read `state()`. NotLeaderError on non-leaders.
   */
  readIndex(): Promise<number>;
  /** The applied state machine (read after `readIndex()` for linearizable reads). */
  state(): ClusterState;
  status(): RaftStatus;
  /** Entries currently held in the in-memory log (after the snapshot), for checks and debugging. */
  entries(fromIndex?: number, toIndexInclusive?: number): readonly Entry[];
  /** Hands leadership to `to` (catch up, TimeoutNow); resolves when `to` is seen leading. */
  transferLeadership(to: NodeId): Promise<void>;
  /** Single-server membership changes; each resolves once its config entry is committed and applied. */
  addLearner(id: NodeId): Promise<void>;
  promoteLearner(id: NodeId): Promise<void>;
  /** Voter → learner (it keeps the log, loses its vote); a leader demoting itself steps down once committed. */
  demoteVoter(id: NodeId): Promise<void>;
  removeMember(id: NodeId): Promise<void>;
  /** The role machine's actor (for `actor.system.inspect(...)` and `actor.subscribe(...)`); set by start(). */
  readonly actor: RaftRoleActor;
}

export function createRaftNode(options: RaftNodeOptions): RaftNode {
  return new ConsensusNode(options);
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

interface ProposalWaiter extends Waiter<CommandResult> {
  readonly request: ClientRequest;
  readonly data: string;
}

interface IndexedWaiter<T> extends Waiter<T> {
  readonly term: number;
  readonly request?: ClientRequest;
}

type Submitted = { readonly kind: 'requests'; readonly waiters: ProposalWaiter[] } | { readonly kind: 'config'; readonly waiter: Waiter<void> };

/**
 * The driver around the role machine. It feeds events in and carries each outbox out in Raft's
 * order: persist (then one `storage.sync()` for everything queued so far: group commit) → send →
 * apply. While a sync is in flight new outboxes and client proposals accumulate; proposals are
 * then appended as one batch, so a burst of writes costs one fsync and one AppendEntries per
 * follower instead of one each.
 */
class ConsensusNode implements RaftNode {
  readonly id: NodeId;
  private readonly options: RaftNodeOptions;
  private roleActor: RaftRoleActor | undefined;
  private cluster = new ClusterState();
  private running = false;
  private stopped = false;
  private unsubscribeTransport: (() => void) | undefined;

  private readonly outboxQueue: Outbox[] = [];
  /** Leader requests waiting for the current microtask to end (they do not wait for our own sync). */
  private readonly earlyMessages: RaftMessage[] = [];
  /** The hard state last handed to storage (synced or riding along with the next sync). */
  private writtenHardState: HardState = { term: 0, votedFor: undefined, commitIndex: 0 };
  private flushing = false;
  private flushDone: Promise<void> = Promise.resolve();

  private readonly proposalQueue: ProposalWaiter[] = [];
  private nextProposalId = 1;
  private readonly submitted = new Map<number, Submitted>();
  private readonly requestWaiters = new Map<number, IndexedWaiter<CommandResult>>();
  private readonly configWaiters = new Map<number, IndexedWaiter<void>>();

  private nextReadId = 1;
  private readonly readWaiters = new Map<number, Waiter<number>>();
  /** Reads confirmed by a quorum, waiting for the state machine to reach their index. */
  private readsAwaitingApply: { readonly index: number; readonly waiter: Waiter<number> }[] = [];

  private transferWaiters: { readonly to: NodeId; readonly waiter: Waiter<void> }[] = [];

  constructor(options: RaftNodeOptions) {
    this.id = options.id;
    this.options = options;
  }

  get actor(): RaftRoleActor {
    if (!this.roleActor) throw new RaftError('node_stopped', `raft member ${this.id} has not been started`);
    return this.roleActor;
  }

  private get core(): RaftState {
    return this.actor.getSnapshot().context.core;
  }

  async start(): Promise<void> {
    if (this.running || this.stopped) throw new RaftError('node_stopped', `raft member ${this.id} can be started once`);
    const { options } = this;
    const persisted = await options.storage.load();
    this.writtenHardState = persisted.hardState;
    const core = createInitialState({
      id: options.id,
      hardState: persisted.hardState,
      snapshot: persisted.snapshot,
      entries: persisted.entries,
      initialMembership: options.initialMembership,
      config: {
        ...(options.maxEntriesPerAppend !== undefined && { maxEntriesPerAppend: options.maxEntriesPerAppend }),
        ...(options.maxInflightAppends !== undefined && { maxInflightAppends: options.maxInflightAppends }),
        ...(options.snapshotEveryEntries !== undefined && { snapshotEveryEntries: options.snapshotEveryEntries }),
        ...(options.preVote !== undefined && { preVote: options.preVote }),
        ...(options.checkQuorum !== undefined && { checkQuorum: options.checkQuorum }),
      },
    });
    // Rebuild the state machine: the snapshot, then every entry known committed.
    if (persisted.snapshot) this.cluster = ClusterState.restore(persisted.snapshot.data);
    this.applyEntries(core.log.slice(core.log.firstIndex, core.commitIndex));

    const actor = createActor(raftRoleMachine, {
      clock: options.clock,
      input: { core, rngSeed: options.random.int(1, 0x7fff_ffff), electionTimeoutMs: options.electionTimeoutMs, heartbeatIntervalMs: options.heartbeatIntervalMs },
      ...(options.inspect && { inspect: options.inspect }),
    });
    actor.on('outbox', (event) => this.onOutbox(event.outbox, event.state));
    // A step that throws means a broken Raft invariant: stop this member rather than run on.
    actor.subscribe({ error: (error) => this.fail(error instanceof Error ? error : new Error(String(error)), 'internal_error') });
    this.roleActor = actor;
    this.running = true;
    actor.start();
    this.unsubscribeTransport = options.transport.onMessage((from, message) => {
      // The transport authenticated `from`; a message claiming another sender is dropped.
      if (!this.running || message.from !== from || message.to !== this.id) return;
      this.send({ type: 'message', message });
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.running = false;
    this.unsubscribeTransport?.();
    this.roleActor?.stop();
    await this.flushDone;
    this.rejectEverything(new RaftError('node_stopped', `raft member ${this.id} stopped`));
  }

  propose(request: ClientRequest): Promise<CommandResult> {
    if (!this.running) return Promise.reject(new RaftError('node_stopped', `raft member ${this.id} is not running`));
    const core = this.core;
    if (core.role !== 'leader') return Promise.reject(new NotLeaderError(this.id, core.leaderId));
    return new Promise<CommandResult>((resolve, reject) => {
      this.proposalQueue.push({ request, data: JSON.stringify(request), resolve, reject });
      // Proposals made while a sync is in flight wait for it and go out together (group commit).
      if (!this.flushing) this.scheduleFlush();
    });
  }

  readIndex(): Promise<number> {
    if (!this.running) return Promise.reject(new RaftError('node_stopped', `raft member ${this.id} is not running`));
    const core = this.core;
    if (core.role !== 'leader') return Promise.reject(new NotLeaderError(this.id, core.leaderId));
    return new Promise<number>((resolve, reject) => {
      const readId = this.nextReadId++;
      this.readWaiters.set(readId, { resolve, reject });
      this.send({ type: 'read-index', readId });
    });
  }

  state(): ClusterState {
    return this.cluster;
  }

  status(): RaftStatus {
    const core = this.core;
    return {
      id: this.id,
      role: core.role,
      term: core.term,
      votedFor: core.votedFor,
      leaderId: core.leaderId,
      commitIndex: core.commitIndex,
      appliedIndex: this.cluster.appliedIndex,
      lastLogIndex: core.log.lastIndex,
      lastLogTerm: core.log.lastTerm,
      snapshotIndex: core.log.snapshotIndex,
      membership: core.membership,
    };
  }

  entries(fromIndex?: number, toIndexInclusive?: number): readonly Entry[] {
    const log = this.core.log;
    return log.slice(fromIndex ?? log.firstIndex, toIndexInclusive ?? log.lastIndex);
  }

  transferLeadership(to: NodeId): Promise<void> {
    if (!this.running) return Promise.reject(new RaftError('node_stopped', `raft member ${this.id} is not running`));
    return new Promise<void>((resolve, reject) => {
      this.transferWaiters.push({ to, waiter: { resolve, reject } });
      this.send({ type: 'transfer-leadership', to });
      this.settleTransfers(this.core);
    });
  }

  addLearner(id: NodeId): Promise<void> {
    return this.changeMembership({ type: 'add-learner', node: id });
  }

  promoteLearner(id: NodeId): Promise<void> {
    return this.changeMembership({ type: 'promote', node: id });
  }

  demoteVoter(id: NodeId): Promise<void> {
    return this.changeMembership({ type: 'demote', node: id });
  }

  removeMember(id: NodeId): Promise<void> {
    return this.changeMembership({ type: 'remove', node: id });
  }

  private changeMembership(change: ConfigChange): Promise<void> {
    if (!this.running) return Promise.reject(new RaftError('node_stopped', `raft member ${this.id} is not running`));
    return new Promise<void>((resolve, reject) => {
      const proposalId = this.nextProposalId++;
      this.submitted.set(proposalId, { kind: 'config', waiter: { resolve, reject } });
      this.send({ type: 'propose-config', proposalId, change });
      this.settleUnanswered(proposalId);
    });
  }

  private send(event: RaftRoleExternalEvent): void {
    if (this.running) this.actor.send(event);
  }

  /**
   * Runs synchronously inside the actor (emitted after each step). Bookkeeping that must not wait
   * for the disk happens here: matching proposals to log indexes, rejections. Effects are queued.
   */
  private onOutbox(outbox: Outbox, core: RaftState): void {
    for (const outcome of outbox.proposals) this.settleProposal(outcome);
    for (const rejection of outbox.readRejections) {
      const waiter = this.readWaiters.get(rejection.readId);
      this.readWaiters.delete(rejection.readId);
      waiter?.reject(new NotLeaderError(this.id, rejection.leaderId));
    }
    for (const transfer of outbox.transfers) {
      if (transfer.status === 'started') continue;
      const failed = this.transferWaiters.filter((t) => t.to === transfer.to);
      this.transferWaiters = this.transferWaiters.filter((t) => t.to !== transfer.to);
      for (const { waiter } of failed) waiter.reject(transfer.code === 'not_leader' ? new NotLeaderError(this.id, transfer.leaderId) : new RaftError(transfer.code, transfer.message));
    }
    this.settleTransfers(core);
    const hasEffects =
      outbox.persist.hardState !== undefined ||
      outbox.persist.entries !== undefined ||
      outbox.persist.snapshot !== undefined ||
      outbox.messages.length > 0 ||
      outbox.applySnapshot !== undefined ||
      outbox.apply.length > 0 ||
      outbox.readStates.length > 0 ||
      outbox.snapshotRequest !== undefined;
    if (hasEffects) {
      this.outboxQueue.push(outbox);
      this.scheduleFlush();
    }
    const early = outbox.messages.filter(sentBeforePersist);
    if (early.length > 0) {
      if (this.earlyMessages.length === 0) queueMicrotask(() => this.sendEarlyMessages());
      this.earlyMessages.push(...early);
    }
  }

  private sendEarlyMessages(): void {
    const messages = this.earlyMessages.splice(0);
    if (!this.running) return;
    for (const message of messages) this.options.transport.send(message.to, message);
  }

  private settleProposal(outcome: ProposalOutcome): void {
    const submitted = this.submitted.get(outcome.proposalId);
    if (!submitted) return;
    this.submitted.delete(outcome.proposalId);
    if (!outcome.accepted) {
      const error = outcome.code === 'not_leader' ? new NotLeaderError(this.id, outcome.leaderId) : new RaftError(outcome.code, outcome.message);
      if (submitted.kind === 'config') submitted.waiter.reject(error);
      else for (const waiter of submitted.waiters) waiter.reject(error);
      return;
    }
    if (submitted.kind === 'config') {
      this.configWaiters.set(outcome.firstIndex, { term: outcome.term, ...submitted.waiter });
      return;
    }
    submitted.waiters.forEach((waiter, offset) => {
      this.requestWaiters.set(outcome.firstIndex + offset, { term: outcome.term, request: waiter.request, resolve: waiter.resolve, reject: waiter.reject });
    });
  }

  /** A proposal the core did not answer (cannot happen unless the actor stopped): fail it rather than hang. */
  private settleUnanswered(proposalId: number): void {
    const submitted = this.submitted.get(proposalId);
    if (!submitted) return;
    this.submitted.delete(proposalId);
    const error = new RaftError('node_stopped', `raft member ${this.id} did not take the proposal`);
    if (submitted.kind === 'config') submitted.waiter.reject(error);
    else for (const waiter of submitted.waiters) waiter.reject(error);
  }

  private settleTransfers(core: RaftState): void {
    if (this.transferWaiters.length === 0) return;
    const done = this.transferWaiters.filter((t) => core.leaderId === t.to && (t.to !== this.id || core.role === 'leader'));
    // Leadership moved, but to someone else: the transfer did not happen.
    const failed = this.transferWaiters.filter((t) => core.role !== 'leader' && core.leaderId !== undefined && core.leaderId !== t.to);
    if (done.length === 0 && failed.length === 0) return;
    this.transferWaiters = this.transferWaiters.filter((t) => !done.includes(t) && !failed.includes(t));
    for (const { waiter } of done) waiter.resolve();
    for (const { to, waiter } of failed) waiter.reject(new RaftError('transfer_failed', `leadership went to ${String(core.leaderId)}, not ${to}`));
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = true;
    // Start on a microtask, never inside the actor's own processing.
    this.flushDone = Promise.resolve()
      .then(() => this.flushLoop())
      .catch((error: unknown) => this.fail(error instanceof Error ? error : new Error(String(error))));
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.running && (this.outboxQueue.length > 0 || this.proposalQueue.length > 0)) {
        this.submitQueuedProposals();
        const batch = this.outboxQueue.splice(0, this.batchLength());
        if (batch.length === 0) continue;
        const { storage, transport } = this.options;
        let mustSync = false;
        for (const outbox of batch) {
          const { snapshot, entries, hardState } = outbox.persist;
          if (snapshot) storage.saveSnapshot(snapshot);
          if (entries && entries.length > 0) storage.append(entries);
          if (hardState) {
            storage.setHardState(hardState);
            // A new term or vote must be durable before anyone hears of it. A commit index alone need
            // not: commitment is a fact about the cluster, so it rides along with the next sync.
            mustSync ||= hardState.term !== this.writtenHardState.term || hardState.votedFor !== this.writtenHardState.votedFor;
            this.writtenHardState = hardState;
          }
          mustSync ||= snapshot !== undefined || (entries !== undefined && entries.length > 0);
        }
        // Persist before speaking: no vote or append reply may leave before what it promises is durable.
        if (mustSync) await storage.sync();
        if (!this.running) return;
        // Replies first: a follower's acknowledgement is what the leader waits for, and feeding
        // `log-synced` to the role machine (a full step) before it only delayed that. The order
        // does not matter for safety: both were decided before the sync.
        for (const outbox of batch) {
          for (const message of outbox.messages) if (!sentBeforePersist(message)) transport.send(message.to, message);
        }
        const synced = lastPersistedEntry(batch);
        if (synced) this.send({ type: 'log-synced', index: synced.index, term: synced.term });
        for (const outbox of batch) this.applyOutbox(outbox);
      }
    } finally {
      this.flushing = false;
    }
  }

  /**
   * How many queued outboxes go into the next sync. All of them, except that a new term or vote
   * starts a batch of its own: then every reply leaves while the disk holds exactly the term and
   * vote it was given under (a vote granted in term t is never sent after term t+1 overwrote it,
   * an acknowledgement never after a newer leader truncated what it acknowledged).
   */
  private batchLength(): number {
    let { term, votedFor } = this.writtenHardState;
    for (let position = 0; position < this.outboxQueue.length; position++) {
      const hardState = (this.outboxQueue[position] as Outbox).persist.hardState;
      if (!hardState || (hardState.term === term && hardState.votedFor === votedFor)) continue;
      if (position > 0) return position;
      ({ term, votedFor } = hardState);
    }
    return this.outboxQueue.length;
  }

  private submitQueuedProposals(): void {
    if (this.proposalQueue.length === 0) return;
    const waiters = this.proposalQueue.splice(0);
    const proposalId = this.nextProposalId++;
    this.submitted.set(proposalId, { kind: 'requests', waiters });
    this.send({ type: 'propose', proposalId, data: waiters.map((waiter) => waiter.data) });
    this.settleUnanswered(proposalId);
  }

  private applyOutbox(outbox: Outbox): void {
    if (outbox.applySnapshot) this.restoreSnapshot(outbox.applySnapshot);
    this.applyEntries(outbox.apply);
    for (const read of outbox.readStates) {
      const waiter = this.readWaiters.get(read.readId);
      if (!waiter) continue;
      this.readWaiters.delete(read.readId);
      this.readsAwaitingApply.push({ index: read.index, waiter });
    }
    this.releaseReads();
    if (outbox.snapshotRequest !== undefined) {
      // The state machine has applied everything this outbox (and the ones before) carried.
      this.send({ type: 'snapshot-taken', index: this.cluster.appliedIndex, data: this.cluster.snapshot() });
    }
  }

  private applyEntries(entries: readonly Entry[]): void {
    for (const entry of entries) {
      if (entry.index <= this.cluster.appliedIndex) continue;
      if (entry.type === 'normal') {
        const request = parseRequest(entry.data);
        if (!request) {
          this.cluster.skip(entry.index);
          this.settleIndex(entry, { ok: false, code: 'malformed_entry', message: `entry ${entry.index} is not a client request` });
          continue;
        }
        const result = this.cluster.apply(entry.index, request);
        this.options.onApply?.(entry.index, request, result);
        this.settleIndex(entry, result);
      } else {
        this.cluster.skip(entry.index);
        this.settleIndex(entry, undefined);
      }
    }
    if (entries.length > 0) this.options.onApplied?.(this.cluster.appliedIndex);
  }

  private settleIndex(entry: Entry, result: CommandResult | undefined): void {
    const requestWaiter = this.requestWaiters.get(entry.index);
    if (requestWaiter) {
      this.requestWaiters.delete(entry.index);
      if (requestWaiter.term === entry.term && result) requestWaiter.resolve(result);
      else requestWaiter.reject(overwritten(entry.index));
    }
    const configWaiter = this.configWaiters.get(entry.index);
    if (configWaiter) {
      this.configWaiters.delete(entry.index);
      if (configWaiter.term === entry.term && entry.type === 'config') configWaiter.resolve();
      else configWaiter.reject(overwritten(entry.index));
    }
  }

  /** A snapshot from the leader replaced our state: settle waiters it covers from the session table. */
  private restoreSnapshot(snapshot: Snapshot): void {
    this.cluster = ClusterState.restore(snapshot.data);
    this.options.onStateRestored?.();
    const sessions = this.cluster.view().sessions;
    for (const [index, waiter] of this.requestWaiters) {
      if (index > snapshot.lastIncludedIndex) continue;
      this.requestWaiters.delete(index);
      const session = waiter.request ? sessions[waiter.request.clientId] : undefined;
      if (session && waiter.request && session.seq === waiter.request.seq) waiter.resolve(session.result);
      else waiter.reject(new RaftError('outcome_unknown', `entry ${index} was compacted into a snapshot before this member applied it; retry with the same clientId/seq`));
    }
    for (const [index, waiter] of this.configWaiters) {
      if (index > snapshot.lastIncludedIndex) continue;
      this.configWaiters.delete(index);
      waiter.reject(new RaftError('outcome_unknown', `config entry ${index} was compacted before this member applied it; check status().membership`));
    }
  }

  private releaseReads(): void {
    if (this.readsAwaitingApply.length === 0) return;
    const applied = this.cluster.appliedIndex;
    const ready = this.readsAwaitingApply.filter((read) => read.index <= applied);
    this.readsAwaitingApply = this.readsAwaitingApply.filter((read) => read.index > applied);
    for (const read of ready) read.waiter.resolve(read.index);
  }

  private fail(error: Error, code: 'storage_failed' | 'internal_error' = 'storage_failed'): void {
    if (this.stopped) return;
    this.stopped = true;
    this.running = false;
    this.unsubscribeTransport?.();
    this.roleActor?.stop();
    this.rejectEverything(new RaftError(code, `raft member ${this.id} stopped: ${error.message}`, { cause: error }));
    this.options.onFatalError?.(error);
  }

  private rejectEverything(error: RaftError): void {
    const all: { reject(error: Error): void }[] = [
      ...this.proposalQueue,
      ...[...this.submitted.values()].flatMap((s): { reject(error: Error): void }[] => (s.kind === 'config' ? [s.waiter] : s.waiters)),
      ...this.requestWaiters.values(),
      ...this.configWaiters.values(),
      ...this.readWaiters.values(),
      ...this.readsAwaitingApply.map((read) => read.waiter),
      ...this.transferWaiters.map((t) => t.waiter),
    ];
    this.proposalQueue.length = 0;
    this.submitted.clear();
    this.requestWaiters.clear();
    this.configWaiters.clear();
    this.readWaiters.clear();
    this.readsAwaitingApply = [];
    this.transferWaiters = [];
    for (const waiter of all) waiter.reject(error);
  }
}

/**
 * What the leader sends needs nothing of its own disk: followers store entries durably before they
 * answer, and the leader counts itself only up to `log-synced`. So these leave at once, in parallel
 * with the leader's fsync (thesis §10.2.1). Replies and vote requests still wait for the sync.
 */
function sentBeforePersist(message: RaftMessage): boolean {
  return message.type === 'append-entries' || message.type === 'heartbeat' || message.type === 'install-snapshot' || message.type === 'timeout-now';
}

/** The last entry a batch made durable (a later truncation or snapshot in the batch counts, as on disk). */
function lastPersistedEntry(batch: readonly Outbox[]): { index: number; term: number } | undefined {
  let last: { index: number; term: number } | undefined;
  for (const outbox of batch) {
    const { snapshot, entries } = outbox.persist;
    if (snapshot) last = { index: snapshot.lastIncludedIndex, term: snapshot.lastIncludedTerm };
    const lastEntry = entries?.at(-1);
    if (lastEntry) last = { index: lastEntry.index, term: lastEntry.term };
  }
  return last;
}

function overwritten(index: number): RaftError {
  return new RaftError('entry_overwritten', `entry ${index} was replaced by a newer leader; retry with the same clientId/seq (it applies once)`);
}

function parseRequest(data: string): ClientRequest | undefined {
  try {
    const parsed = JSON.parse(data) as Partial<ClientRequest> | null;
    if (!parsed || typeof parsed.clientId !== 'string' || typeof parsed.seq !== 'number' || typeof parsed.command !== 'object' || parsed.command === null) return undefined;
    return parsed as ClientRequest;
  } catch {
    return undefined;
  }
}

export type { RaftErrorCode };
