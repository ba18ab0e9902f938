import type { Command } from 'commander';
import type { ContainerInfo } from '../../api/api-deps.ts';
import { writeLine, type CliIo } from '../cli-io.ts';
import { apiClientFor, withClientOptions, type ClientOptions } from '../client-options.ts';
import { ExitCode } from '../exit-codes.ts';
import { renderTable } from '../render/table.ts';
import { requireKnownStack } from '../require-stack.ts';

interface PsOptions extends ClientOptions {
  stack?: string;
  json?: boolean;
}

export function registerPsCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withClientOptions(program.command('ps')
    .description('list the containers the daemon manages')
    .option('-s, --stack <name>', 'only this stack')
    .option('--json', 'print JSON instead of a table'))
    .action(async (options: PsOptions) => {
      const query = options.stack ? `?stack=${encodeURIComponent(options.stack)}` : '';
      const client = apiClientFor(options, io);
      const containers = await client.get<ContainerInfo[]>(`/v1/containers${query}`);
      await requireKnownStack(client, options.stack, containers.length);
      if (options.json) {
        writeLine(io.stdout, JSON.stringify(containers, null, 2));
      } else {
        writeLine(io.stdout, renderTable(['NAME', 'STATE', 'HEALTH', 'RESTARTS', 'IMAGE', 'CONTAINER ID', 'MESSAGE'], containers.map((container) => [
          container.name,
          container.state,
          container.health,
          String(container.restarts),
          container.image,
          container.containerId?.slice(0, 12) ?? '-',
          container.message ?? '',
        ])));
      }
      setExit(ExitCode.ok);
    });
}
