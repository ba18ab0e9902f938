// An HTTP client process for bench:rollout, run inside a node's network namespace (nsenter), so
// "loopback" is that machine's. Every request opens a fresh connection (no keep-alive): each one
// is a new choice of backend for a forwarder, as a prober of a rolling update needs.
//   load:  node --import tsx http-client.ts load '{"targets":[{"host","port"}],"path":"/","concurrency":8,"durationMs":5000}'
//          → one JSON line: requests, errors, bytes, seconds, latency percentiles (ms)
//   probe: node --import tsx http-client.ts probe '{"targets":[...],"path":"/","intervalMs":5}'
//          sends one request at a time until stdin closes or says "stop", then prints one JSON line:
//          sent, failed, the first failures' messages and when they happened
import http from 'node:http';
import { createInterface } from 'node:readline';

interface Target {
  readonly host: string;
  readonly port: number;
}

function get(target: Target, path: string, timeoutMs: number): Promise<{ ok: boolean; bytes: number; error?: string }> {
  return new Promise((resolve) => {
    let bytes = 0;
    const request = http.get({ host: target.host, port: target.port, path, agent: false, timeout: timeoutMs }, (response) => {
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      response.on('end', () => resolve(response.statusCode === 200 ? { ok: true, bytes } : { ok: false, bytes, error: `HTTP ${response.statusCode}` }));
      response.on('error', (error) => resolve({ ok: false, bytes, error: error.message }));
    });
    request.on('timeout', () => request.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    request.on('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, bytes, error: error.code ?? error.message }));
  });
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function load(options: { targets: Target[]; path: string; concurrency: number; durationMs: number }): Promise<void> {
  const latencies: number[] = [];
  let errors = 0;
  let bytes = 0;
  let next = 0;
  const started = performance.now();
  const until = started + options.durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < until) {
      const target = options.targets[next++ % options.targets.length]!;
      const t0 = performance.now();
      const result = await get(target, options.path, 10_000);
      if (result.ok) latencies.push(performance.now() - t0);
      else errors += 1;
      bytes += result.bytes;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  process.stdout.write(`${JSON.stringify({
    requests: latencies.length, errors, bytes, seconds,
    requestsPerSecond: latencies.length / seconds, megabytesPerSecond: bytes / 2 ** 20 / seconds,
    p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99),
  })}\n`);
}

async function probe(options: { targets: Target[]; path: string; intervalMs: number }): Promise<void> {
  let stop = false;
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() === 'stop') stop = true;
  }).on('close', () => {
    stop = true;
  });
  let sent = 0;
  let failed = 0;
  const failures: { atMs: number; error: string }[] = [];
  const started = Date.now();
  process.stdout.write('probing\n');
  while (!stop) {
    const target = options.targets[sent % options.targets.length]!;
    const t0 = performance.now();
    sent += 1;
    const result = await get(target, options.path, 2_000);
    if (!result.ok) {
      failed += 1;
      if (failures.length < 50) failures.push({ atMs: Date.now() - started, error: result.error ?? 'failed' });
    }
    const wait = options.intervalMs - (performance.now() - t0);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  process.stdout.write(`${JSON.stringify({ sent, failed, failures, seconds: (Date.now() - started) / 1000 })}\n`);
}

const [mode, json] = process.argv.slice(2);
const options = JSON.parse(json ?? '{}') as never;
if (mode === 'load') await load(options);
else if (mode === 'probe') await probe(options);
else throw new Error('usage: http-client.ts load|probe JSON');
