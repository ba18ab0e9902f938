import type { MachineDescription } from './machine.ts';
import type { ContenderId } from './contender.ts';

export interface ContenderResult {
  readonly contender: ContenderId;
  readonly title: string;
  /** Seconds from the deploy command until all replicas run; absent when it failed. */
  readonly seconds?: number;
  readonly extraSeconds?: Readonly<Record<string, number>>;
  /** Every repetition's seconds (null for a failed one) when the benchmark ran more than once. */
  readonly samplesSeconds?: readonly (number | null)[];
  /** The machine's 1-minute load average when the timed deploy began: high values mean noisy numbers. */
  readonly loadAverage1m?: number;
  /** Container creates and starts the engine logged during the deploy (more than N means retries or replacements). */
  readonly engineCreates?: number;
  readonly engineStarts?: number;
  readonly error?: string;
}

export interface ReplicaRun {
  readonly replicas: number;
  readonly results: readonly ContenderResult[];
  /** a/b of seconds, e.g. "constellation/engine": 1.1 (lower is faster for the first). */
  readonly ratios: Readonly<Record<string, number>>;
}

export interface DeployBenchReport {
  readonly benchmark: 'deploy';
  readonly startedAt: string;
  /** `git describe --always --dirty` of the code measured. */
  readonly commit: string;
  readonly machine: MachineDescription;
  readonly method: string;
  readonly runs: readonly ReplicaRun[];
}

const ratioPairs: readonly [ContenderId, ContenderId][] = [
  ['constellation', 'engine'],
  ['constellation', 'swarm'],
  ['swarm', 'engine'],
  ['compose', 'engine'],
];

export function ratiosOf(results: readonly ContenderResult[]): Record<string, number> {
  const seconds = new Map(results.filter((r) => r.seconds !== undefined).map((r) => [r.contender, r.seconds as number]));
  const ratios: Record<string, number> = {};
  for (const [a, b] of ratioPairs) {
    const x = seconds.get(a);
    const y = seconds.get(b);
    if (x !== undefined && y !== undefined && y > 0) ratios[`${a}/${b}`] = round(x / y, 2);
  }
  return ratios;
}

export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** A plain-text table: one row per contender, one column per replica count. */
export function formatTable(report: DeployBenchReport): string {
  const counts = report.runs.map((run) => run.replicas);
  const contenders = [...new Map(report.runs.flatMap((run) => run.results.map((r) => [r.contender, r.title] as const))).entries()];
  const header = ['contender', ...counts.map((n) => `N=${n} (s)`), ...counts.map((n) => `N=${n} vs engine`)];
  const rows = contenders.map(([id, title]) => {
    const cells = report.runs.map((run) => {
      const result = run.results.find((r) => r.contender === id);
      return result?.seconds !== undefined ? result.seconds.toFixed(2) : result?.error !== undefined ? 'failed' : '-';
    });
    const vsEngine = report.runs.map((run) => {
      const mine = run.results.find((r) => r.contender === id)?.seconds;
      const engine = run.results.find((r) => r.contender === 'engine')?.seconds;
      return mine !== undefined && engine !== undefined && engine > 0 ? `${(mine / engine).toFixed(2)}x` : '-';
    });
    return [`${title}`, ...cells, ...vsEngine];
  });
  const table = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...table.map((row) => (row[column] ?? '').length)));
  const line = (row: readonly string[]) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ');
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  for (const run of report.runs) {
    const ratios = Object.entries(run.ratios).map(([pair, value]) => `${pair} = ${value}`).join(', ');
    if (ratios !== '') out.push(`N=${run.replicas}: ${ratios}`);
    for (const result of run.results) {
      if (result.error !== undefined) out.push(`N=${run.replicas} ${result.contender} failed: ${result.error.split('\n')[0]}`);
    }
  }
  return out.join('\n');
}
