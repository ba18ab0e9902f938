/**
 * One seed of the whole-cluster property (issue 7): a random cluster (3 managers, 1–2 workers),
 * network and clock drift within the failover bound, a deploy that converges, then a random
 * schedule of faults — machine crashes (the leader's too), symmetric partitions, one-way cuts,
 * an isolated leader, process pauses shorter than the grace, message loss, a scale under faults —
 * then everything heals. Checked after every clock step: no at-most-once replica on two engines,
 * no committed deploy missing. After the heal: every replica on exactly one node within
 * CONVERGE_WITHIN_MS, stale copies stopped.
 */
import { convergenceProblems, runningCopies, safetyViolations, type CommittedDeploy } from '../../src/sim/whole-cluster-checks.ts';
import { SeededRandom } from '../../src/sim/seeded-random.ts';
import { calmNetwork, type NetworkFaults } from '../../src/sim/sim-network.ts';
import { WholeClusterSim } from '../../src/sim/whole-cluster-sim.ts';
import { CLOCK_DRIFT_BOUND } from '../../src/orchestrator/failover/failover-timing.ts';
import { workload } from './whole-cluster-workload.ts';

/** Virtual time from the heal until every replica runs on exactly one node (see README). */
export const CONVERGE_WITHIN_MS = 30_000;
/** Pauses stay below the grace: a longer freeze of a node's process is outside the fencing guarantee. */
const MAX_PAUSE_MS = 1500;

export interface WholeClusterOutcome {
  readonly seed: number;
  readonly ok: boolean;
  readonly failure?: string;
  readonly schedule: readonly string[];
  readonly virtualMs: number;
  readonly wallMs: number;
  readonly convergedAfterMs?: number;
}

export function wholeClusterReplay(seed: number, file: string): string {
  return `SIM_SEED=${seed} npx vitest run ${file}`;
}

class Violation extends Error {}

export async function runWholeCluster(seed: number): Promise<WholeClusterOutcome> {
  const started = performance.now();
  const random = new SeededRandom(`schedule/${seed}`);
  const lossy = random.chance(0.6);
  const faults: NetworkFaults = lossy
    ? { minDelayMs: 1, maxDelayMs: 5 + random.int(0, 20), dropRate: random.next() * 0.1, duplicateRate: random.next() * 0.05, slowRate: random.next() * 0.05 }
    : calmNetwork;
  const committed: CommittedDeploy[] = [];
  const workers = random.int(1, 3);
  const schedule: string[] = [`3 managers, ${workers} workers, clocks within ±${CLOCK_DRIFT_BOUND * 100} %`, `network ${JSON.stringify(faults)}`];
  const atMostOnce = new Set(['app/db']);
  let checking = false;
  const sim: WholeClusterSim = new WholeClusterSim({
    seed,
    managers: 3,
    workers,
    faults: calmNetwork,
    clockDriftPerMille: CLOCK_DRIFT_BOUND * 1000,
    onStep: () => {
      if (!checking) return;
      const problems = safetyViolations(sim, atMostOnce, committed);
      if (problems.length > 0) throw new Violation(`at ${sim.clock.nowMs().toFixed(0)} ms: ${problems.join('; ')}`);
    },
  });
  const at = (): string => `${sim.clock.nowMs().toFixed(0)} ms`;
  try {
    await sim.start();
    if (!(await sim.clock.runUntil(() => sim.allReady(), 10_000))) throw new Error('setup: the leader did not hear every node');
    const deployed = await sim.deploy('app', workload(3 + random.int(0, 4)));
    if (!deployed.result.ok) throw new Error(`setup: deploy refused: ${JSON.stringify(deployed.result)}`);
    committed.push({ stack: 'app', appliedIndex: deployed.appliedIndex });
    if (!(await sim.clock.runUntil(() => convergenceProblems(sim).length === 0, 20_000))) throw new Error(`setup: no convergence: ${convergenceProblems(sim).join('; ')}`);
    checking = true;
    sim.raft.network.setFaults(faults);
    const crashed = new Set<string>();
    const steps = random.int(2, 6);
    for (let i = 0; i < steps; i++) {
      await sim.clock.advance(300 + random.int(0, 1700));
      const leader = sim.leader()?.id;
      const up = sim.nodeIds.filter((id) => !crashed.has(id));
      const pick = (ids: readonly string[]): string | undefined => (ids.length === 0 ? undefined : ids[random.int(0, ids.length)]);
      const singleton = runningCopies(sim).get('app/db/1')?.[0];
      switch (random.int(0, 11)) {
        case 0: {
          const id = pick(up);
          if (id) {
            sim.crash(id);
            crashed.add(id);
            schedule.push(`${at()} crash ${id}`);
          }
          break;
        }
        case 1:
          if (leader && !crashed.has(leader)) {
            sim.crash(leader);
            crashed.add(leader);
            schedule.push(`${at()} crash the leader ${leader}`);
          }
          break;
        case 2: {
          const id = pick([...crashed]);
          if (id) {
            sim.restart(id);
            crashed.delete(id);
            schedule.push(`${at()} restart ${id}`);
          }
          break;
        }
        case 3: {
          const side = sim.nodeIds.filter(() => random.chance(0.5));
          sim.raft.network.partition([side, sim.nodeIds.filter((id) => !side.includes(id))]);
          schedule.push(`${at()} partition [${side.join(',')}] from the rest`);
          break;
        }
        case 4: {
          const from = pick(sim.nodeIds)!;
          const to = pick(sim.nodeIds.filter((id) => id !== from))!;
          sim.raft.network.cutOneWay(from, to);
          schedule.push(`${at()} cut ${from} → ${to} one way`);
          break;
        }
        case 5:
          if (leader) {
            sim.raft.network.isolate(leader);
            schedule.push(`${at()} isolate the leader ${leader}`);
          }
          break;
        case 6: {
          const id = pick(up);
          const ms = 200 + random.int(0, MAX_PAUSE_MS - 200);
          if (id) {
            sim.pause(id, ms);
            schedule.push(`${at()} pause ${id} for ${ms} ms`);
          }
          break;
        }
        case 7: {
          const replicas = 2 + random.int(0, 5);
          const pending = sim.startSubmit(sim.deployCommand('app', workload(replicas)));
          schedule.push(`${at()} scale web to ${replicas}`);
          const record = (): void => {
            if (pending.outcome?.result.ok) committed.push({ stack: 'app', appliedIndex: pending.outcome.appliedIndex });
            else if (!pending.outcome) sim.clock.setTimeout(record, 50);
          };
          record();
          break;
        }
        case 8:
          // The fencing case itself: the node running the at-most-once replica is cut off.
          if (singleton) {
            sim.raft.network.isolate(singleton);
            schedule.push(`${at()} isolate ${singleton}, which runs app/db`);
          }
          break;
        case 10: {
          // kill -9 of a daemon whose engine lives on; a supervisor restarts it soon after.
          const id = pick(up);
          if (!id) break;
          sim.killDaemon(id);
          crashed.add(id);
          const downMs = 200 + random.int(0, 1300);
          schedule.push(`${at()} kill -9 the daemon of ${id} (engine lives), restarted ${downMs} ms later`);
          sim.clock.setTimeout(() => {
            if (!crashed.delete(id)) return;
            sim.restart(id);
          }, downMs);
          break;
        }
        case 9: {
          if (!singleton) break;
          const with_ = pick(sim.nodeIds.filter((id) => id !== singleton))!;
          sim.raft.network.partition([[singleton, with_], sim.nodeIds.filter((id) => id !== singleton && id !== with_)]);
          schedule.push(`${at()} partition [${singleton},${with_}] (app/db runs on ${singleton}) from the rest`);
          break;
        }
      }
    }
    await sim.clock.advance(300 + random.int(0, 1700));
    sim.raft.network.heal();
    sim.raft.network.setFaults(calmNetwork);
    const down = [...crashed];
    crashed.clear();
    for (const id of down) sim.restart(id);
    schedule.push(`${at()} heal${down.length > 0 ? `, restart ${down.join(',')}` : ''}`);
    const healedAt = sim.clock.nowMs();
    const converged = await sim.clock.runUntil(() => convergenceProblems(sim).length === 0, CONVERGE_WITHIN_MS);
    if (!converged) throw new Error(`not converged ${CONVERGE_WITHIN_MS} ms after the heal: ${convergenceProblems(sim).join('; ')}`);
    return { seed, ok: true, schedule, virtualMs: sim.clock.nowMs(), wallMs: performance.now() - started, convergedAfterMs: sim.clock.nowMs() - healedAt };
  } catch (error) {
    const failure = error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error);
    return { seed, ok: false, failure, schedule, virtualMs: sim.clock.nowMs(), wallMs: performance.now() - started };
  } finally {
    checking = false;
    await sim.shutdown();
  }
}
