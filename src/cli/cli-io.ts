/** Where a command writes; tests pass buffers, main passes the process streams. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  /** Resolves when the user presses Ctrl-C (SIGINT) while a command waits. */
  readonly interrupted?: Promise<void>;
}

export function writeLine(stream: NodeJS.WritableStream, line = ''): void {
  stream.write(`${line}\n`);
}
