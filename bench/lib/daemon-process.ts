import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface DaemonProcessOptions {
  readonly repoRoot: string;
  readonly configFile: string;
  readonly dockerHost: string;
  readonly dataDir: string;
  readonly apiPort: number;
  readonly readyTimeoutMs: number;
  /** Every log line the daemon writes, for diagnosis. */
  readonly onLogLine?: (line: string) => void;
}

export interface DaemonProcess {
  readonly child: ChildProcess;
  readonly apiUrl: string;
  /** Headers every API request needs: the token the daemon generated into its data dir. */
  readonly apiHeaders: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

/**
 * Starts `constellation --config FILE` as its own process (as a user would) and resolves once it
 * logs "api listening" (the daemon's readiness line, per the API contract).
 */
export async function startDaemonProcess(options: DaemonProcessOptions): Promise<DaemonProcess> {
  const child = spawn(
    process.execPath,
    [
      // BENCH_DAEMON_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the daemon: a diagnosis knob.
      ...(process.env.BENCH_DAEMON_NODE_ARGS ? process.env.BENCH_DAEMON_NODE_ARGS.split(' ').filter(Boolean) : []),
      '--import', 'tsx', 'src/cli/main.ts',
      '--config', options.configFile,
      '--docker-host', options.dockerHost,
      '--data-dir', options.dataDir,
      '--api-port', String(options.apiPort),
    ],
    { cwd: options.repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
  );
  const recent: string[] = [];
  const remember = (line: string) => {
    recent.push(line);
    if (recent.length > 30) recent.shift();
    options.onLogLine?.(line);
  };
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), 15_000); });
    if ((await Promise.race([exited, late])) === 'late') {
      child.kill('SIGKILL');
      await exited;
    }
    clearTimeout(timer);
  };
  createInterface({ input: child.stderr }).on('line', remember);
  const ready = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      remember(line);
      if (line.includes('api listening')) resolve();
    });
    child.once('exit', (code, signal) => reject(new Error(`the daemon exited (${code ?? signal}) before "api listening":\n${recent.join('\n')}`)));
    child.once('error', reject);
    setTimeout(() => reject(new Error(`the daemon did not log "api listening" within ${options.readyTimeoutMs} ms:\n${recent.join('\n')}`)), options.readyTimeoutMs).unref();
  });
  try {
    await ready;
  } catch (error) {
    await stop();
    throw error;
  }
  const token = readFileSync(join(options.dataDir, 'api-token'), 'utf8').trim();
  return { child, apiUrl: `http://127.0.0.1:${options.apiPort}`, apiHeaders: { authorization: `Bearer ${token}` }, stop };
}
