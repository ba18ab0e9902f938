import type { Command } from 'commander';
import { writeLine, type CliIo } from '../cli-io.ts';
import { localToken, withClientOptions, type ClientOptions } from '../client-options.ts';
import { ExitCode } from '../exit-codes.ts';

interface TokenOptions extends ClientOptions {
  readOnly?: boolean;
}

/**
 * Prints an API token as the CLI finds it (flags, environment, the config, the daemon's generated
 * file), to hand to a viewer or another machine. It asks no daemon: the token files are local.
 */
export function registerTokenCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withClientOptions(program.command('token')
    .description('print the API token (the admin one, or with --read-only the viewers\' token that cannot change anything)')
    .option('--read-only', 'the read-only token: reads, /v1/events, /v1/inspect, /metrics and the pages; every write answers 403'))
    .action((options: TokenOptions) => {
      writeLine(io.stdout, localToken(options, io, options.readOnly ? 'read-only' : 'admin'));
      setExit(ExitCode.ok);
    });
}
