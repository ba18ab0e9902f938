import { spawn } from 'node:child_process';

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunCommandOptions {
  readonly input?: string | Buffer | NodeJS.ReadableStream;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Kill the command and reject after this long; commands here are never meant to hang. */
  readonly timeoutMs?: number;
}

/** Runs a command to completion; rejects with its stderr when it exits non-zero. */
export function runCommand(file: string, args: readonly string[], options: RunCommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timeoutMs = options.timeoutMs ?? 600_000;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${file}: ${error.message}`, { cause: error }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
      if (code === 0) resolve(result);
      else {
        const how = signal !== null ? `was killed by ${signal}` : `exited with ${code}`;
        reject(new Error(`${file} ${args.join(' ')} ${how}: ${result.stderr.trim() || result.stdout.trim()}`));
      }
    });
    const input = options.input;
    if (input === undefined) child.stdin.end();
    else if (typeof input === 'string' || Buffer.isBuffer(input)) child.stdin.end(input);
    else input.pipe(child.stdin);
    // A command that exits before reading all input would otherwise crash us with EPIPE.
    child.stdin.on('error', () => undefined);
  });
}
