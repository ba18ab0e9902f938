import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const cliEntry = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));

export interface LogLine {
  readonly level?: number;
  readonly msg?: string;
  readonly [key: string]: unknown;
}

export interface DaemonProcessOptions {
  readonly configFile: string;
  readonly dockerHost: string;
  readonly dataDir: string;
  readonly apiPort: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly readyTimeoutMs?: number;
}

/**
 * A real `constellation` daemon process. Its JSON log (stdout is a pipe, so no pretty printing)
 * is parsed line by line; tests wait for log events instead of sleeping.
 */
export class DaemonProcess {
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  /** Resolves with how the process ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly waiters = new Set<{ match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }>();
  private ended = false;

  private constructor(readonly child: ChildProcess) {
    const stdout = createInterface({ input: child.stdout! });
    stdout.on('line', (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { msg: text, raw: true };
      }
      this.lines.push(line);
      for (const waiter of this.waiters) {
        if (waiter.match(line)) {
          this.waiters.delete(waiter);
          waiter.resolve(line);
        }
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString('utf8')));
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.ended = true;
        resolve({ code, signal });
      });
    });
  }

  static spawn(options: DaemonProcessOptions): DaemonProcess {
    const child = spawn(process.execPath, [
      '--import', 'tsx', cliEntry,
      '--config', options.configFile,
      '--docker-host', options.dockerHost,
      '--data-dir', options.dataDir,
      '--api-port', String(options.apiPort),
    ], { cwd: repoRoot, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    return new DaemonProcess(child);
  }

  /** `constellation ARGS` as given (e.g. `cluster init --config FILE`): a daemon started some other way. */
  static spawnCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): DaemonProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', cliEntry, ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    return new DaemonProcess(child);
  }

  /**
   * `constellation --config FILE` inside a network namespace (a netns-cluster node): nsenter
   * enters only the network namespace and then execs node, so the pid is the daemon's own and
   * kill('SIGKILL') is a real kill -9 of it. Everything but the network comes from the file.
   */
  static spawnInNetns(options: { readonly netnsPath: string; readonly configFile: string; readonly env?: NodeJS.ProcessEnv }): DaemonProcess {
    const child = spawn('nsenter', [
      `--net=${options.netnsPath}`,
      process.execPath, '--import', 'tsx', cliEntry,
      '--config', options.configFile,
    ], { cwd: repoRoot, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    return new DaemonProcess(child);
  }

  /** Spawns and waits for the "api listening" line; returns the daemon and its API address. */
  static async start(options: DaemonProcessOptions): Promise<{ daemon: DaemonProcess; url: string }> {
    const daemon = DaemonProcess.spawn(options);
    return { daemon, url: await daemon.untilListening(options.readyTimeoutMs ?? 60_000) };
  }

  /** Waits for the "api listening" line and returns the address logged; kills the daemon if it never comes. */
  async untilListening(timeoutMs: number): Promise<string> {
    try {
      const line = await this.waitForLog((l) => l.msg === 'api listening', timeoutMs);
      return String(line.address);
    } catch (error) {
      await this.kill('SIGKILL');
      throw error;
    }
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves with the first log line (past or future) matching; rejects if the process exits first. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs: number): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (line: LogLine) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`daemon log line not seen within ${timeoutMs} ms\n${this.describe()}`));
      }, timeoutMs);
      this.waiters.add(waiter);
      void this.exited.then(({ code, signal }) => {
        if (!this.waiters.has(waiter)) return;
        this.waiters.delete(waiter);
        clearTimeout(timer);
        reject(new Error(`daemon exited (code ${code}, signal ${signal}) before the awaited log line\n${this.describe()}`));
      });
    });
  }

  /** Sends a signal and waits for the process to end. */
  async kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.ended) this.child.kill(signal);
    return this.exited;
  }

  describe(): string {
    const log = this.lines.slice(-30).map((line) => JSON.stringify(line)).join('\n');
    return `--- last log lines ---\n${log}\n--- stderr ---\n${this.stderr.join('').slice(-4000)}`;
  }
}
