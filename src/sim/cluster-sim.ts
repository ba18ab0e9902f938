import type { ClientRequest, CommandResult } from '../cluster/commands.ts';
import { NotLeaderError, RaftError } from '../raft/errors.ts';
import type { RaftMessage } from '../raft/messages.ts';
import { createRaftNode, type RaftNode, type RaftStatus } from '../raft/raft-node.ts';
import type { NodeId } from '../raft/types.ts';
import { InvariantChecker, type MemberView } from './invariants.ts';
import { HistoryRecorder } from './history.ts';
import { SeededRandom } from './seeded-random.ts';
import { calmNetwork, SimNetwork, type NetworkFaults } from './sim-network.ts';
import { lastIndexOf, SimStorage } from './sim-storage.ts';
import type { Clock } from '../seams/clock.ts';
import { ClockScope, VirtualClock } from './virtual-clock.ts';

export interface ClusterSimOptions {
  readonly seed: number | string;
  readonly nodeCount: number;
  /**
   * Extra members that are not part of the founding membership: they boot on demand (`join`)
   * without an initial membership and wait for a leader to add them.
   */
  readonly spareCount?: number;
  readonly electionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  readonly snapshotEveryEntries?: number;
  readonly maxEntriesPerAppend?: number;
  readonly faults?: NetworkFaults;
  /** Each member's clock runs at 1 ± up to this many per mille of true time (fixed per member). */
  readonly clockDriftPerMille?: number;
  /** Told of every entry a member applies (e.g. to drive a leader's reconcilers off its state). */
  readonly onApply?: (id: NodeId, index: number, request: ClientRequest, result: CommandResult) => void;
  /** Told after each batch a member applies, no-op and membership entries included (the daemon's hook). */
  readonly onApplied?: (id: NodeId, appliedIndex: number) => void;
  /** Told when a member's incarnation finished starting (to run a daemon beside it on its clock). */
  readonly onStarted?: (id: NodeId, node: RaftNode, clock: Clock, incarnation: number) => void;
  /** Runs after the Raft invariants at every clock step (further invariants; throw to stop the run). */
  readonly onStep?: () => void;
}

interface Member {
  readonly id: NodeId;
  readonly storage: SimStorage;
  node: RaftNode | undefined;
  scope: ClockScope | undefined;
  incarnation: number;
  /** How fast this member's clock runs relative to true time (drift), same across restarts. */
  readonly clockRate: number;
  /** True once start() resolved for the current incarnation. */
  started: boolean;
}

export class ClusterSimError extends Error {
  constructor(
    readonly code: 'sim_start_failed' | 'sim_unknown_node' | 'sim_node_down' | 'sim_node_up',
    message: string,
  ) {
    super(message);
    this.name = 'ClusterSimError';
  }
}

/**
 * An N-member cluster of the real RaftNode (the code production runs) on simulated seams: one
 * virtual clock, one seeded random source, an in-memory faulty network and crash-lossy disks.
 * Everything — timeouts, delays, drops, fault times, client choices — derives from `seed`, so a run
 * replays exactly. Invariants are checked after every clock step; the first violation stops the run
 * with an InvariantViolationError that names the property, member and virtual time.
 */
export class ClusterSim {
  readonly clock = new VirtualClock();
  readonly random: SeededRandom;
  readonly network: SimNetwork<RaftMessage>;
  readonly invariants: InvariantChecker;
  readonly history = new HistoryRecorder();
  /** Every member the simulation knows: founders first, then spares. */
  readonly ids: readonly NodeId[];
  readonly founders: readonly NodeId[];
  private readonly members = new Map<NodeId, Member>();
  readonly electionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  private readonly startErrors: unknown[] = [];

  constructor(readonly options: ClusterSimOptions) {
    this.random = new SeededRandom(options.seed);
    this.electionTimeoutMs = options.electionTimeoutMs ?? 100;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 10;
    this.network = new SimNetwork<RaftMessage>(this.clock, this.random.fork('network'), options.faults ?? calmNetwork);
    this.invariants = new InvariantChecker(() => this.clock.nowMs());
    this.ids = Array.from({ length: options.nodeCount + (options.spareCount ?? 0) }, (_, i) => `n${i + 1}`);
    this.founders = this.ids.slice(0, options.nodeCount);
    const driftPerMille = options.clockDriftPerMille ?? 0;
    for (const id of this.ids) {
      const storage = new SimStorage(id, this.clock, this.random.fork(`disk/${id}`));
      storage.pausedUntilMs = () => this.pausedUntilMs(id);
      storage.observe({
        appended: (entries, prevTerm) => this.invariants.onAppend(id, entries, prevTerm),
        durableHardState: (hardState) => this.invariants.onDurableHardState(id, hardState),
      });
      const clockRate = 1 + ((this.random.fork(`drift/${id}`).next() * 2 - 1) * driftPerMille) / 1000;
      this.members.set(id, { id, storage, node: undefined, scope: undefined, incarnation: 0, clockRate, started: false });
    }
    this.network.setPauseLookup((id) => this.pausedUntilMs(id));
    this.network.observe((event) => {
      if (event.kind !== 'send') return;
      const member = this.members.get(event.from);
      if (member) this.invariants.onSend(event.from, event.message, member.storage.durableView());
    });
    this.clock.onStep(() => {
      this.invariants.checkStep(this.liveViews());
      this.invariants.throwIfViolated();
      if (this.startErrors.length > 0) throw new ClusterSimError('sim_start_failed', `a member failed to start: ${String(this.startErrors[0])}`);
      this.options.onStep?.();
    });
  }

  /** Starts every founding member. */
  async start(): Promise<void> {
    for (const id of this.founders) this.boot(this.member(id));
    await this.clock.runUntil(() => this.founders.every((id) => this.member(id).started), 10_000);
    if (!this.founders.every((id) => this.member(id).started)) throw new ClusterSimError('sim_start_failed', 'members did not finish starting within 10 s of virtual time');
  }

  /** Power loss on one member: timers die, the network endpoint closes, unsynced writes are lost. */
  crash(id: NodeId, options: { tornWrites?: boolean; loseDisk?: boolean } = {}): void {
    const member = this.member(id);
    if (!member.node) throw new ClusterSimError('sim_node_down', `${id} is already down`);
    member.scope?.kill();
    this.network.disconnect(id);
    if (options.loseDisk) member.storage.wipe();
    else member.storage.crash(options);
    const node = member.node;
    member.node = undefined;
    member.scope = undefined;
    member.started = false;
    // Release the dead incarnation's resources; it is fenced from clock, network and disk already.
    void node.stop().catch(() => undefined);
  }

  /** Boots a new incarnation on the same disk. Completes while the clock runs. */
  restart(id: NodeId): void {
    const member = this.member(id);
    if (member.node) throw new ClusterSimError('sim_node_up', `${id} is running; crash it first`);
    this.boot(member);
  }

  /** Freezes a running member's process for `ms` (GC pause, VM stall): no timers, messages or fsync completions. */
  pause(id: NodeId, ms: number): void {
    this.member(id).scope?.pause(ms);
  }

  /** True time at which the member's current pause ends (≤ now when it is not paused). */
  pausedUntilMs(id: NodeId): number {
    return this.members.get(id)?.scope?.pausedUntilMs() ?? 0;
  }

  /** The member's clock rate relative to true time (its drift, fixed per member). */
  clockRateOf(id: NodeId): number {
    return this.member(id).clockRate;
  }

  /** The member's own clock (drift, pauses, dies with a crash): for code that runs beside its Raft member. */
  clockOf(id: NodeId): Clock | undefined {
    return this.members.get(id)?.scope;
  }

  isUp(id: NodeId): boolean {
    return this.member(id).started;
  }

  node(id: NodeId): RaftNode | undefined {
    const member = this.member(id);
    return member.started ? member.node : undefined;
  }

  statuses(): RaftStatus[] {
    return this.ids.flatMap((id) => {
      const node = this.node(id);
      return node ? [node.status()] : [];
    });
  }

  /** The live member that leads the highest term, if any. */
  leader(): RaftNode | undefined {
    let best: RaftStatus | undefined;
    for (const status of this.statuses()) if (status.role === 'leader' && (!best || status.term > best.term)) best = status;
    return best ? this.node(best.id) : undefined;
  }

  /** Members that have been booted at least once and are down now (crashed). */
  downMembers(): NodeId[] {
    return this.ids.filter((id) => {
      const member = this.member(id);
      return !member.node && member.incarnation > 0;
    });
  }

  /** Spares never booted yet. */
  unbootedSpares(): NodeId[] {
    return this.ids.filter((id) => !this.founders.includes(id) && this.member(id).incarnation === 0);
  }

  /** Boots a spare member with no membership: it waits until a leader adds it. */
  join(id: NodeId): void {
    const member = this.member(id);
    if (member.node || member.incarnation > 0) throw new ClusterSimError('sim_node_up', `${id} has already been started`);
    this.boot(member);
  }

  async runFor(ms: number): Promise<void> {
    await this.clock.advance(ms);
  }

  async runUntil(predicate: () => boolean, limitMs: number): Promise<boolean> {
    return this.clock.runUntil(predicate, limitMs);
  }

  /**
   * One leader for the highest term; every member of its membership (voters and learners) up,
   * following it in that term, with a log identical to its own (same last index and term) that is
   * fully committed and applied. Members outside the membership (removed, or spares never added)
   * are ignored.
   */
  converged(): boolean {
    const statuses = this.statuses();
    let leader: RaftStatus | undefined;
    for (const status of statuses) if (status.role === 'leader' && (!leader || status.term > leader.term)) leader = status;
    if (!leader) return false;
    const byId = new Map(statuses.map((s) => [s.id, s]));
    const members = [...leader.membership.voters, ...leader.membership.learners];
    return members.every((id) => {
      const s = byId.get(id);
      return (
        s !== undefined &&
        s.term === leader.term &&
        (s.id === leader.id ? s.role === 'leader' : s.role === 'follower' && s.leaderId === leader.id) &&
        s.lastLogIndex === leader.lastLogIndex &&
        s.lastLogTerm === leader.lastLogTerm &&
        s.commitIndex === leader.lastLogIndex &&
        s.appliedIndex === leader.lastLogIndex
      );
    });
  }

  /**
   * Stops every member gracefully. stop() may wait for an fsync in flight, which completes only as
   * virtual time passes, so the clock keeps running until every stop has settled. Returns false
   * when some member's stop() did not settle within 10 s of virtual time.
   */
  async shutdown(): Promise<boolean> {
    // Teardown is not part of the run: no invariant checks while members stop.
    this.clock.onStep(undefined);
    let pending = 0;
    for (const member of this.members.values()) {
      const node = member.node;
      member.node = undefined;
      member.started = false;
      if (!node) continue;
      pending++;
      node.stop().then(
        () => pending--,
        () => pending--,
      );
    }
    const settled = await this.clock.runUntil(() => pending === 0, 10_000);
    for (const member of this.members.values()) member.scope?.kill();
    return settled;
  }

  /** A client that sends requests through whichever member leads, with retries. */
  client(clientId: string): SimClient {
    return new SimClient(this, clientId, this.random.fork(`client/${clientId}`));
  }

  private member(id: NodeId): Member {
    const member = this.members.get(id);
    if (!member) throw new ClusterSimError('sim_unknown_node', `no member "${id}" (members: ${this.ids.join(', ')})`);
    return member;
  }

  private liveViews(): MemberView[] {
    const views: MemberView[] = [];
    for (const member of this.members.values()) {
      const node = member.node;
      if (!node || !member.started) continue;
      views.push({
        id: member.id,
        incarnation: member.incarnation,
        status: () => node.status(),
        entry: (index) => node.entries(index, index)[0],
        log: () => member.storage.view(),
        durableLog: () => member.storage.durableView(),
      });
    }
    return views;
  }

  private boot(member: Member): void {
    member.incarnation++;
    const incarnation = member.incarnation;
    const scope = new ClockScope(this.clock, member.clockRate);
    const node = createRaftNode({
      id: member.id,
      ...(this.founders.includes(member.id) ? { initialMembership: { voters: [...this.founders], learners: [] } } : {}),
      storage: member.storage.open(),
      transport: this.network.endpoint(member.id),
      clock: scope,
      random: this.random.fork(`raft/${member.id}/${incarnation}`),
      electionTimeoutMs: this.electionTimeoutMs,
      heartbeatIntervalMs: this.heartbeatIntervalMs,
      ...(this.options.snapshotEveryEntries === undefined ? {} : { snapshotEveryEntries: this.options.snapshotEveryEntries }),
      ...(this.options.maxEntriesPerAppend === undefined ? {} : { maxEntriesPerAppend: this.options.maxEntriesPerAppend }),
      onApply: (index, request, result) => {
        if (member.incarnation !== incarnation) return;
        this.invariants.onApply(member.id, index, request, result);
        this.options.onApply?.(member.id, index, request, result);
      },
      onApplied: (appliedIndex) => {
        if (member.incarnation === incarnation) this.options.onApplied?.(member.id, appliedIndex);
      },
    });
    member.node = node;
    member.scope = scope;
    member.started = false;
    node.start().then(
      () => {
        if (member.incarnation !== incarnation || member.node !== node) return;
        member.started = true;
        this.invariants.onStarted({
          id: member.id,
          incarnation,
          status: () => node.status(),
          entry: (index) => node.entries(index, index)[0],
          log: () => member.storage.view(),
          durableLog: () => member.storage.durableView(),
        });
        this.options.onStarted?.(member.id, node, scope, incarnation);
      },
      (error: unknown) => {
        if (member.incarnation === incarnation) this.startErrors.push(error);
      },
    );
  }

  /** @internal for SimClient: a virtual-time timeout around a promise that may never settle. */
  withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
    return new Promise((resolve) => {
      let settled = false;
      const timer = this.clock.setTimeout(() => {
        if (settled) return;
        settled = true;
        resolve({ ok: false, error: new ClientTimeoutError(timeoutMs) });
      }, timeoutMs);
      promise.then(
        (value) => {
          if (settled) return;
          settled = true;
          this.clock.clearTimeout(timer);
          resolve({ ok: true, value });
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          this.clock.clearTimeout(timer);
          resolve({ ok: false, error });
        },
      );
    });
  }

  /** @internal for SimClient. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimeout(resolve, ms));
  }

  /** @internal the last index every live member has, for tests. */
  lastIndexes(): Record<NodeId, number> {
    return Object.fromEntries(this.ids.map((id) => [id, lastIndexOf(this.member(id).storage.view())]));
  }
}

export class ClientTimeoutError extends Error {
  readonly code = 'sim_client_timeout';
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms (virtual)`);
    this.name = 'ClientTimeoutError';
  }
}

export interface ClientOptions {
  /** Per-attempt timeout. */
  readonly attemptTimeoutMs?: number;
  /** Give up (leaving the operation without a response) after this long. */
  readonly deadlineMs?: number;
}

/**
 * A client with a session (clientId, seq): a write is retried with the SAME seq until a leader
 * answers, so it applies at most once; reads go through ReadIndex on the leader. Each operation is
 * recorded in the cluster's history with invoke/response stamps for the linearizability check;
 * one that never got an answer is recorded without a response (it may or may not have happened).
 */
export class SimClient {
  private seq = 0;
  private leaderHint: NodeId | undefined;
  stats = { attempts: 0, notLeader: 0, timeouts: 0, otherErrors: 0, gaveUp: 0 };

  constructor(
    private readonly sim: ClusterSim,
    readonly clientId: string,
    private readonly random: SeededRandom,
  ) {}

  put(key: string, value: string, options: ClientOptions = {}): Promise<boolean> {
    return this.write(key, { type: 'put', key, value }, { kind: 'put', value }, options);
  }

  delete(key: string, options: ClientOptions = {}): Promise<boolean> {
    return this.write(key, { type: 'delete', key }, { kind: 'delete' }, options);
  }

  /** Returns true when the operation got a response. */
  async get(key: string, options: ClientOptions = {}): Promise<boolean> {
    const op = this.sim.history.invoke(this.clientId, key, { kind: 'get' });
    const give = this.sim.clock.nowMs() + (options.deadlineMs ?? 2_000);
    while (this.sim.clock.nowMs() < give) {
      const node = this.pickNode();
      if (!node) {
        await this.sim.sleep(this.backoffMs());
        continue;
      }
      this.stats.attempts++;
      await this.untilResumed(node);
      if (this.sim.node(node.id) !== node) continue;
      const outcome = await this.sim.withTimeout(
        node.readIndex().then(() => node.state().view().kv[key]),
        options.attemptTimeoutMs ?? 300,
      );
      if (outcome.ok) {
        this.sim.history.respond(op, outcome.value);
        return true;
      }
      await this.afterFailure(outcome.error);
    }
    this.stats.gaveUp++;
    return false;
  }

  private async write(key: string, command: { type: 'put'; key: string; value: string } | { type: 'delete'; key: string }, input: { kind: 'put'; value: string } | { kind: 'delete' }, options: ClientOptions): Promise<boolean> {
    const seq = ++this.seq;
    const request = { clientId: this.clientId, seq, command };
    const op = this.sim.history.invoke(this.clientId, key, input);
    const give = this.sim.clock.nowMs() + (options.deadlineMs ?? 2_000);
    while (this.sim.clock.nowMs() < give) {
      const node = this.pickNode();
      if (!node) {
        await this.sim.sleep(this.backoffMs());
        continue;
      }
      this.stats.attempts++;
      await this.untilResumed(node);
      if (this.sim.node(node.id) !== node) continue;
      const outcome = await this.sim.withTimeout<CommandResult>(node.propose(request), options.attemptTimeoutMs ?? 300);
      if (outcome.ok) {
        const result = outcome.value;
        if (result.ok) this.sim.history.respond(op, result.previous);
        else this.sim.history.anomaly(op, `${result.code}: ${result.message}`);
        return result.ok;
      }
      await this.afterFailure(outcome.error);
    }
    this.stats.gaveUp++;
    return false;
  }

  /** A request to a frozen process is read only when it resumes. */
  private async untilResumed(node: RaftNode): Promise<void> {
    const waitMs = this.sim.pausedUntilMs(node.id) - this.sim.clock.nowMs();
    if (waitMs > 0) await this.sim.sleep(waitMs);
  }

  private pickNode(): RaftNode | undefined {
    const hinted = this.leaderHint === undefined ? undefined : this.sim.node(this.leaderHint);
    if (hinted) return hinted;
    const up = this.sim.ids.filter((id) => this.sim.isUp(id));
    if (up.length === 0) return undefined;
    return this.sim.node(this.random.pick(up));
  }

  private backoffMs(): number {
    return 5 + this.random.int(0, 20);
  }

  private async afterFailure(error: unknown): Promise<void> {
    if (error instanceof NotLeaderError) {
      this.stats.notLeader++;
      this.leaderHint = error.leaderId;
    } else {
      if (error instanceof ClientTimeoutError) this.stats.timeouts++;
      else if (error instanceof RaftError) this.stats.otherErrors++;
      else throw error;
      this.leaderHint = undefined;
    }
    await this.sim.sleep(this.backoffMs());
  }
}
