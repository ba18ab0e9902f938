/** One write that resolves once committed, or rejects. */
export type CommitWrite = (key: string, value: string) => Promise<void>;

export interface LoadResult {
  readonly clients: number;
  readonly durationMs: number;
  readonly writes: number;
  readonly errors: number;
  readonly writesPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export function percentile(sortedMs: readonly number[], p: number): number {
  if (sortedMs.length === 0) return NaN;
  const rank = Math.min(sortedMs.length - 1, Math.max(0, Math.ceil((p / 100) * sortedMs.length) - 1));
  return sortedMs[rank]!;
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

/**
 * `clients` closed-loop clients, each issuing one write at a time for `durationMs`; a write's
 * latency runs from sending it to its commit being acknowledged.
 */
export async function runClosedLoopLoad(options: { clients: number; durationMs: number; valueBytes: number; keySpace: number; write: CommitWrite }): Promise<LoadResult & { readonly latenciesMs: number[] }> {
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  const end = start + options.durationMs;
  const value = (n: number): string => `${n.toString(36)}-`.padEnd(options.valueBytes, 'v').slice(0, options.valueBytes);
  const client = async (c: number): Promise<void> => {
    for (let n = 0; performance.now() < end; n++) {
      const key = `bench-${c}-${n % options.keySpace}`;
      const t0 = performance.now();
      try {
        await options.write(key, value(n));
        latencies.push(performance.now() - t0);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, (_, c) => client(c)));
  const elapsedMs = performance.now() - start;
  return { ...summarizeLoad(options.clients, elapsedMs, latencies, errors), latenciesMs: latencies };
}

/** Throughput and latency percentiles of one or more runs pooled together. */
export function summarizeLoad(clients: number, elapsedMs: number, latenciesMs: readonly number[], errors: number): LoadResult {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return {
    clients,
    durationMs: Math.round(elapsedMs),
    writes: sorted.length,
    errors,
    writesPerSec: Math.round(sorted.length / (elapsedMs / 1000)),
    p50Ms: round2(percentile(sorted, 50)),
    p99Ms: round2(percentile(sorted, 99)),
    maxMs: round2(sorted[sorted.length - 1] ?? NaN),
  };
}
