import type { Command } from 'commander';
import type { JoinTokens } from '../../api/api-deps.ts';
import { CliError } from '../cli-error.ts';
import { writeLine, type CliIo } from '../cli-io.ts';
import { apiClientFor, withClientOptions, type ClientOptions } from '../client-options.ts';
import { ExitCode } from '../exit-codes.ts';
import { configOverrides, withDaemonOptions, type DaemonFlags } from './daemon.ts';

type SetExit = (code: number) => void;

interface TokensOptions extends ClientOptions {
  rotate?: string;
  json?: boolean;
}

/** The tokens and how to use them; `joinAddress` is a manager's cluster port when known. */
export function renderTokens(tokens: JoinTokens, joinAddress?: string): string {
  const join = joinAddress ?? 'MANAGER:7421';
  return [
    `cluster ${tokens.clusterId}`,
    `manager token: ${tokens.manager}`,
    `worker token:  ${tokens.worker}`,
    '',
    'Keep them secret: whoever holds one can join the cluster. To add a manager, on the new node:',
    `  constellation --join ${join} --token ${tokens.manager}`,
    `Rotate a token with \`constellation cluster tokens --rotate manager|worker\`.`,
  ].join('\n');
}

/**
 * `constellation cluster init` runs the daemon as the first manager of a new cluster (the
 * one-shot, explicit form of `--bootstrap`: it refuses a data directory that already belongs to a
 * cluster) and prints the join tokens once issued; `cluster tokens` prints or rotates them.
 */
export function registerClusterCommand(program: Command, io: CliIo, setExit: SetExit): Command {
  const cluster = program.command('cluster').description('start a cluster and manage its join tokens');

  withDaemonOptions(cluster.command('init')
    .description('start this daemon as the first manager of a new cluster and print the manager and worker join tokens; it keeps running as the daemon. Refused when the data dir already belongs to a cluster (restart such a daemon without init)'))
    .action(async (flags: DaemonFlags) => {
      if (flags.join !== undefined) throw new CliError(ExitCode.invalid, 'cluster init starts a new cluster: --join is for joining one (run the daemon with --join and --token instead)');
      const { runDaemonProcess } = await import('../../daemon/run-daemon-process.ts');
      setExit(await runDaemonProcess({
        ...(flags.config ? { configFile: flags.config } : {}),
        overrides: { ...configOverrides(flags), 'cluster.bootstrap': 'true' },
        env: io.env,
        stderr: io.stderr,
        init: { printTokens: (tokens, joinAddress) => writeLine(io.stdout, renderTokens(tokens, joinAddress)) },
      }));
    });

  withClientOptions(cluster.command('tokens')
    .description('print the manager and worker join tokens of the running cluster')
    .option('--rotate <role>', 'first replace the token of this role (manager or worker): the old one stops working at once')
    .option('--json', 'print JSON'))
    .action(async (options: TokensOptions) => {
      if (options.rotate !== undefined && options.rotate !== 'manager' && options.rotate !== 'worker') {
        throw new CliError(ExitCode.invalid, `--rotate takes manager or worker, got "${options.rotate}"`);
      }
      const client = apiClientFor(options, io);
      const tokens = options.rotate !== undefined
        ? await client.post<JoinTokens>('/v1/cluster/tokens/rotate', { role: options.rotate })
        : await client.get<JoinTokens>('/v1/cluster/tokens');
      if (options.json) writeLine(io.stdout, JSON.stringify(tokens, null, 2));
      else {
        if (options.rotate !== undefined) writeLine(io.stdout, `rotated the ${options.rotate} token; the old one no longer admits anyone`);
        writeLine(io.stdout, renderTokens(tokens, tokens.managers.join(',') || undefined));
      }
      setExit(ExitCode.ok);
    });
  return cluster;
}
