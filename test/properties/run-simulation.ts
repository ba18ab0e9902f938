import type { RaftNode } from '../../src/raft/raft-node.ts';
import { ClusterSim, type SimClient } from '../../src/sim/cluster-sim.ts';
import { describeAction, type FaultSchedule } from '../../src/sim/fault-schedule.ts';
import { checkLinearizable } from '../../src/sim/linearizability.ts';
import { calmNetwork } from '../../src/sim/sim-network.ts';
import { scheduleForSeed } from './schedule-arbitrary.ts';

export const ELECTION_TIMEOUT_MS = 100;
export const HEARTBEAT_INTERVAL_MS = 10;
/**
 * Liveness bound, in virtual time after every fault heals (network healed, message faults off,
 * crashed members restarted at once): one leader that every member follows, and every log identical,
 * committed and applied, within 30 election timeouts (3 s with T = 100 ms). Generous on purpose: it
 * covers restarts, pre-vote, a few split votes with timeouts drawn from [T, 2T), check-quorum
 * step-downs and catch-up by InstallSnapshot. A miss is a liveness bug, not noise.
 */
export const LIVENESS_BOUND_MS = 30 * ELECTION_TIMEOUT_MS;

export interface SimulationOutcome {
  readonly seed: number;
  readonly nodeCount: number;
  readonly ok: boolean;
  readonly failure?: string;
  readonly virtualMs: number;
  readonly wallMs: number;
  readonly steps: number;
  /** Virtual ms from healing to convergence. */
  readonly convergedAfterMs?: number;
  readonly operations: number;
  readonly completedOperations: number;
  readonly committedEntries: number;
}

export function replayCommand(seed: number, nodeCount: number): string {
  return `SIM_SEED=${seed} npx vitest run test/properties/raft-${nodeCount}-nodes.property.test.ts`;
}

export function describeSchedule(schedule: FaultSchedule, ids: readonly string[]): string {
  const head = `${schedule.nodeCount} members (+${schedule.spareMembers} spare), ${schedule.clients} clients on ${schedule.keys} keys, safety phase ${schedule.safetyMs} ms, snapshot every ${schedule.snapshotEveryEntries}, clock drift ±${schedule.clockDriftPerMille}‰`;
  return [head, ...schedule.events.map((e) => `  t=${e.atMs}ms ${describeAction(e.action, ids)}`)].join('\n');
}

/** Runs one seed: safety phase under the seed's faults, heal, liveness, linearizability. */
export async function runSimulation(seed: number, nodeCount: number): Promise<SimulationOutcome> {
  const startedWallMs = performance.now();
  const schedule = scheduleForSeed(seed, nodeCount);
  const sim = new ClusterSim({
    seed,
    nodeCount,
    spareCount: schedule.spareMembers,
    electionTimeoutMs: ELECTION_TIMEOUT_MS,
    heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
    snapshotEveryEntries: schedule.snapshotEveryEntries,
    clockDriftPerMille: schedule.clockDriftPerMille,
  });
  let convergedAfterMs: number | undefined;
  let failure: string | undefined;
  try {
    convergedAfterMs = await drive(sim, schedule);
  } catch (error) {
    failure = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
  try {
    if (!(await sim.shutdown()) && failure === undefined) failure = "shutdown: a member's stop() did not settle within 10 s of virtual time";
  } catch (error) {
    failure ??= `shutdown threw: ${String(error)}`;
  }
  const counts = sim.history.counts();
  const summary = sim.invariants.summary();
  if (failure !== undefined) {
    failure = [
      `seed ${seed} (${nodeCount} members) failed at virtual t=${sim.clock.nowMs().toFixed(1)}ms:`,
      failure,
      'schedule:',
      describeSchedule(schedule, sim.ids),
      `replay: ${replayCommand(seed, nodeCount)}`,
    ].join('\n');
  }
  return {
    seed,
    nodeCount,
    ok: failure === undefined,
    ...(failure === undefined ? {} : { failure }),
    virtualMs: sim.clock.nowMs(),
    wallMs: performance.now() - startedWallMs,
    steps: summary.steps,
    ...(convergedAfterMs === undefined ? {} : { convergedAfterMs }),
    operations: counts.total,
    completedOperations: counts.completed,
    committedEntries: summary.committedEntries,
  };
}

async function drive(sim: ClusterSim, schedule: FaultSchedule): Promise<number> {
  await sim.start();
  const ids = sim.ids;
  const t0 = sim.clock.nowMs();

  // Clients run on the virtual clock alongside the faults.
  let clientsStop = false;
  let clientsRunning = 0;
  const clientErrors: unknown[] = [];
  const runClient = async (client: SimClient, index: number): Promise<void> => {
    const rng = sim.random.fork(`workload/${index}`);
    let n = 0;
    while (!clientsStop) {
      await sim.sleep(rng.int(0, schedule.maxThinkMs + 1));
      if (clientsStop) break;
      const key = `k${rng.int(0, schedule.keys)}`;
      const roll = rng.next();
      if (roll < 0.45) await client.put(key, `${client.clientId}.${n++}`);
      else if (roll < 0.9) await client.get(key);
      else await client.delete(key);
    }
  };
  for (let i = 0; i < schedule.clients; i++) {
    clientsRunning++;
    runClient(sim.client(`c${i}`), i).then(
      () => clientsRunning--,
      (error: unknown) => {
        clientsRunning--;
        clientErrors.push(error);
      },
    );
  }

  const crashAndRestartLater = (id: string, tornWrites: boolean, downMs: number): void => {
    if (!sim.node(id)) return;
    sim.crash(id, { tornWrites });
    sim.clock.setTimeout(() => {
      if (sim.downMembers().includes(id)) sim.restart(id);
    }, downMs);
  };

  // Learner first, then promotion once it has caught up (the leader refuses before that).
  const addMember = async (leader: RaftNode, id: string): Promise<void> => {
    try {
      await leader.addLearner(id);
    } catch {
      return;
    }
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        await leader.promoteLearner(id);
        return;
      } catch {
        await sim.sleep(50);
      }
    }
  };

  // Safety phase: apply each fault at its time; invariants are checked at every clock step.
  for (const event of schedule.events) {
    await sim.runFor(t0 + event.atMs - sim.clock.nowMs());
    const action = event.action;
    switch (action.kind) {
      case 'partition':
        sim.network.partition(action.groups.map((g) => g.map((i) => ids[i]!)));
        break;
      case 'one-way':
        sim.network.cutOneWay(ids[action.from]!, ids[action.to]!);
        break;
      case 'isolate':
        sim.network.isolate(ids[action.node]!);
        break;
      case 'heal':
        sim.network.heal();
        break;
      case 'network':
        sim.network.setFaults(action.faults);
        break;
      case 'crash':
        crashAndRestartLater(ids[action.node]!, action.tornWrites, action.downMs);
        break;
      case 'crash-leader': {
        const leader = sim.leader();
        if (leader) crashAndRestartLater(leader.id, action.tornWrites, action.downMs);
        break;
      }
      case 'add-member': {
        const spare = sim.unbootedSpares()[0];
        const leader = sim.leader();
        if (!spare || !leader) break;
        sim.join(spare);
        void addMember(leader, spare);
        break;
      }
      case 'remove-member': {
        const leader = sim.leader();
        const id = ids[action.node];
        if (leader && id !== undefined) void leader.removeMember(id).catch(() => undefined);
        break;
      }
      case 'isolate-leader': {
        const leader = sim.leader();
        if (leader) sim.network.isolate(leader.id);
        break;
      }
      case 'pause':
        sim.pause(ids[action.node]!, action.ms);
        break;
      case 'transfer-leader': {
        const leader = sim.leader();
        const to = ids[action.to]!;
        if (leader && leader.id !== to) void leader.transferLeadership(to).catch(() => undefined);
        break;
      }
    }
    if (clientErrors.length > 0) throw clientErrors[0];
  }
  await sim.runFor(t0 + schedule.safetyMs - sim.clock.nowMs());

  // Heal everything and demand liveness within the bound. Clients start no new operations (a
  // steady write stream would keep logs from ever being identical at one instant); the ones in
  // flight keep retrying and must finish.
  clientsStop = true;
  sim.network.heal();
  sim.network.setFaults(calmNetwork);
  for (const id of sim.downMembers()) sim.restart(id);
  const healedAtMs = sim.clock.nowMs();
  const describeMembers = (): string =>
    JSON.stringify(sim.statuses().map((s) => ({ id: s.id, role: s.role, term: s.term, leader: s.leaderId, last: s.lastLogIndex, commit: s.commitIndex, applied: s.appliedIndex })));
  if (!(await sim.runUntil(() => clientsRunning === 0 && sim.converged(), LIVENESS_BOUND_MS))) {
    throw new Error(`liveness: no convergence within ${LIVENESS_BOUND_MS} ms after healing (${clientsRunning} clients still busy); members: ${describeMembers()}`);
  }
  const convergedAfterMs = sim.clock.nowMs() - healedAtMs;
  if (clientErrors.length > 0) throw clientErrors[0];

  // A fresh write must commit and every member must converge on it.
  const probe = sim.client('liveness-probe');
  let probeDone: boolean | undefined;
  void probe.put('k0', 'after-heal').then((ok) => (probeDone = ok));
  await sim.runUntil(() => probeDone !== undefined, LIVENESS_BOUND_MS);
  if (probeDone !== true) throw new Error(`liveness: a write after healing did not commit within ${LIVENESS_BOUND_MS} ms`);
  if (!(await sim.runUntil(() => sim.converged(), LIVENESS_BOUND_MS))) throw new Error(`liveness: members did not converge on the post-heal write; members: ${describeMembers()}`);

  const history = sim.history.operations();
  const linearizable = checkLinearizable(history, { maxStepsPerKey: 2_000_000 });
  if (linearizable.ok !== true) throw new Error(`linearizability: ${linearizable.message}`);
  if (sim.history.anomalies.length > 0) throw new Error(`unexpected error results: ${sim.history.anomalies.slice(0, 5).join('; ')}`);
  return convergedAfterMs;
}

export { scheduleForSeed };
