import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ClusterNode } from '../../../test/support/netns-cluster-client.ts';

const script = fileURLToPath(new URL('./http-client.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface Target {
  readonly host: string;
  readonly port: number;
}

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly megabytesPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface ProbeResult {
  readonly sent: number;
  readonly failed: number;
  readonly failures: readonly { readonly atMs: number; readonly error: string }[];
  readonly seconds: number;
}

function spawnClient(node: ClusterNode, args: readonly string[]) {
  return spawn('nsenter', [`--net=${node.netnsPath}`, process.execPath, '--import', 'tsx', script, ...args], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Runs the load client inside the node's namespace and returns its one JSON line. */
export function runLoad(node: ClusterNode, options: { targets: readonly Target[]; path: string; concurrency: number; durationMs: number }): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawnClient(node, ['load', JSON.stringify(options)]);
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
    });
    child.stdin.end();
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`load client exited ${code}: ${err.slice(-500)}`));
      else resolve(JSON.parse(out.trim().split('\n').at(-1)!) as LoadResult);
    });
  });
}

/** Starts the prober inside the node's namespace; resolves once it sends, with a stop function. */
export async function startProbe(node: ClusterNode, options: { targets: readonly Target[]; path: string; intervalMs: number }): Promise<{ stop(): Promise<ProbeResult> }> {
  const child = spawnClient(node, ['probe', JSON.stringify(options)]);
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  const lines = createInterface({ input: child.stdout });
  const queue: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  lines.on('line', (line) => {
    const waiter = waiters.shift();
    if (waiter) waiter(line);
    else queue.push(line);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const nextLine = (): Promise<string> => {
    const queued = queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return Promise.race([
      new Promise<string>((resolve) => waiters.push(resolve)),
      exited.then((code) => {
        throw new Error(`prober exited ${code}: ${err.slice(-500)}`);
      }),
    ]);
  };
  const first = await nextLine();
  if (first !== 'probing') throw new Error(`prober said ${first}`);
  return {
    async stop() {
      child.stdin.end('stop\n');
      return JSON.parse(await nextLine()) as ProbeResult;
    },
  };
}
