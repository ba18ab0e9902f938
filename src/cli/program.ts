import { Command, CommanderError } from 'commander';
import { CliError } from './cli-error.ts';
import { writeLine, type CliIo } from './cli-io.ts';
import { registerClusterCommand } from './commands/cluster.ts';
import { registerDeployCommand } from './commands/deploy.ts';
import { runDaemonCommand, withDaemonOptions, type DaemonFlags } from './commands/daemon.ts';
import { registerEventsCommand } from './commands/events.ts';
import { registerInspectCommand } from './commands/inspect.ts';
import { registerNodeCommand } from './commands/node.ts';
import { registerPsCommand } from './commands/ps.ts';
import { registerRmCommand } from './commands/rm.ts';
import { registerServicesCommand } from './commands/services.ts';
import { registerRolloutCommands } from './commands/rollout.ts';
import { registerTokenCommand } from './commands/token.ts';
import { ExitCode } from './exit-codes.ts';
import { renderDiagnostics } from './render/diagnostics.ts';

const exitCodeHelp = `
Exit codes:
  0  ok
  1  failed: not converged in time, a service failed, or a server error
  2  usage or validation error (bad flags, invalid compose or config file, request refused)
  3  daemon unreachable
  4  unauthorized (missing or wrong --token)
  5  stack, service or node not found
  130  interrupted while waiting (the accepted change continues in the daemon)`;

/** The whole command line; `main.ts` runs it against the real process. */
export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('constellation')
    .description('Deploy docker-compose files to a cluster and keep them running.\nWithout a command, runs the daemon.')
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', exitCodeHelp)
    .exitOverride()
    // The daemon's options belong to the root; subcommands have their own (e.g. a client's --config).
    .enablePositionalOptions()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
  withDaemonOptions(program).action(async (flags: DaemonFlags) => setExit(await runDaemonCommand(flags, io)));
  withDaemonOptions(program.command('daemon').description('run the daemon (the same as giving no command)'))
    .action(async (flags: DaemonFlags) => setExit(await runDaemonCommand(flags, io)));
  registerDeployCommand(program, io, setExit);
  registerPsCommand(program, io, setExit);
  registerServicesCommand(program, io, setExit);
  registerRmCommand(program, io, setExit);
  registerRolloutCommands(program, io, setExit);
  registerEventsCommand(program, io, setExit);
  registerInspectCommand(program, io, setExit);
  registerNodeCommand(program, io, setExit);
  registerClusterCommand(program, io, setExit);
  registerTokenCommand(program, io, setExit);
  const withExitCodes = (command: Command): void => {
    command.exitOverride().addHelpText('after', exitCodeHelp);
    command.commands.forEach(withExitCodes);
  };
  program.commands.forEach(withExitCodes);
  return program;
}

/** Parses and runs; returns the exit code instead of exiting, so tests can call it. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const program = buildProgram(io, (code) => { exitCode = code; });
  // The root command runs the daemon and takes no arguments: a stray word is a mistyped command.
  const [first] = argv;
  if (first !== undefined && !first.startsWith('-') && !program.commands.some((command) => command.name() === first)) {
    writeLine(io.stderr, `error: unknown command '${first}' (commands: ${program.commands.map((command) => command.name()).join(', ')}; see --help)`);
    return ExitCode.invalid;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are successes; everything else commander rejects is a usage error.
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help' ? ExitCode.ok : ExitCode.invalid;
    }
    if (error instanceof CliError) {
      writeLine(io.stderr, `error: ${error.message}`);
      for (const line of renderDiagnostics(error.diagnostics)) writeLine(io.stderr, line);
      return error.exitCode;
    }
    writeLine(io.stderr, `error: ${(error as Error).message ?? String(error)}`);
    return ExitCode.failed;
  }
}
